/**
 * The Linux scanner and the discovery loop against real processes: first node running under the
 * name `opencode` (fast), then real OpenCode 1.18.33 — a server, a port-less TUI and a `--port 0`
 * TUI on pseudo-terminals (`script`) — in an isolated HOME. Everything started is killed by PID.
 * Set OCM_SKIP_REAL_OPENCODE=1 to skip the real-OpenCode part (~3 × 700 MB, ~10 s).
 */
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { Discovery } from '../../../src/core/discovery/discovery';
import type { DiscoveredInstance, DiscoveryChange } from '../../../src/core/discovery/discovery';
import { LinuxProcessScanner } from '../../../src/core/discovery/linuxScanner';
import { createLab } from '../../harness/opencodeLab';
import type { OpencodeProcess } from '../../../src/core/discovery/types';
import { REPO_ROOT } from './helpers';

const LINUX = process.platform === 'linux';
const OPENCODE_BIN = path.join(REPO_ROOT, 'node_modules/.bin/opencode');
const HAS_SCRIPT = LINUX && spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

// ── Process helpers (by PID only) ────────────────────────────────────────────

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

async function waitUntil<T>(fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string, stepMs = 50): Promise<T> {
  const start = Date.now();
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** SIGTERM, SIGKILL after 5 s; resolves when the pid is gone. */
async function stop(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + 5_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (alive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
    await waitUntil(() => (alive(pid) ? undefined : true), 10_000, `pid ${pid} to exit`);
  }
}

/** Own processes whose environment has HOME=home (what a leak of ours would look like). */
function processesWithHome(home: string): number[] {
  const found: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const env = fs.readFileSync(`/proc/${name}/environ`, 'utf8').split('\0');
      if (env.includes(`HOME=${home}`) && alive(Number(name))) found.push(Number(name));
    } catch {
      // other user's or gone
    }
  }
  return found;
}

class Started {
  readonly pids = new Set<number>();
  readonly children: ChildProcess[] = [];
  track(child: ChildProcess): ChildProcess {
    if (child.pid === undefined) throw new Error('spawn failed');
    this.pids.add(child.pid);
    this.children.push(child);
    child.on('error', () => undefined);
    return child;
  }
  async stopAll(extra: number[] = []): Promise<void> {
    for (const pid of extra) this.pids.add(pid);
    // Children of `script` first (the real processes), then their parents.
    await Promise.all([...this.pids].reverse().map((pid) => stop(pid)));
    for (const c of this.children) c.stdout?.destroy();
    const left = [...this.pids].filter(alive);
    assert.deepEqual(left, [], 'processes left behind');
  }
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs argv on a fresh pseudo-terminal: `script` execs it, so its pid is the child of script's. */
function onPty(started: Started, argv: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess {
  const command = `exec ${argv.map(shQuote).join(' ')}`;
  return started.track(spawn('script', ['-qfec', command, '/dev/null'], { cwd: options.cwd, env: options.env, stdio: 'ignore', detached: true }));
}

function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OPENCODE|XDG_)/i.test(k) || /^(HTTPS?|ALL)_PROXY$/i.test(k)) continue;
    env[k] = v;
  }
  return { ...env, HOME: home, TERM: 'xterm-256color' };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function byPid(list: OpencodeProcess[], pid: number | undefined): OpencodeProcess | undefined {
  return list.find((p) => p.pid === pid);
}

// ── Node under the name `opencode` ───────────────────────────────────────────

const FAKE_SERVER = `
const http = require('http');
const server = http.createServer((req, res) => {
  if (req.url === '/global/health') { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify({ healthy: true, version: '0.0.0-fake' })); }
  else { res.statusCode = 404; res.end(); }
});
server.listen(0, '127.0.0.1', () => console.log('listening ' + server.address().port));
`;

