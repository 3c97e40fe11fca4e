/**
 * One code-server (VS Code 1.139 server + web workbench) per call, fully isolated: its own config
 * (never ~/.config/code-server), user data and extensions dirs, started detached in its own
 * process group and stopped by signalling that group. Every process it forks carries
 * OCM_E2E_RUN=<marker> in its environment so leftovers can be found by PID.
 */
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { isAlive, listProcesses, signalPid, waitForExit } from '../harness/processes';
import type { E2eTools } from './tools';

const execFileAsync = promisify(execFile);
const OUTPUT_CAP = 1024 * 1024;

/** User settings: a clean workbench for screenshots, nothing phoning home. Extend here. */
export const USER_SETTINGS: Record<string, unknown> = {
  'workbench.colorTheme': 'Default Dark Modern',
  'workbench.startupEditor': 'none',
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'editor.minimap.enabled': false,
  // No fade-ins: screenshots show toasts and hovers fully drawn.
  'workbench.reduceMotion': 'on',
  'git.openRepositoryInParentFolders': 'never',
};

export interface CodeServerOptions {
  tools: E2eTools;
  /** Empty directory owned by this instance (config, user data, extensions, logs). */
  root: string;
  /** Also exported to the extension host (code-server forks it with its own environment). */
  env?: NodeJS.ProcessEnv;
  /** `--vscode-option enable-smoke-test-driver`: honours the `payload` URL parameter; suppresses toasts. */
  smokeTestDriver?: boolean;
  settings?: Record<string, unknown>;
  /** Installed with `--install-extension` before the server starts. */
  vsix?: string;
  marker: string;
}

export interface CodeServer {
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  output(): string;
  /** Workbench URL opening `folder`, with an optional smoke-test payload. */
  workbenchUrl(folder: string, payload?: Array<[string, string]>): string;
  /** vscode-remote://127.0.0.1:PORT/<abs path>: how the payload names server-side paths. */
  remoteUri(absPath: string): string;
  /** Every log file under <user-data-dir>/logs. */
  logFiles(): string[];
  /** Files of an output channel: `<n>-<channel>.log` (plain channels) or `<channel>.log` (log channels). */
  outputChannelLogs(channel: string): string[];
  stop(): Promise<void>;
}

// If this process exits or is signalled before stop(), kill the (detached) groups anyway and
// remove the temp dirs registered with removeOnExit.
const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let exitHooked = false;

function killLiveGroupsSync(): void {
  for (const pid of liveGroups) signalPid(-pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}

export function removeOnExit(dir: string): void {
  hookExit();
  tempDirs.add(dir);
}

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', killLiveGroupsSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killLiveGroupsSync();
      process.removeListener(sig, onSignal);
      process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

function childEnv(opts: CodeServerOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    // Variables of an enclosing VS Code would redirect the CLI to it.
    if (/^(VSCODE_|ELECTRON_)/.test(k)) continue;
    env[k] = v;
  }
  // code-server's Node first: anything the server or extension host spawns as `node` is 24 too.
  env.PATH = `${path.dirname(opts.tools.node)}${path.delimiter}${env.PATH ?? ''}`;
  // Keep code-server's logs/state ($XDG_DATA_HOME/code-server) and VS Code's device id
  // ($XDG_CACHE_HOME/Microsoft), and the extension's labels file ($XDG_STATE_HOME), out of the real home.
  const xdg = { XDG_DATA_HOME: path.join(opts.root, 'xdg-data'), XDG_CACHE_HOME: path.join(opts.root, 'xdg-cache'), XDG_STATE_HOME: path.join(opts.root, 'xdg-state') };
  return { ...env, ...xdg, ...opts.env, OCM_E2E_RUN: opts.marker };
}

