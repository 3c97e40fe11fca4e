/**
 * A real Claude Code (pinned @anthropic-ai/claude-code, in tmux, against the scripted fake
 * Anthropic API) watched by the real monitor: found within a second of its registry file, busy
 * while its tool runs, idle after, "needs you" with its waiting-since while a permission prompt
 * waits, and gone after /exit and after kill -9 (its file stays: pid + start time say it is dead).
 * Also in `status --json` of the CLI. Latencies are printed (`# latency …`), not asserted tightly.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../../src/core/log';
import { createMonitor } from '../../../src/core/createMonitor';
import type { Monitor } from '../../../src/core/monitor/monitor';
import type { MonitorSnapshot, SessionModel } from '../../../src/core/model/model';
import { IncidentTracker, incidentMessage } from '../../../src/core/present/attention';
import { presentTree } from '../../../src/core/present/tree';
import { ClaudeLab, claudeBinary, hasTmux } from '../../harness/claudeLab';
import type { ClaudeTui } from '../../harness/claudeLab';
import { waitFor } from '../../harness/opencodeLab';
import { assertNoLeftovers, isAlive } from '../../harness/processes';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');
const STEP_MS = 60_000;
/** The target: registry file → model within 1 s. Checked with headroom for a loaded machine. */
const TARGET_MS = 1_000;

interface Measured {
  fileAt: number;
  modelAt: number;
  latencyMs: number;
}

/**
 * Polls a file-side and a model-side condition every 5 ms and returns when each first held:
 * the latency is the model's delay behind Claude Code's own file.
 */
async function measure(label: string, fileSide: () => boolean, modelSide: () => boolean, timeoutMs = STEP_MS): Promise<Measured> {
  let fileAt: number | undefined;
  let modelAt: number | undefined;
  const start = Date.now();
  while (fileAt === undefined || modelAt === undefined) {
    const now = Date.now();
    if (fileAt === undefined && fileSide()) fileAt = now;
    if (modelAt === undefined && modelSide()) modelAt = now;
    if (now - start > timeoutMs) throw new Error(`timed out: ${label} (file ${fileAt !== undefined}, model ${modelAt !== undefined})`);
    await new Promise((r) => setTimeout(r, 5));
  }
  const latencyMs = Math.max(0, modelAt - fileAt);
  console.log(`# latency ${label}: ${latencyMs} ms`);
  return { fileAt, modelAt, latencyMs };
}