describe('Linux scanner on real processes', { skip: !LINUX && 'Linux only' }, () => {
  test('node named `opencode`: pid, cwd, port, kind, dataDir, tty; tool children excluded; gone after kill', { timeout: 60_000 }, async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-disc-'));
    const started = new Started();
    t.after(async () => {
      await started.stopAll();
      fs.rmSync(root, { recursive: true, force: true });
    });
    const bin = path.join(root, 'bin', 'opencode');
    const proj = path.join(root, 'project with space');
    const home = path.join(root, 'home');
    for (const d of [path.dirname(bin), proj, home]) fs.mkdirSync(d, { recursive: true });
    fs.symlinkSync(process.execPath, bin);
    // `opencode serve --port 0` → node runs ./serve with the rest as its arguments.
    fs.writeFileSync(path.join(proj, 'serve'), FAKE_SERVER);
    fs.writeFileSync(path.join(proj, 'tui.js'), 'setInterval(() => {}, 1000);\n');
    const env = { ...cleanEnv(home), XDG_DATA_HOME: path.join(root, 'data') };

    const server = started.track(spawn(bin, ['serve', '--port', '0'], { cwd: proj, env, stdio: ['ignore', 'pipe', 'inherit'] }));
    let out = '';
    server.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const port = await waitUntil(() => /listening (\d+)/.exec(out)?.[1], 10_000, 'the fake server port').then(Number);
    // What the bash tool of that "agent" would start: same name, OPENCODE_PID set.
    const toolChild = started.track(
      spawn(bin, ['serve', '--port', '0'], { cwd: proj, env: { ...env, OPENCODE: '1', OPENCODE_PID: String(server.pid) }, stdio: 'ignore' }),
    );
    const tuiParent = HAS_SCRIPT ? onPty(started, [bin, 'tui.js'], { cwd: proj, env }) : undefined;

    const scanner = new LinuxProcessScanner();
    const found = await waitUntil(
      async () => {
        const list = await scanner.scan();
        const tui = tuiParent ? list.find((p) => p.ppid === tuiParent.pid) : undefined;
        return byPid(list, server.pid)?.ports.length && (!tuiParent || tui) ? list : undefined;
      },
      10_000,
      'the fake processes',
    );
    const fake = byPid(found, server.pid);
    assert.deepEqual(
      { kind: fake?.kind, cwd: fake?.cwd, ports: fake?.ports, home: fake?.home, dataDir: fake?.dataDir, tty: fake?.tty, ppid: fake?.ppid },
      { kind: 'serve', cwd: proj, ports: [port], home, dataDir: path.join(root, 'data', 'opencode'), tty: undefined, ppid: process.pid },
    );
    assert.deepEqual(fake?.args, [bin, 'serve', '--port', '0']);
    assert.ok(Math.abs((fake?.startTime ?? 0) - Date.now()) < 60_000, `startTime ${fake?.startTime}`);
    assert.equal(byPid(found, toolChild.pid), undefined, 'a bash-tool child is not an instance');
    if (tuiParent) {
      const tui = found.find((p) => p.ppid === tuiParent.pid);
      assert.equal(tui?.kind, 'tui');
      assert.match(tui?.tty ?? '', /^pts\/\d+$/);
      assert.deepEqual(tui?.ports, []);
      if (tui) started.pids.add(tui.pid);
    } else {
      t.diagnostic('script(1) not found: pty part skipped');
    }

    // The loop at its default 1 s: the port is confirmed, and a killed process leaves quickly.
    const discovery = new Discovery({ scanner: new LinuxProcessScanner() });
    t.after(() => discovery.dispose());
    const changes: Array<{ at: number; change: DiscoveryChange }> = [];
    discovery.onChange((change) => changes.push({ at: Date.now(), change }));
    discovery.start();
    const instance = await waitUntil(
      () => discovery.instances.find((i) => i.process.pid === server.pid && i.url),
      10_000,
      'the confirmed fake server',
    );
    assert.deepEqual([instance.id, instance.url, instance.version], [`pid:${server.pid}`, `http://127.0.0.1:${port}`, '0.0.0-fake']);
    const killedAt = Date.now();
    process.kill(server.pid as number, 'SIGKILL');
    const gone = await waitUntil(
      () => changes.find((c) => c.change.removed.some((i: DiscoveredInstance) => i.process.pid === server.pid)),
      5_000,
      'the removal',
      10,
    );
    const latency = gone.at - killedAt;
    t.diagnostic(`removed ${latency} ms after SIGKILL (interval 1000 ms)`);
    assert.ok(latency <= 2_000, `removal took ${latency} ms`);
    discovery.dispose();
  });

  // ── Real OpenCode ───────────────────────────────────────────────────────────

  const skipReal = !LINUX
    ? 'Linux only'
    : process.env.OCM_SKIP_REAL_OPENCODE === '1'
      ? 'OCM_SKIP_REAL_OPENCODE=1'
      : !fs.existsSync(OPENCODE_BIN)
        ? 'node_modules/.bin/opencode missing'
        : !HAS_SCRIPT
          ? 'script(1) missing'
          : false;

  test('real OpenCode: serve, port-less TUI and --port 0 TUI; probe; removal; nothing left', { skip: skipReal, timeout: 180_000 }, async (t) => {
    // The lab's isolated HOME and config; this test starts the processes itself (one under a pty).
    const lab = await createLab();
    const home = lab.home;
    const started = new Started();
    const seen = new Set<number>();
    t.after(async () => {
      await started.stopAll([...seen]);
      assert.deepEqual(processesWithHome(home), [], 'processes of the test HOME still running');
      await lab.stopAll();
    });
    const env: NodeJS.ProcessEnv = { ...lab.env, TERM: 'xterm-256color' };
    const dirs = { serve: lab.projectDir('alpha'), tui: lab.projectDir('beta'), tuiPort: lab.projectDir('gamma') };

    const t0 = Date.now();
    const serve = started.track(
      spawn(OPENCODE_BIN, ['serve', '--port', '0', '--hostname', '127.0.0.1'], { cwd: dirs.serve, env, stdio: ['ignore', 'pipe', 'ignore'], detached: true }),
    );
    let out = '';
    serve.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    const tuiScript = onPty(started, [OPENCODE_BIN], { cwd: dirs.tui, env });
    const tuiPortScript = onPty(started, [OPENCODE_BIN, '--port', '0'], { cwd: dirs.tuiPort, env });

    const discovery = new Discovery({ scanner: new LinuxProcessScanner(), intervalMs: 500 });
    t.after(() => discovery.dispose());
    const changes: Array<{ at: number; change: DiscoveryChange }> = [];
    discovery.onChange((change) => changes.push({ at: Date.now(), change }));
    discovery.start();

    const ours = (): DiscoveredInstance[] => discovery.instances.filter((i) => i.process.home === home);
    const ready = await waitUntil(
      () => {
        const list = ours();
        for (const i of list) seen.add(i.process.pid);
        const withUrl = list.filter((i) => i.url);
        return list.length === 3 && withUrl.length === 2 ? list : undefined;
      },
      120_000,
      'three OpenCode instances, two of them answering',
      100,
    );
    t.diagnostic(`all three found and probed ${Date.now() - t0} ms after spawn`);
    const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
    const dataDir = path.join(home, '.local', 'share', 'opencode');

    const s = ready.find((i) => i.process.pid === serve.pid);
    assert.deepEqual(
      { kind: s?.process.kind, cwd: s?.process.cwd, ports: s?.process.ports, url: s?.url, version: s?.version, dataDir: s?.process.dataDir, tty: s?.process.tty },
      { kind: 'serve', cwd: dirs.serve, ports: [port], url: `http://127.0.0.1:${port}`, version: '1.18.33', dataDir, tty: undefined },
    );
    const tui = ready.find((i) => i.process.ppid === tuiScript.pid);
    assert.deepEqual(
      { kind: tui?.process.kind, cwd: tui?.process.cwd, ports: tui?.process.ports, url: tui?.url, dataDir: tui?.process.dataDir },
      { kind: 'tui', cwd: dirs.tui, ports: [], url: undefined, dataDir },
    );
    assert.match(tui?.process.tty ?? '', /^pts\/\d+$/);
    const tuiPort = ready.find((i) => i.process.ppid === tuiPortScript.pid);
    assert.equal(tuiPort?.process.kind, 'tui');
    assert.equal(tuiPort?.process.cwd, dirs.tuiPort);
    assert.match(tuiPort?.process.tty ?? '', /^pts\/\d+$/);
    assert.notEqual(tuiPort?.process.tty, tui?.process.tty);
    assert.equal(tuiPort?.process.ports.length, 1);
    assert.equal(tuiPort?.url, `http://127.0.0.1:${tuiPort?.process.ports[0]}`);
    assert.equal(tuiPort?.version, '1.18.33');

    // Scan cost with three real OpenCode processes running.
    const scanner = new LinuxProcessScanner();
    scanner.scanSync();
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t1 = process.hrtime.bigint();
      scanner.scanSync();
      times.push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
    const count = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
    t.diagnostic(`scan median ${median(times).toFixed(2)} ms over 50 scans, ${count} processes, ${scanner.tableReads} table read(s)`);

    // Everything stops; each leaves the result within two intervals of its exit.
    const pids = ready.map((i) => i.process.pid);
    await Promise.all(pids.map((pid) => stop(pid)));
    const stoppedAt = Date.now();
    await waitUntil(() => (ours().length === 0 ? true : undefined), 5_000, 'all instances to leave');
    const removedAt = changes.filter((c) => c.change.removed.some((i) => pids.includes(i.process.pid))).map((c) => c.at);
    t.diagnostic(`last removal ${Math.max(...removedAt) - stoppedAt} ms after the last exit (interval 500 ms)`);
    assert.ok(Math.max(...removedAt) - stoppedAt <= 1_000);
    discovery.dispose();
  });
});

/** The plugin OpenCode installs on first start, pre-seeded so it does not reach for npm. */