function baseArgs(opts: CodeServerOptions, dirs: { config: string; userData: string; extensions: string }): string[] {
  return [opts.tools.codeServer, '--config', dirs.config, '--user-data-dir', dirs.userData, '--extensions-dir', dirs.extensions];
}

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const dirs = {
    config: path.join(opts.root, 'config.yaml'),
    userData: path.join(opts.root, 'user-data'),
    extensions: path.join(opts.root, 'extensions'),
  };
  fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
  fs.mkdirSync(dirs.extensions, { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'User', 'settings.json'), `${JSON.stringify({ ...USER_SETTINGS, ...opts.settings }, null, 2)}\n`);
  // The workbench is remote to code-server: machine-scoped settings are read from here only.
  fs.mkdirSync(path.join(dirs.userData, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(dirs.userData, 'Machine', 'settings.json'), `${JSON.stringify({ ...opts.settings }, null, 2)}\n`);
  const env = childEnv(opts);
  // Port 0: the OS picks a free one (no race); code-server logs which.
  fs.writeFileSync(dirs.config, 'bind-addr: 127.0.0.1:0\nauth: none\ncert: false\n');

  if (opts.vsix) {
    await execFileAsync(opts.tools.node, [...baseArgs(opts, dirs), '--install-extension', opts.vsix], { env, timeout: 60_000 });
  }

  const args = [
    ...baseArgs(opts, dirs),
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    ...(opts.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  const child = spawn(opts.tools.node, args, { cwd: opts.root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const capture = (d: Buffer): void => {
    out += d.toString('utf8');
    if (out.length > OUTPUT_CAP) out = out.slice(-OUTPUT_CAP / 2);
  };
  child.stdout?.on('data', capture);
  child.stderr?.on('data', capture);
  let exited: string | undefined;
  child.on('exit', (code, sig) => (exited = `exited (code ${code}, signal ${sig})`));
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not spawn code-server');
  hookExit();
  liveGroups.add(pid);
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= stopGroup(pid, opts.marker));

  let port: number | undefined;
  const deadline = Date.now() + 30_000;
  while (port === undefined) {
    if (exited || Date.now() > deadline) {
      await stop();
      throw new Error(`code-server ${exited ?? 'did not answer /healthz within 30 s'}\n--- its output ---\n${out.slice(-3000)}`);
    }
    const m = /HTTP server listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
    const ok = m && (await fetch(`http://127.0.0.1:${m[1]}/healthz`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false));
    if (ok) port = Number(m[1]);
    else await new Promise((r) => setTimeout(r, 100));
  }
  const url = `http://127.0.0.1:${port}`;

  const server: CodeServer = {
    pid,
    port,
    url,
    output: () => out,
    remoteUri: (absPath) => `vscode-remote://127.0.0.1:${port}${absPath}`,
    workbenchUrl(folder, payload) {
      const q = new URLSearchParams({ folder });
      if (payload) q.set('payload', JSON.stringify(payload));
      return `${url}/?${q.toString()}`;
    },
    logFiles() {
      const logs = path.join(dirs.userData, 'logs');
      if (!fs.existsSync(logs)) return [];
      return fs.readdirSync(logs, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.log')).map((f) => path.join(logs, f));
    },
    outputChannelLogs(channel) {
      return server.logFiles().filter((f) => path.basename(f) === `${channel}.log` || path.basename(f).endsWith(`-${channel}.log`));
    },
    stop,
  };
  return server;
}

/** SIGTERM the group, SIGKILL it after 5 s, then SIGKILL anything else carrying the marker. */
async function stopGroup(pid: number, marker: string): Promise<void> {
  const groupAlive = (): boolean => listProcesses().some((p) => p.pgid === pid && p.state !== 'Z');
  signalPid(-pid, 'SIGTERM');
  const deadline = Date.now() + 5000;
  while (groupAlive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (groupAlive()) signalPid(-pid, 'SIGKILL');
  await waitForExit(pid, 5000);
  liveGroups.delete(pid);
  await killMarked(marker);
}

/** Processes whose environment carries OCM_E2E_RUN=<marker> (forked out of the group, or browsers). */
export function markedProcesses(marker: string): number[] {
  return listProcesses({ env: true })
    .filter((p) => p.pid !== process.pid && p.state !== 'Z' && p.env?.OCM_E2E_RUN === marker)
    .map((p) => p.pid);
}

export async function killMarked(marker: string): Promise<number[]> {
  const pids = markedProcesses(marker);
  for (const p of pids) signalPid(p, 'SIGKILL');
  for (const p of pids) await waitForExit(p, 5000);
  return pids.filter(isAlive);
}