function readRegistry(file: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const bin = claudeBinary(REPO_ROOT);
const skip = !hasTmux() ? 'tmux not installed (scripts/setup-e2e.sh installs it)' : !bin ? '@anthropic-ai/claude-code not installed (npm install)' : false;

describe('a real Claude Code in tmux, watched by the monitor', { timeout: 300_000, skip }, () => {
  let lab: ClaudeLab;
  let monitor: Monitor;
  let tui: ClaudeTui;
  const logger = new MemoryLogger();
  const tracker = new IncidentTracker();
  const incidents: string[] = [];
  const snap = (): MonitorSnapshot => monitor.snapshot();
  const sessionOf = (pid: number): SessionModel | undefined => snap().sessions.find((s) => s.instanceId === `claude:${pid}`);
  const registryFile = (pid: number) => path.join(lab.claudeDir, 'sessions', `${pid}.json`);
  const pids: number[] = [];

  before(async () => {
    lab = await ClaudeLab.start(bin as string);
    monitor = createMonitor({ logger, discoverLocal: false, claude: { home: lab.claudeDir } }).start();
    monitor.onDidChange(() => {
      for (const i of tracker.update(snap())) incidents.push(incidentMessage(i));
    });
  });

  after(async () => {
    await monitor?.dispose();
    pids.push(...((await lab?.dispose()) ?? []));
    assertNoLeftovers(pids);
  });

  it('shows a new session within 1 s of its registry file', async () => {
    tui = lab.startSession();
    const m = await measure('registry file appears → in the model', () => fs.existsSync(registryFile(tui.pid)), () => snap().instances.some((i) => i.id === `claude:${tui.pid}`));
    const instance = snap().instances.find((i) => i.id === `claude:${tui.pid}`)!;
    assert.equal(instance.agent, 'claude');
    assert.equal(instance.pid, tui.pid);
    assert.equal(instance.cwd, lab.project);
    assert.match(instance.tty ?? '', /^pts\/\d+$/);
    assert.match(instance.tmuxPane ?? '', /^cc:@\d+\.%\d+$/, 'the tmux pane from the registry');
    const session = sessionOf(tui.pid)!;
    assert.equal(session.status, 'idle');
    assert.equal(session.source, 'files');
    assert.ok(m.latencyMs <= TARGET_MS * 1.5, `in the model ${m.latencyMs} ms after its registry file (target ${TARGET_MS} ms)`);
    await tui.ready();
  });

  it('is busy while its tool runs, with the tool and its argument, then idle', async () => {
    await tui.type('scenario:sleep 5');
    const file = registryFile(tui.pid);
    const busy = await measure('registry busy → model busy', () => readRegistry(file)?.status === 'busy', () => sessionOf(tui.pid)?.status === 'busy');
    assert.ok(busy.latencyMs <= TARGET_MS * 1.5, `busy in the model ${busy.latencyMs} ms after the registry`);
    const tool = await waitFor(() => sessionOf(tui.pid)?.runningTools.find((t) => t.name === 'Bash'), 20_000, 'the Bash tool in the model');
    assert.equal(tool.arg, 'sleep 5');
    assert.equal(sessionOf(tui.pid)?.title, 'scenario:sleep 5');
    const tree = presentTree(snap(), Date.now());
    assert.ok([...tree.nodes.values()].some((n) => n.kind === 'tool' && n.label === 'Bash: sleep 5' && n.icon.id === 'terminal'), 'the running tool in the tree');
    const idle = await measure('registry idle → model idle', () => readRegistry(file)?.status === 'idle', () => sessionOf(tui.pid)?.status === 'idle');
    assert.ok(idle.latencyMs <= TARGET_MS * 1.5);
    const done = sessionOf(tui.pid)!;
    assert.deepEqual(done.runningTools, []);
    await waitFor(() => (sessionOf(tui.pid)!.modelId ? true : undefined), 10_000, 'the model id from the transcript');
    await waitFor(() => (sessionOf(tui.pid)!.tokens.input > 0 ? true : undefined), 10_000, 'tokens from the cost-state line');
  });

  it('needs you while a permission prompt waits, with its waiting-since; busy then idle once answered', async () => {
    const probe = path.join(lab.project, 'probe.txt');
    await tui.type('scenario:touch probe.txt');
    const file = registryFile(tui.pid);
    const waiting = await measure('registry waiting → model needs you', () => readRegistry(file)?.status === 'waiting', () => sessionOf(tui.pid)?.needsAttention === true);
    assert.ok(waiting.latencyMs <= TARGET_MS * 1.5);
    const reg = readRegistry(file)!;
    assert.equal(reg.waitingFor, 'permission prompt');
    const session = await waitFor(() => {
      const s = sessionOf(tui.pid);
      return s?.permissions[0]?.command ? s : undefined;
    }, 10_000, 'the permission with its command');
    assert.equal(session.attentionReason, 'permission');
    assert.equal(session.waitingSince, reg.statusUpdatedAt, 'waiting since the registry says the prompt appeared');
    assert.equal(session.permissions[0]!.command, 'touch probe.txt');
    assert.equal(session.permissions[0]!.permission, 'Bash');
    const tree = presentTree(snap(), Date.now());
    const permissionRow = [...tree.nodes.values()].find((n) => n.kind === 'permission');
    assert.equal(permissionRow?.contextValue, 'permission+terminal', 'answered in its terminal, not through an API');
    assert.ok(incidents.some((m) => m.startsWith('Claude Code session “scenario:touch probe.txt” asks permission to run Bash: touch probe.txt')), incidents.join('\n'));
    assert.equal(incidents.filter((m) => m.includes('touch probe.txt')).length, 1, 'one notification per incident');
    await assert.rejects(monitor.abort(session.id), /Claude Code offers no safe way/);

    // The registry says "waiting" a moment before the dialog takes keys.
    await waitFor(() => (/Do you want to proceed\?/.test(tui.screen()) ? true : undefined), 20_000, `the permission dialog\n${tui.screen()}`, 100);
    await new Promise((r) => setTimeout(r, 500));
    tui.keys('Enter'); // "1. Yes"
    await waitFor(() => (sessionOf(tui.pid)?.needsAttention === false ? true : undefined), 20_000, 'the prompt answered');
    await waitFor(() => (sessionOf(tui.pid)?.status === 'idle' ? true : undefined), 30_000, 'idle after the tool');
    assert.ok(fs.existsSync(probe), 'the approved command ran');
  });

  it('is in `status --json` of the CLI, and hidden with --agents opencode', async (t) => {
    if (!fs.existsSync(CLI)) return t.skip('dist/cli.js not built (npm run build)');
    const env = { ...process.env, CLAUDE_CONFIG_DIR: lab.claudeDir };
    const shown = await runCli(['status', '--json', '--no-discovery', '--no-usage', '--agents', 'claude'], env);
    assert.equal(shown.code, 0, shown.stderr);
    const json = JSON.parse(shown.stdout) as { instances: Array<{ id: string; agent: string }>; sessions: Array<{ instanceId: string; title: string }> };
    assert.ok(json.instances.some((i) => i.id === `claude:${tui.pid}` && i.agent === 'claude'), shown.stdout.slice(0, 500));
    assert.ok(json.sessions.some((s) => s.instanceId === `claude:${tui.pid}` && s.title === 'scenario:touch probe.txt'));
    const hidden = await runCli(['status', '--json', '--no-discovery', '--no-usage', '--agents', 'opencode'], env);
    assert.equal(hidden.code, 0, hidden.stderr);
    assert.equal((JSON.parse(hidden.stdout) as { instances: unknown[] }).instances.length, 0);
    const table = await runCli(['status', '--no-discovery', '--no-usage', '--agents', 'claude'], env);
    assert.match(table.stdout, /Claude Code/);
  });

  it('is gone once it exits (/exit removes its file)', async () => {
    const file = registryFile(tui.pid);
    await tui.type('/exit');
    const m = await measure('registry file removed (/exit) → gone from the model', () => !fs.existsSync(file), () => !sessionOf(tui.pid));
    assert.ok(m.latencyMs <= TARGET_MS * 1.5);
    pids.push(...(await tui.stop()));
  });

  it('is gone after kill -9, though its registry file stays', async () => {
    const second = lab.startSession();
    await waitFor(() => sessionOf(second.pid), STEP_MS, 'the second session in the model');
    await second.ready();
    const file = registryFile(second.pid);
    const killedAt = Date.now();
    second.kill9();
    await waitFor(() => (!isAlive(second.pid) ? true : undefined), 5_000, 'the process dead');
    await waitFor(() => (sessionOf(second.pid) ? undefined : true), 10_000, 'gone from the model');
    console.log(`# latency kill -9 → gone from the model: ${Date.now() - killedAt} ms (no file changes: found by the 1 s liveness poll)`);
    assert.ok(fs.existsSync(file), 'Claude Code left its registry file behind');
    pids.push(...(await second.stop()));
    assert.ok(!logger.records.some((r) => r.level === 'error'), logger.text());
  });
});
