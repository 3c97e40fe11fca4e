/**
 * Managed servers against a fake `opencode serve` (test/fixtures/fakeOpencode.ts) that starts in
 * milliseconds: the failure paths the real binary does not take on cue (exit during startup,
 * never printing its port, never answering, a wrong password, stopping answering, ignoring
 * SIGTERM, setsid tool children). Every process is checked gone by pid afterwards.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { ServerManager, NOT_FOUND_MESSAGE } from '../../src/core/servers/serverManager';
import type { ManagedServerInfo } from '../../src/core/servers/types';
import type { ServerManagerOptions } from '../../src/core/servers/serverManager';
import { isAlive, readProcess, signalPid, toolChildrenOf, waitForExit } from '../harness/processes';
import { untilServers } from '../harness/untilServers';

const FAKE = path.join(__dirname, '..', 'fixtures', 'fakeOpencode.js');

let root: string;
let bin: string;
const started = new Set<number>();
const managers: ServerManager[] = [];

before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-managed-fake-'));
  bin = path.join(root, 'fake-opencode');
  // A real executable, as the setting or PATH would give one.
  fs.writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${FAKE}' "$@"\n`, { mode: 0o755 });
});

afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.dispose()));
  // Whatever a failed test left: by pid, with what it started.
  for (const pid of started) {
    for (const c of toolChildrenOf(pid)) signalPid(c.pid, 'SIGKILL');
    signalPid(-pid, 'SIGKILL');
  }
  const alive = [...started].filter(isAlive);
  started.clear();
  assert.deepEqual(alive, [], 'processes left behind');
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = path.join(root, 'projects', name);
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function manager(env: NodeJS.ProcessEnv = {}, options: Partial<ServerManagerOptions> = {}): ServerManager {
  const m = new ServerManager({
    logger: new MemoryLogger(),
    logDir: path.join(root, 'logs'),
    binary: bin,
    env: { ...process.env, OPENCODE_SERVER_PASSWORD: undefined, FAKE_MODE: 'ok', ...env },
    timing: { restartBackoff: { initialMs: 50, maxMs: 200 } },
    ...options,
  });
  // Remember every pid any server of it ever had, so cleanup can check each one.
  m.onDidChange((list) => list.forEach((i) => i.pid !== undefined && started.add(i.pid)));
  managers.push(m);
  return m;
}

function until(m: ServerManager, test: (list: ManagedServerInfo[]) => boolean, label: string, timeoutMs = 15_000): Promise<ManagedServerInfo[]> {
  return untilServers(m, test, label, timeoutMs);
}

describe('managed servers (fake opencode)', { timeout: 120_000 }, () => {
  it('starts, answers, logs, and stops by SIGTERM', async () => {
    const m = manager({ FAKE_ECHO: 'hello from the fake' });
    const dir = folder('ok');
    const states: string[] = [];
    m.onDidChange((list) => {
      const s = list[0]?.state;
      if (s && states[states.length - 1] !== s) states.push(s);
    });
    const handle = await m.start(dir);
    const info = handle.info();
    assert.equal(info.state, 'running');
    assert.equal(info.id, 'srv-1');
    assert.equal(info.folder, dir);
    assert.equal(info.url, `http://127.0.0.1:${info.port}`);
    assert.equal(info.passwordProtected, false);
    assert.equal(info.restarts, 0);
    assert.ok(info.pid && isAlive(info.pid));
    assert.ok((info.startupMs ?? -1) >= 0 && info.spawnedAt && info.runningSince);
    assert.equal(readProcess(info.pid)?.pgid, info.pid, 'leads its own process group');
    const res = await fetch(`${info.url}/global/health`, { signal: AbortSignal.timeout(2_000) });
    assert.equal(res.status, 200);
    assert.equal(m.byPid(info.pid)?.id, info.id);
    assert.equal(m.byFolder(dir)?.id, info.id);
    assert.equal(m.get(info.id), handle);

    // The same folder again: the same server, no second process.
    const again = await m.start(dir + '/');
    assert.equal(again, handle);
    assert.equal(m.list().length, 1);

    await m.stop(info.id);
    assert.ok(!isAlive(info.pid));
    assert.deepEqual(m.list(), []);
    assert.deepEqual(states, ['starting', 'waitingReady', 'running', 'stopping', 'stopped']);
    const after = handle.info();
    assert.equal(after.lastStopForced, false);
    assert.ok((after.lastStopMs ?? 99_999) < 2_000, `stop took ${after.lastStopMs} ms`);
    assert.equal(after.pid, undefined);
    assert.equal(after.url, undefined);
    const log = fs.readFileSync(info.logFile!, 'utf8');
    assert.match(log, /\[stdout\] hello from the fake/);
    assert.match(log, /\[stdout\] opencode server listening on http:\/\/127\.0\.0\.1:\d+\n/, 'the line split across two writes is joined');
    assert.match(log, /spawned pid \d+: .*fake-opencode serve --port 0 --hostname 127\.0\.0\.1/);
    assert.match(log, /running after \d+ ms/);
    assert.match(log, /stopped in \d+ ms/);
    assert.match(path.basename(info.logFile!), /^srv-1-ok-[0-9a-f]{8}\.log$/);
    assert.equal(fs.statSync(info.logFile!).mode & 0o777, 0o600, 'only its user reads the log');
  });

  it('concurrent starts of one folder share one process', async () => {
    const m = manager();
    const dir = folder('twice');
    const [a, b] = await Promise.all([m.start(dir), m.start(dir)]);
    assert.equal(a, b);
    assert.equal(m.list().length, 1);
    const other = await m.start(folder('other'));
    assert.notEqual(other.id, a.id);
    assert.equal(m.list().length, 2);
    await m.stopAll();
    assert.deepEqual(m.list(), []);
  });

  it('exit during startup: a clear error with the last stderr lines, crashed, not restarted', async () => {
    const m = manager({ FAKE_MODE: 'exit' });
    await assert.rejects(m.start(folder('exit')), (error: Error) => {
      assert.match(error.message, /^OpenCode server for .*exit did not start: exited with code 3 before it answered\nlast stderr lines:\n {2}fake: loading config\n {2}Error: fake failure for the test$/);
      return true;
    });
    await new Promise((r) => setTimeout(r, 300));
    const [info] = m.list();
    assert.equal(info?.state, 'crashed');
    assert.equal(info?.restarts, 0);
    assert.match(info?.lastError ?? '', /exited with code 3 before it answered\nlast stderr lines:/);
    assert.equal(info?.pid, undefined);
    await m.stop(info!.id);
    assert.deepEqual(m.list(), []);
  });

  it('binary missing, not executable, not found on PATH; folder missing', async () => {
    const missing = manager({}, { binary: path.join(root, 'nope') });
    await assert.rejects(missing.start(folder('enoent')), /could not start .*nope: file not found \(ENOENT\)/);
    assert.equal(missing.list()[0]?.state, 'crashed');

    const plain = path.join(root, 'not-executable');
    fs.writeFileSync(plain, '#!/bin/sh\n', { mode: 0o644 });
    await assert.rejects(manager({}, { binary: plain }).start(folder('eacces')), /could not start .*not-executable: permission denied, not executable\? \(EACCES\)/);

    const none = manager({}, { binary: () => { throw new Error(NOT_FOUND_MESSAGE); } });
    await assert.rejects(none.start(folder('nobin')), { message: `OpenCode server for ${folder('nobin')} did not start: ${NOT_FOUND_MESSAGE}` });
    assert.equal(none.list()[0]?.lastError, NOT_FOUND_MESSAGE);

    await assert.rejects(manager().start(path.join(root, 'no-such-folder')), /cannot be used: ENOENT/);
  });

  it('never prints its port / never answers: timeout error, process tree killed', async () => {
    const silent = manager({ FAKE_MODE: 'silent' }, { startupTimeoutMs: 800 });
    const t0 = Date.now();
    await assert.rejects(silent.start(folder('silent')), /did not print "opencode server listening on …" within 0\.8 s/);
    assert.ok(Date.now() - t0 < 3_000);
    for (const pid of started) assert.ok(!isAlive(pid), `pid ${pid} still runs`);

    const deaf = manager({ FAKE_MODE: 'deaf' }, { startupTimeoutMs: 1_500 });
    await assert.rejects(deaf.start(folder('deaf')), /did not answer GET \/global\/health on http:\/\/127\.0\.0\.1:\d+ within 1\.5 s \(last try: GET \/global\/health on .*: no answer within 1000 ms\)/);
    assert.equal(deaf.list()[0]?.state, 'crashed');
    for (const pid of started) assert.ok(!isAlive(pid), `pid ${pid} still runs`);
  });

  it('password: given to the server, used by the probes, never shown or logged; inherited one too', async () => {
    const secret = 'pw-Secret-12345';
    const m = manager({ FAKE_ECHO: `the password is ${secret}` });
    const handle = await m.start(folder('pw'), { password: secret });
    const info = handle.info();
    assert.equal(info.passwordProtected, true);
    assert.ok(!JSON.stringify(m.list()).includes(secret));
    assert.equal(m.passwordFor(info.url!), secret);
    assert.equal(m.passwordFor(info.url!.replace('127.0.0.1', 'localhost') + '/'), secret);
    assert.equal(m.passwordFor('http://127.0.0.1:1'), undefined);
    assert.equal((await fetch(`${info.url}/global/health`, { signal: AbortSignal.timeout(2_000) })).status, 401);
    await m.stop(info.id);
    const log = fs.readFileSync(info.logFile!, 'utf8');
    assert.ok(!log.includes(secret), 'password in the log');
    assert.match(log, /the password is \*\*\*/);

    const inherited = manager({ OPENCODE_SERVER_PASSWORD: 'inherited-pw' });
    const h2 = await inherited.start(folder('pw2'));
    assert.equal(h2.info().passwordProtected, true);
    assert.equal(inherited.passwordFor(h2.info().url!), 'inherited-pw');
  });

  it('a 401 with its own password fails the start at once', async () => {
    const m = manager({ FAKE_REQUIRE_PASSWORD: 'something-else' });
    const t0 = Date.now();
    await assert.rejects(m.start(folder('401'), { password: 'mine' }), /answers 401: GET \/global\/health on http:\/\/127\.0\.0\.1:\d+: password rejected \(401\)/);
    assert.ok(Date.now() - t0 < 5_000);
  });

  it('crash after running: restarted (same id, restarts counted), then given up after maxRestarts', async () => {
    const m = manager({ FAKE_MODE: 'crash', FAKE_CRASH_MS: '300' }, { restart: { maxRestarts: 2 } });
    const handle = await m.start(folder('crash'));
    const firstPid = handle.info().pid;
    const [gaveUp] = await until(m, (l) => /gave up/.test(l[0]?.lastError ?? ''), 'giving up');
    assert.equal(gaveUp?.id, handle.id);
    assert.equal(gaveUp?.state, 'crashed');
    assert.equal(gaveUp?.restarts, 2);
    assert.match(gaveUp?.lastError ?? '', /^gave up after 2 restarts within 10 min; last error: exited with code 7/);
    assert.ok(started.size >= 3, `three processes: ${[...started].join(', ')} (first ${firstPid})`);
    // It stays listed so the user sees why, until stopped.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(m.list().length, 1);
    const log = fs.readFileSync(gaveUp!.logFile!, 'utf8');
    assert.match(log, /restarting in 50 ms \(automatic restart 1/);
    assert.match(log, /restarting in 100 ms \(automatic restart 2/);
    assert.match(log, /not restarting: gave up/);
  });

  it('stops answering while alive: "not answering", killed and restarted', async () => {
    const m = manager({ FAKE_MODE: 'unreachable', FAKE_CRASH_MS: '500' }, { restart: { maxRestarts: 1 } });
    const handle = await m.start(folder('unreachable'));
    const pid = handle.info().pid!;
    await until(m, (l) => l[0]?.restarts === 1 && l[0].state === 'running', 'restart after health failures');
    assert.ok(!isAlive(pid), 'the deaf process was killed');
    assert.notEqual(handle.info().pid, pid);
    const log = fs.readFileSync(handle.info().logFile!, 'utf8');
    assert.match(log, /event stream failed \(3 in a row\)/);
    assert.match(log, /crashed: not answering: GET \/event on http:\/\/127\.0\.0\.1:\d+/);
  });

  it('manual restart keeps the id, does not count; restart off cancels a pending restart; killAllSync', async () => {
    const m = manager({}, { timing: { restartBackoff: { initialMs: 2_000, maxMs: 2_000 } } });
    const handle = await m.start(folder('manual'));
    const pid1 = handle.info().pid!;
    await m.restart(handle.id);
    const info = handle.info();
    assert.equal(info.state, 'running');
    assert.equal(info.id, handle.id);
    assert.notEqual(info.pid, pid1);
    assert.equal(info.restarts, 0);
    assert.ok(!isAlive(pid1));

    signalPid(info.pid!, 'SIGKILL');
    const [pending] = await until(m, ([i]) => i?.nextRestartAt !== undefined, 'a pending restart');
    assert.equal(pending?.state, 'crashed');
    m.setRestartPolicy({ enabled: false });
    assert.equal(m.list()[0]?.nextRestartAt, undefined);
    await new Promise((r) => setTimeout(r, 2_300));
    assert.equal(m.list()[0]?.state, 'crashed', 'no restart once turned off');
    assert.equal(m.list()[0]?.restarts, 0);

    await m.restart(handle.id);
    assert.equal(handle.info().state, 'running');
    const pid3 = handle.info().pid!;
    m.killAllSync();
    assert.ok(await waitForExit(pid3, 2_000), 'killAllSync killed it');
    await until(m, ([i]) => i?.state === 'crashed' && i.lastError === 'killed by SIGKILL', 'crashed by killAllSync');
  });

  it('stop during starting and during waitingReady cancels the start; stop twice = one promise', async () => {
    const m = manager({ FAKE_MODE: 'deaf' });
    const early = m.start(folder('early'));
    const id = m.list()[0]!.id;
    assert.equal(m.list()[0]!.state, 'starting');
    const s1 = m.stop(id);
    const s2 = m.stop(id);
    await assert.rejects(early, /was stopped before it was ready/);
    await Promise.all([s1, s2]);
    assert.deepEqual(m.list(), []);

    const late = m.start(folder('late'));
    late.catch(() => undefined);
    await until(m, (l) => l[0]?.state === 'waitingReady', 'waitingReady');
    const h = m.list()[0]!;
    const t0 = Date.now();
    await m.stop(h.id);
    assert.ok(Date.now() - t0 < 2_000);
    await assert.rejects(late, /was stopped before it was ready/);
    assert.ok(!isAlive(h.pid!));
    await m.stop(h.id); // unknown by now: resolves
  });

  it('ignores SIGTERM: SIGKILL after stopTimeoutMs', async () => {
    const m = manager({ FAKE_IGNORE_TERM: '1' }, { stopTimeoutMs: 700 });
    const handle = await m.start(folder('stubborn'));
    const pid = handle.info().pid!;
    const t0 = Date.now();
    await m.stop(handle.id);
    const ms = Date.now() - t0;
    assert.ok(ms >= 700 && ms < 2_500, `${ms} ms`);
    const info = handle.info();
    assert.equal(info.lastStopForced, true);
    assert.ok(!isAlive(pid));
    assert.match(fs.readFileSync(info.logFile!, 'utf8'), /still running 700 ms after SIGTERM: SIGKILL[\s\S]*killed with SIGKILL after 700 ms/);
  });

  it('setsid tool children (OPENCODE_PID) go too: on stop and after a crash', async () => {
    const m = manager({ FAKE_TOOL_CHILD: '1' }, { restart: { enabled: false } });
    const a = await m.start(folder('tools-stop'));
    const pidA = a.info().pid!;
    const kidsA = await waitForKids(pidA);
    kidsA.forEach((k) => started.add(k));
    assert.ok(kidsA.every((k) => readProcess(k)?.sid !== pidA), 'they left the session');
    await m.stop(a.id);
    for (const k of kidsA) assert.ok(!isAlive(k), `tool child ${k} survived the stop`);

    const b = await m.start(folder('tools-crash'));
    const pidB = b.info().pid!;
    const kidsB = await waitForKids(pidB);
    kidsB.forEach((k) => started.add(k));
    signalPid(pidB, 'SIGKILL');
    await until(m, (l) => l[0]?.state === 'crashed' && l[0].pid === undefined, 'crashed and cleaned up');
    assert.equal(b.info().lastError, 'killed by SIGKILL');
    for (const k of kidsB) assert.ok(await waitForExit(k, 3_000), `tool child ${k} outlived the crash`);
  });
});

/** The tool child and its sleep, once both exist. */
async function waitForKids(pid: number): Promise<number[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const kids = toolChildrenOf(pid).map((p) => p.pid);
    if (kids.length >= 2) return kids;
    if (Date.now() > deadline) throw new Error(`no tool children of ${pid}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
