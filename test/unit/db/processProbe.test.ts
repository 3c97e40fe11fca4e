import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createProcessProbe, LinuxProcessProbe } from '../../../src/core/db/processProbe';
import { tempDir } from './support';

const linux = process.platform === 'linux';
const children: ChildProcess[] = [];
const roots: string[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function sleeper(env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn('sleep', ['30'], { env: { ...process.env, ...env }, stdio: 'ignore' });
  children.push(child);
  return child;
}

async function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  await new Promise((resolve) => child.once('exit', resolve));
}

describe('process probe', () => {
  it('off Linux: liveness only, tool children unknown', () => {
    const probe = createProcessProbe('darwin');
    assert.equal(probe.hasToolChild(process.pid), undefined);
    assert.equal(probe.startTime(process.pid), undefined);
    assert.equal(probe.isAlive(process.pid), true);
    assert.equal(probe.isAlive(0), false);
  });

  it('Linux /proc: sees a child carrying OPENCODE_PID=<owner>, and only while it runs', async (t) => {
    if (!linux) return t.skip('needs /proc (Linux)');
    const probe = createProcessProbe('linux');
    assert.equal(probe.hasToolChild(process.pid), false, 'no tool child yet');
    const other = sleeper({ OPENCODE_PID: String(process.pid + 1) }); // someone else's tool
    const plain = sleeper({});
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(probe.hasToolChild(process.pid), false);
    const tool = sleeper({ OPENCODE: '1', OPENCODE_PID: String(process.pid) });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(probe.hasToolChild(process.pid), true);
    tool.kill('SIGKILL');
    await exited(tool);
    assert.equal(probe.hasToolChild(process.pid), false);
    other.kill('SIGKILL');
    plain.kill('SIGKILL');
    await Promise.all([exited(other), exited(plain)]);
  });

  it('Linux /proc: start time and liveness (a zombie is dead)', async (t) => {
    if (!linux) return t.skip('needs /proc (Linux)');
    const probe = createProcessProbe('linux');
    const mine = probe.startTime(process.pid);
    assert.ok(mine !== undefined);
    const expected = Date.now() - process.uptime() * 1000;
    assert.ok(Math.abs(mine - expected) < 2_500, `start ${mine} vs ${expected}`);
    const child = sleeper({});
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(probe.isAlive(child.pid!), true);
    const started = probe.startTime(child.pid!);
    assert.ok(started !== undefined && started >= mine - 1_000);
    child.kill('SIGKILL');
    await exited(child);
    assert.equal(probe.isAlive(child.pid!), false);
    assert.equal(probe.startTime(2 ** 22 + 12345), undefined);
  });

  it('without /proc/PID/task/*/children it scans ppids (fake /proc)', () => {
    const root = tempDir('ocm-proc-');
    roots.push(root);
    const proc = (pid: number, ppid: number, env: string, comm = 'sleep') => {
      fs.mkdirSync(path.join(root, String(pid)));
      fs.writeFileSync(path.join(root, String(pid), 'stat'), `${pid} (${comm}) S ${ppid} ${pid} ${pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0`);
      fs.writeFileSync(path.join(root, String(pid), 'environ'), env);
    };
    fs.writeFileSync(path.join(root, 'stat'), 'cpu 1 2 3\nbtime 1795294522\n');
    proc(100, 1, 'HOME=/h\0');
    proc(101, 100, 'PATH=/bin\0OPENCODE=1\0OPENCODE_PID=100\0', 'weird) name (x');
    proc(102, 100, 'OPENCODE_PID=1000\0');
    proc(200, 1, 'HOME=/h\0');
    proc(201, 200, 'OPENCODE_PID=2000\0');
    const probe = new LinuxProcessProbe(root);
    assert.equal(probe.hasToolChild(100), true);
    assert.equal(probe.hasToolChild(200), false);
    assert.equal(probe.hasToolChild(300), false);
    assert.equal(probe.startTime(101), 1795294522_000 + 123_450);
  });
});
