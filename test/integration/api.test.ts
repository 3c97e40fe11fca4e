/**
 * The local API and labels against a real `opencode serve`: a daemon with `--socket` answers
 * list / label / focus / stop; the CLI's `label`, `list`, `focus` go through it; a label set by a
 * process without the daemon shows in the daemon (file watched), in `status --json` and in the
 * legacy state file; a waiting session carries its waiting-since time. Headless focus selects a
 * real tmux pane (private tmux server).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { apiRequest } from '../../src/core/api/apiClient';
import type { ApiResponse, ApiSession } from '../../src/core/api/protocol';
import { runCommand } from '../../src/core/os/exec';
import { focusTerminalOf } from '../../src/core/platform/headlessFocus';
import { createLab, createSession, promptAsync, waitFor } from '../harness/opencodeLab';
import type { Lab, LabServer } from '../harness/opencodeLab';

const cli = resolve(__dirname, '../../../dist/cli.js');
const T = 30_000;

describe('local API and labels on a real server', { timeout: 240_000 }, () => {
  let lab: Lab;
  let server: LabServer;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let daemon: ChildProcess | undefined;
  let daemonExit: Promise<number | null> | undefined;
  const socketPath = () => join(dir, 'run', 'opencode-monitor', 'api.sock');
  const statePath = () => join(dir, 'state.json');

  function runCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((done) => {
      const child = spawn(process.execPath, [cli, ...args], { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('exit', (code) => done({ code, stdout, stderr }));
    });
  }
  const ask = (body: Record<string, unknown>) => apiRequest(socketPath(), body);
  const list = async () => ((await ask({ cmd: 'list' })) as ApiResponse & { sessions: ApiSession[] }).sessions;
  const sessionIn = async (id: string) => (await list()).find((s) => s.id === id);
  const oneShot = ['--no-discovery', '--no-usage'];

  before(async () => {
    assert.ok(existsSync(cli), `build the CLI first (npm run build): ${cli}`);
    dir = mkdtempSync(join(tmpdir(), 'ocm-api-int-'));
    mkdirSync(join(dir, 'run'), { mode: 0o700 });
    env = { ...process.env, XDG_STATE_HOME: join(dir, 'state'), XDG_RUNTIME_DIR: join(dir, 'run') };
    lab = await createLab();
    server = await lab.startServer({ name: 'api-lab' });
    daemon = spawn(
      process.execPath,
      [cli, 'daemon', ...oneShot, '--endpoint', server.url, '--socket', '--state-file', statePath(), '--usage-file', join(dir, 'usage.json'), '--lock-file', join(dir, 'writer.lock'), '--log-file', join(dir, 'daemon.log')],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    daemonExit = new Promise((done) => daemon!.once('exit', (code) => done(code)));
    await waitFor(async () => ((await ask({ cmd: 'list' })).ok ? true : undefined), T, 'the daemon answering on its socket');
  });

  after(async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      const code = await Promise.race([daemonExit, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
      if (code === 'timeout') daemon.kill('SIGKILL');
    }
    await lab?.stopAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('list: the session with agent, state, folder, instance', async () => {
    const id = await createSession(server, 'api list');
    const s = await waitFor(async () => {
      const x = await sessionIn(id);
      return x?.instance.connection === 'connected' ? x : undefined;
    }, T, 'the session in list, its server connected');
    assert.equal(s.agent, 'opencode');
    assert.equal(s.state, 'idle');
    assert.equal(s.title, 'api list');
    assert.equal(s.folder, server.dir);
    assert.equal(s.instance.url, server.url);
    const text = await runCli(['list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`${id}\\s+idle\\s+api list`));
    const json = await runCli(['list', '--json']);
    assert.ok((JSON.parse(json.stdout) as { sessions: ApiSession[] }).sessions.some((x) => x.id === id));
  });

  it('label from the CLI through the daemon (id prefix): in list, status --json and the legacy title', async () => {
    const id = await createSession(server, 'labelled by cli');
    await waitFor(() => sessionIn(id), T, 'the session in list');
    const prefix = id.slice(0, id.length - 4);
    const r = await runCli(['label', prefix, 'review MR']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /labelled “review MR”/);
    assert.equal((await sessionIn(id))?.label, 'review MR');
    const status = await runCli(['status', '--json', ...oneShot, '--endpoint', server.url]);
    const json = JSON.parse(status.stdout) as { sessions: Array<{ id: string; label?: string; title: string }> };
    const row = json.sessions.find((x) => x.id === id)!;
    assert.equal(row.label, 'review MR');
    assert.equal(row.title, 'labelled by cli');
    const agent = await waitFor(() => {
      const state = JSON.parse(readFileSync(statePath(), 'utf8')) as { instances: Array<{ agents: Array<{ id: string; title: string }> }> };
      return state.instances.flatMap((i) => i.agents).find((a) => a.id === id && a.title === 'review MR');
    }, T, 'the label as the title in the legacy state file');
    assert.equal(agent.title, 'review MR');
    // Empty text removes it.
    const removed = await runCli(['label', id, '']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.equal((await sessionIn(id))?.label, undefined);
  });

  it('a label set by another process without the daemon shows in the daemon (watched file)', async () => {
    const id = await createSession(server, 'labelled elsewhere');
    await waitFor(() => sessionIn(id), T, 'the session in list');
    // --socket to a path where nobody listens: the CLI works on its own (one-shot monitor).
    const t0 = Date.now();
    const r = await runCli(['label', id, 'flaky test', '--socket', join(dir, 'nobody.sock'), ...oneShot, '--endpoint', server.url]);
    assert.equal(r.code, 0, r.stderr);
    const written = Date.now();
    await waitFor(async () => ((await sessionIn(id))?.label === 'flaky test' ? true : undefined), 5_000, 'the label in the daemon', 10);
    console.log(`# label set by a one-shot CLI (${written - t0} ms incl. its own monitor) → seen by the daemon ${Date.now() - written} ms after that process exited`);
    const labelsFile = join(dir, 'state', 'opencode-monitor', 'labels.json');
    assert.equal((JSON.parse(readFileSync(labelsFile, 'utf8')) as { labels: Record<string, { text: string }> }).labels[id]?.text, 'flaky test');
  });

  it('a session waiting for a permission: state waiting, waitingSince, "waiting N s" in list', async () => {
    const id = await createSession(server, 'asks permission');
    const asked = Date.now();
    await promptAsync(server, id, 'scenario:permission');
    const s = await waitFor(async () => {
      const x = await sessionIn(id);
      return x?.state === 'waiting' ? x : undefined;
    }, T, 'the session waiting');
    assert.equal(s.waitingFor, 'permission');
    assert.ok(s.waitingSince !== undefined && s.waitingSince >= asked - 1_000 && s.waitingSince <= Date.now(), `waitingSince ${s.waitingSince} vs asked ${asked}`);
    const text = await runCli(['list']);
    assert.match(text.stdout, new RegExp(`${id}\\s+waiting \\d+ s`));
    // Stop it: an abort through the Monitor's action routing. Measured on OpenCode 1.18.33: the
    // turn ends (status idle) but the pending permission stays listed by the server, so the
    // session still waits for its answer.
    const stopped = await ask({ cmd: 'stop', session: id });
    assert.equal(stopped.ok, true, JSON.stringify(stopped));
    await waitFor(async () => {
      const status = (await fetch(`${server.url}/session/status`).then((x) => x.json())) as Record<string, unknown>;
      return status[id] === undefined ? true : undefined;
    }, T, 'the server says the session is no longer busy');
  });

  it('stop: aborts a busy session; unknown sessions are errors', async () => {
    const id = await createSession(server, 'long sleep');
    await promptAsync(server, id, 'scenario:sleep 60');
    await waitFor(async () => ((await sessionIn(id))?.state === 'busy' ? true : undefined), T, 'busy');
    const t0 = Date.now();
    const r = await ask({ id: 'stop-1', cmd: 'stop', session: id });
    assert.deepEqual(r, { id: 'stop-1', ok: true, session: id, stopped: true });
    await waitFor(async () => ((await sessionIn(id))?.state === 'idle' ? true : undefined), T, 'idle after stop', 20);
    console.log(`# stop over the socket → idle in list: ${Date.now() - t0} ms`);
    const unknown = await ask({ cmd: 'stop', session: 'ses_doesnotexist' });
    assert.equal((unknown as { error: { code: string } }).error.code, 'not_found');
  });

  it('focus: by words of the label or title; ambiguous queries list candidates', async () => {
    const a = await createSession(server, 'deploy staging');
    const b = await createSession(server, 'deploy production');
    await waitFor(async () => ((await sessionIn(a)) && (await sessionIn(b)) ? true : undefined), T, 'both sessions');
    await ask({ cmd: 'label', session: b, text: 'prod release' });
    const byLabel = await ask({ cmd: 'focus', query: 'prod release' });
    assert.equal(byLabel.ok, true, JSON.stringify(byLabel));
    assert.equal((byLabel.session as ApiSession).id, b);
    // A server started by the lab has no terminal: the answer says so.
    assert.equal((byLabel.focus as { where: string }).where, 'none');
    const amb = await runCli(['focus', 'deploy']);
    assert.equal(amb.code, 3);
    assert.match(amb.stderr, /matches 2 sessions/);
    assert.ok(amb.stderr.includes(a) && amb.stderr.includes(b), amb.stderr);
    const one = await runCli(['focus', 'staging']);
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, new RegExp(`deploy staging \\(${a}\\): its terminal is not known`));
  });

  it('bad requests on the real daemon: JSON errors, the daemon lives on', async () => {
    const r = await ask({ cmd: 'explode' });
    assert.equal((r as { error: { code: string } }).error.code, 'unknown_cmd');
    assert.equal(daemon!.exitCode, null);
    assert.ok((await list()).length > 0);
  });
});

describe('headless focus in a real tmux pane', { timeout: 30_000, skip: hasTmux() ? false : 'tmux not installed' }, () => {
  const tmuxDir = mkdtempSync(join(tmpdir(), 'ocm-tmux-'));
  const previous = process.env.TMUX_TMPDIR;
  // A private tmux server: TMUX_TMPDIR is read by every tmux this process runs.
  before(() => {
    process.env.TMUX_TMPDIR = tmuxDir;
    delete process.env.TMUX;
    execFileSync('tmux', ['new-session', '-d', '-s', 'ocm-focus', '-x', '80', '-y', '20', 'sleep', '120']);
    execFileSync('tmux', ['new-window', '-t', 'ocm-focus', 'sleep', '120']);
  });
  after(() => {
    try {
      execFileSync('tmux', ['kill-server']);
    } catch {
      // already gone
    }
    if (previous === undefined) delete process.env.TMUX_TMPDIR;
    else process.env.TMUX_TMPDIR = previous;
    rmSync(tmuxDir, { recursive: true, force: true });
  });

  it('selects the window and pane of the terminal', async () => {
    const panes = execFileSync('tmux', ['list-panes', '-a', '-F', '#{pane_tty} #{window_index} #{window_active}']).toString().trim().split('\n');
    const first = panes.find((l) => l.split(' ')[1] === '0')!.split(' ')[0]!;
    const result = await focusTerminalOf(first.replace('/dev/', ''), runCommand);
    assert.deepEqual(result, { where: 'tmux', target: 'ocm-focus:0.0' });
    const active = execFileSync('tmux', ['display-message', '-p', '-t', 'ocm-focus', '#{window_index}']).toString().trim();
    assert.equal(active, '0', 'window 0 selected (window 1 was active)');
  });
});

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V']);
    return true;
  } catch {
    return false;
  }
}
