/**
 * Managed servers with the real OpenCode binary: the port it prints is the one it listens on,
 * a kill -9 is restarted by the policy, a binary that ignores SIGTERM is SIGKILLed after 5 s,
 * 50 start/stop cycles leave no zombie and no orphan, and a password-protected server is watched
 * by a monitor that knows the password (and refused to one that does not).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listenSockets, socketInode } from '../../src/core/discovery/procParsers';
import { MemoryLogger } from '../../src/core/log';
import { createMonitor } from '../../src/core/createMonitor';
import type { Monitor } from '../../src/core/monitor/monitor';
import type { InstanceModel, MonitorSnapshot } from '../../src/core/model/model';
import { ServerManager } from '../../src/core/servers/serverManager';
import type { ServerManagerOptions } from '../../src/core/servers/serverManager';
import type { ManagedServerInfo, ManagedServerState } from '../../src/core/servers/types';
import { createLab, createSession, promptAsync } from '../harness/opencodeLab';
import type { Lab } from '../harness/opencodeLab';
import { descendantsOf, isAlive, listProcesses, toolChildrenOf, waitForExit } from '../harness/processes';
import { untilServers } from '../harness/untilServers';
import { untilSnapshot } from '../harness/untilSnapshot';

const figures = { startup: [] as number[], graceful: [] as number[], forced: [] as number[] };

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

/** Pids listening on 127.0.0.1:port, from /proc/net/tcp and the processes' socket fds. */
function listenersOf(port: number, pids: number[]): number[] {
  const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => {
    try {
      return fs.readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  });
  const inodes = new Set([...listenSockets(tables)].filter(([, a]) => a.port === port).map(([inode]) => inode));
  return pids.filter((pid) => {
    try {
      return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
        try {
          const inode = socketInode(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
          return inode !== undefined && inodes.has(inode);
        } catch {
          return false;
        }
      });
    } catch {
      return false;
    }
  });
}

function until(m: ServerManager, test: (list: ManagedServerInfo[]) => boolean, label: string, timeoutMs = 40_000): Promise<ManagedServerInfo[]> {
  return untilServers(m, test, label, timeoutMs);
}

function untilMonitor<T>(monitor: Monitor, test: (s: MonitorSnapshot) => T | undefined | false, label: string, timeoutMs = 30_000): Promise<T> {
  return untilSnapshot(monitor, test, label, timeoutMs, (snap) => snap.instances.map((i) => `${i.url}=${i.connection}/${i.error ?? ''}`).join(', '));
}

