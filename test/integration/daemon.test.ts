/**
 * The headless daemon against a real server: it writes the legacy SwiftBar files in the
 * documented shapes, exactly one of two daemons writes, and the other takes over when it dies.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLab, createSession, promptAsync, waitFor } from '../harness/opencodeLab';
import type { Lab, LabServer } from '../harness/opencodeLab';

const cli = resolve(__dirname, '../../../dist/cli.js');
const T = 30_000;

interface Daemon {
  child: ChildProcess;
  exited: Promise<number | null>;
}

describe('opencode-monitor daemon', { timeout: 180_000 }, () => {
  let lab: Lab;
  let server: LabServer;
  let dir: string;
  const daemons: Daemon[] = [];
  const paths = () => ({ state: join(dir, 'state.json'), usage: join(dir, 'usage.json'), lock: join(dir, 'writer.lock'), log: join(dir, 'monitor.log') });

  function startDaemon(): Daemon {
    const p = paths();
    const child = spawn(
      process.execPath,
      [cli, 'daemon', '--no-discovery', '--no-usage', '--endpoint', server.url, '--state-file', p.state, '--usage-file', p.usage, '--lock-file', p.lock, '--log-file', p.log],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    const daemon = { child, exited };
    daemons.push(daemon);
    return daemon;
  }

  const readState = () => {
    try {
      return JSON.parse(readFileSync(paths().state, 'utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const lockPid = () => {
    try {
      return (JSON.parse(readFileSync(paths().lock, 'utf8')) as { pid: number }).pid;
    } catch {
      return undefined;
    }
  };

  before(async () => {
    assert.ok(existsSync(cli), `build the CLI first (npm run build): ${cli}`);
    dir = mkdtempSync(join(tmpdir(), 'ocm-daemon-'));
    lab = await createLab();
    server = await lab.startServer({ name: 'daemon-lab' });
  });

  after(async () => {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    await Promise.all(daemons.map((d) => d.exited));
    await lab?.stopAll();
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes the legacy state file in the documented shape', async () => {
    startDaemon();
    const id = await createSession(server, 'legacy');
    await promptAsync(server, id, 'scenario:todos+sleep 8');
    const state = await waitFor(() => {
      const s = readState() as { instances?: Array<{ agents: Array<{ id: string; status: string; tools?: unknown[]; todos?: { pending: number } }> }> } | undefined;
      const agent = s?.instances?.[0]?.agents.find((a) => a.id === id);
      return agent?.status === 'busy' && (agent.tools?.length ?? 0) > 0 && (agent.todos?.pending ?? 0) > 0 ? (s as Record<string, unknown>) : undefined;
    }, T, 'busy agent with tools and todos in the state file');
    // Shape of legacy-contract §1.3: integers, busy/idle only, per-agent tools and todos, tools_running.
    assert.equal(state.connected, true);
    for (const key of ['instance_count', 'agent_count', 'busy_count', 'permissions_pending', 'updated']) {
      assert.ok(Number.isInteger(state[key]), `${key} is an integer`);
    }
    assert.deepEqual(Object.keys(state.todos as object).sort(), ['in_progress', 'pending']);
    assert.ok(Array.isArray(state.tools_running) && (state.tools_running as string[]).includes('bash'));
    const instance = (state.instances as Array<Record<string, unknown>>)[0]!;
    assert.equal(instance.port, server.port);
    assert.equal(typeof instance.tty, 'string');
    const agent = (instance.agents as Array<Record<string, unknown>>).find((a) => a.id === id)!;
    assert.equal(agent.title, 'legacy');
    assert.equal(agent.full_dir, server.dir);
    assert.equal(agent.permission_pending, false);
    assert.deepEqual(agent.tools, [{ name: 'bash', arg: 'sleep 8' }]);
    const todos = agent.todos as Record<string, unknown>;
    assert.ok(Number.isInteger(todos.pending) && Number.isInteger(todos.in_progress));
    assert.equal(typeof todos.current_label, 'string');
    assert.equal((statSync(paths().state).mode & 0o777).toString(8), '600');
    // No usage credential in this lab: the usage file is not invented.
    assert.equal(existsSync(paths().usage), false);
  });

  it('lets exactly one of two daemons write, and the other take over when it dies', async () => {
    const second = startDaemon();
    const first = daemons[0]!;
    await waitFor(() => lockPid(), T, 'a lock holder');
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(lockPid(), first.child.pid, 'the first daemon keeps the lock');
    const before = statSync(paths().state).mtimeMs;
    first.child.kill('SIGKILL');
    const killed = Date.now();
    await waitFor(() => (lockPid() === second.child.pid ? true : undefined), 5_000, 'takeover by the second daemon');
    const takeover = Date.now() - killed;
    console.log(`# daemon killed → the other daemon holds the lock: ${takeover} ms`);
    await waitFor(() => (statSync(paths().state).mtimeMs > before ? true : undefined), 5_000, 'the new writer rewrites the state');
    assert.equal((readState() as { connected: boolean }).connected, true);
  });

  it('stops cleanly on SIGTERM and leaves the disconnected state behind', async () => {
    const survivor = daemons[1]!;
    survivor.child.kill('SIGTERM');
    const code = await Promise.race([survivor.exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
    assert.equal(code, 0);
    const state = readState() as { connected: boolean; instances: unknown[]; busy_count: number };
    assert.equal(state.connected, false);
    assert.deepEqual(state.instances, []);
    assert.equal(state.busy_count, 0);
    const log = readFileSync(paths().log, 'utf8');
    assert.match(log, /daemon stopping on SIGTERM/);
  });
});