describe('managed servers with the real OpenCode', { timeout: 300_000 }, () => {
  let lab: Lab;
  const managers: ServerManager[] = [];

  before(async () => {
    lab = await createLab();
  });

  after(async () => {
    await Promise.all(managers.map((m) => m.dispose()));
    await lab?.stopAll();
    console.log(`# managed: startup ms median ${median(figures.startup)} over ${figures.startup.length} starts (min ${Math.min(...figures.startup)}, max ${Math.max(...figures.startup)})`);
    console.log(`# managed: graceful stop ms ${figures.graceful.length ? `median ${median(figures.graceful)} over ${figures.graceful.length} (max ${Math.max(...figures.graceful)})` : 'n/a'}`);
    console.log(`# managed: forced stop ms ${figures.forced.join(', ') || 'n/a'}`);
  });

  function manager(options: Partial<ServerManagerOptions> = {}): ServerManager {
    const m = new ServerManager({ logger: new MemoryLogger(), logDir: path.join(lab.root, 'logs'), binary: lab.bin, env: lab.env, ...options });
    // Every pid it ever runs is the lab's to kill if a test fails half way.
    m.onDidChange((list) => {
      for (const info of list) {
        if (info.pid !== undefined) lab.track(info.pid);
        if (info.state === 'running' && info.startupMs !== undefined && !seen.has(`${info.pid}`)) {
          seen.add(`${info.pid}`);
          figures.startup.push(info.startupMs);
        }
      }
    });
    managers.push(m);
    return m;
  }
  const seen = new Set<string>();

  it('a: runs on the port it printed, answers, logs; a stop ends its busy bash tool too', async () => {
    const m = manager();
    const handle = await m.start(lab.projectDir('a'));
    const info = handle.info();
    assert.equal(info.state, 'running');
    assert.ok(info.pid && info.port && info.url);
    const log = fs.readFileSync(info.logFile!, 'utf8');
    const printed = /\[stdout\] opencode server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(log);
    assert.equal(Number(printed?.[1]), info.port, 'the port in info() is the one from stdout');
    const res = await fetch(`${info.url}/global/health`, { signal: AbortSignal.timeout(5_000) });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { healthy?: boolean }).healthy, true);
    assert.deepEqual(listenersOf(info.port, [info.pid]), [info.pid], `pid ${info.pid} listens on ${info.port}`);
    assert.match(log, /running after \d+ ms/);

    // A bash tool runs `sleep 30` in a session of its own (setsid): the stop must end it too.
    const session = await createSession({ url: info.url }, 'managed stop');
    await promptAsync({ url: info.url }, session, 'scenario:sleep 30');
    const deadline = Date.now() + 30_000;
    let kids = toolChildrenOf(info.pid);
    while (kids.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      kids = toolChildrenOf(info.pid);
    }
    assert.ok(kids.length > 0, 'the bash tool started');
    kids.forEach((k) => lab.track(k.pid));
    const t0 = Date.now();
    await m.stop(info.id);
    const ms = Date.now() - t0;
    figures.graceful.push(ms);
    assert.ok(!isAlive(info.pid));
    for (const k of kids) assert.ok(!isAlive(k.pid), `tool child ${k.pid} (${k.args.join(' ')}) survived`);
    const stopped = handle.info();
    assert.equal(stopped.state, 'stopped');
    assert.equal(stopped.lastStopForced, false);
    assert.deepEqual(m.list(), []);
  });

  it('b: kill -9 → crashed → restarted by the policy (same id, new pid, restarts 1)', async () => {
    const m = manager();
    const handle = await m.start(lab.projectDir('b'));
    const first = handle.info();
    const states: ManagedServerState[] = [];
    m.onDidChange(([i]) => i && states[states.length - 1] !== i.state && states.push(i.state));
    process.kill(first.pid!, 'SIGKILL');
    const [again] = await until(m, ([i]) => i?.state === 'running' && i.pid !== first.pid, 'running again');
    assert.equal(again?.id, first.id);
    assert.equal(again?.restarts, 1);
    assert.notEqual(again?.pid, first.pid);
    assert.deepEqual(states.slice(0, 4), ['crashed', 'starting', 'waitingReady', 'running']);
    assert.ok(!isAlive(first.pid!));
    assert.equal((await fetch(`${again!.url}/global/health`, { signal: AbortSignal.timeout(5_000) })).status, 200);
    const log = fs.readFileSync(again!.logFile!, 'utf8');
    assert.match(log, /crashed: killed by SIGKILL/);
    assert.match(log, /restarting in 1000 ms/);
    const t0 = Date.now();
    await m.stop(first.id);
    figures.graceful.push(Date.now() - t0);
    assert.ok(!isAlive(again!.pid!));
  });

  it('c: a binary that ignores SIGTERM is SIGKILLed after 5 s, with its opencode child', async () => {
    const wrapper = path.join(lab.root, 'ignore-term-opencode');
    fs.copyFileSync(path.join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ignoreTermWrapper.sh'), wrapper);
    fs.chmodSync(wrapper, 0o755);
    const m = manager({ binary: wrapper, env: { ...lab.env, OCM_REAL_OPENCODE: lab.bin } });
    const handle = await m.start(lab.projectDir('c'));
    const info = handle.info();
    const children = descendantsOf(info.pid!).map((p) => p.pid);
    assert.ok(children.length > 0, 'the wrapper runs opencode');
    children.forEach((pid) => lab.track(pid));
    assert.equal(listenersOf(info.port!, children).length, 1, 'its opencode child listens on the port');
    const t0 = Date.now();
    await m.stop(info.id);
    const ms = Date.now() - t0;
    figures.forced.push(ms);
    const stopped = handle.info();
    assert.equal(stopped.lastStopForced, true);
    assert.ok(ms >= 5_000 && ms < 7_000, `stop took ${ms} ms`);
    assert.ok(!isAlive(info.pid!), 'wrapper survived');
    for (const pid of children) assert.ok(!isAlive(pid), `child ${pid} survived`);
    assert.match(fs.readFileSync(stopped.logFile!, 'utf8'), /still running 5000 ms after SIGTERM: SIGKILL/);
  });

  it('e: password-protected: a monitor with the password connects, one without is told "password required"', async () => {
    const m = manager();
    const password = 'managed-lab-secret';
    const handle = await m.start(lab.projectDir('e'), { password });
    const info = handle.info();
    assert.equal(info.passwordProtected, true);
    assert.equal(m.passwordFor(info.url!), password);
    assert.equal((await fetch(`${info.url}/global/health`, { signal: AbortSignal.timeout(5_000) })).status, 401);
    const logger = new MemoryLogger();
    const withPassword = createMonitor({ logger, discoverLocal: false, endpoints: [{ url: info.url!, password }] }).start();
    const without = createMonitor({ logger, discoverLocal: false, endpoints: [{ url: info.url! }] }).start();
    try {
      const find = (s: MonitorSnapshot): InstanceModel | undefined => s.instances.find((i) => i.url === info.url);
      await untilMonitor(withPassword, (s) => find(s)?.connection === 'connected', 'connected with the password');
      const refused = await untilMonitor(without, (s) => { const i = find(s); return i?.connection === 'down' && i; }, 'down without the password');
      assert.equal(refused.error, 'password required');
    } finally {
      await withPassword.dispose();
      await without.dispose();
    }
    assert.ok(!logger.text().includes(password));
    await m.stop(info.id);
    assert.ok(!fs.readFileSync(info.logFile!, 'utf8').includes(password));
  });

  it('d: 50 start/stop cycles (at spawn, while waiting, after running) leave no zombie and no orphan', async () => {
    const m = manager({ logDir: undefined });
    const dir = lab.projectDir('d');
    const pids: number[] = [];
    const kinds = { spawn: 0, waiting: 0, running: 0 };
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) {
      const mode = i % 5 === 0 || i % 5 === 2 ? 'spawn' : i % 5 === 4 ? 'running' : 'waiting';
      const start = m.start(dir);
      start.catch(() => undefined);
      const info = m.list()[0]!;
      assert.ok(info.pid, `cycle ${i}: spawned synchronously`);
      pids.push(info.pid);
      if (mode === 'waiting') await until(m, ([s]) => s?.state === 'waitingReady' || s?.state === 'running', `cycle ${i} waitingReady`);
      if (mode === 'running') await start;
      if (mode === 'spawn' && i % 5 === 2) await new Promise((r) => setTimeout(r, 300));
      const state = m.list()[0]!.state;
      kinds[state === 'running' ? 'running' : state === 'waitingReady' ? 'waiting' : 'spawn']++;
      await m.stop(info.id);
      assert.ok(!isAlive(info.pid), `cycle ${i} (${mode}): pid ${info.pid} still runs`);
      if (state !== 'running') await assert.rejects(start, /stopped before it was ready/);
    }
    const seconds = Math.round((Date.now() - t0) / 100) / 10;
    console.log(`# managed: 50 cycles in ${seconds} s (stopped while starting ${kinds.spawn}, waiting ${kinds.waiting}, running ${kinds.running})`);
    for (const pid of pids) assert.ok(await waitForExit(pid, 1_000), `pid ${pid} still runs`);
    const procs = listProcesses({ env: true });
    const zombies = procs.filter((p) => p.ppid === process.pid && p.state === 'Z');
    assert.deepEqual(zombies.map((p) => `${p.pid} ${p.args.join(' ')}`), [], 'zombie children');
    const orphans = procs.filter((p) => p.env?.HOME === lab.home && p.state !== 'Z');
    assert.deepEqual(orphans.map((p) => `${p.pid} (ppid ${p.ppid}) ${p.args.join(' ')}`), [], 'processes left with the lab HOME');
  });
});
