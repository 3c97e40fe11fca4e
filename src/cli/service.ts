/**
 * `opencode-monitor service install | uninstall | status [--dry-run] [-- DAEMON FLAGS]`: the daemon
 * as a systemd user unit (Linux) or a LaunchAgent (macOS), run by the Node and the CLI it was
 * installed with. The unit text comes from src/core/service; this file does the I/O.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from './args';
import { servicePaths, servicePlatform } from '../core/service/servicePaths';
import type { ServicePaths } from '../core/service/servicePaths';
import { ServiceConfigError, isOurUnit, renderUnit, systemdExecArg, xmlEscape } from '../core/service/unitFile';
import type { ServiceSpec } from '../core/service/unitFile';
import { DAEMON_NODE_FLAGS } from './daemonTiers';

export const SERVICE_USAGE = `usage: opencode-monitor service install|uninstall|status [--dry-run] [-- DAEMON OPTIONS]

  install      write a systemd user unit (Linux) or a LaunchAgent (macOS) that runs
               \`opencode-monitor daemon\` at login and restarts it after a crash, and start it;
               options after -- go to the daemon (e.g. -- --state-file P --no-usage)
  uninstall    stop it and remove the unit install wrote (never a file it did not write)
  status       installed or not, running or not, its PID, where it logs
  --dry-run    print the files and commands, change nothing
`;

const PASSWORD_ENV = 'OPENCODE_SERVER_PASSWORD';
const COMMAND_TIMEOUT_MS = 10_000;
const PATH_OPTIONS = new Set(['state-file', 'usage-file', 'log-file', 'lock-file', 'docker-path']);

export interface CommandResult {
  ok: boolean;
  stdout: string;
  stderr: string;
  /** Why it failed, one line. */
  error?: string;
}

function run(file: string, args: string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: COMMAND_TIMEOUT_MS, encoding: 'utf8', maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (!error) return resolve({ ok: true, stdout, stderr });
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === 'ENOENT'
          ? `${file} not found`
          : (error as { killed?: boolean }).killed
            ? `${file} did not answer within ${COMMAND_TIMEOUT_MS / 1000} s`
            : firstLine(stderr) || firstLine(stdout) || error.message;
      resolve({ ok: false, stdout, stderr, error: why });
    });
  });
}

/** Where the command runs: the real process by default; tests pass another platform or home. */
export interface ServiceHost {
  platform: NodeJS.Platform;
  home: string;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

const realHost = (): ServiceHost => ({
  platform: process.platform,
  home: os.homedir(),
  env: process.env,
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
});

export async function serviceCommand(argv: string[], host: ServiceHost = realHost()): Promise<number> {
  const { out, err, env } = host;
  const dash = argv.indexOf('--');
  const own = dash < 0 ? argv : argv.slice(0, dash);
  const daemonArgs = dash < 0 ? [] : argv.slice(dash + 1);
  const sub = own[0];
  if (own.includes('--help') || own.includes('-h') || sub === 'help') {
    out(SERVICE_USAGE);
    return 0;
  }
  const unknown = own.slice(1).find((a) => a !== '--dry-run');
  if ((sub !== 'install' && sub !== 'uninstall' && sub !== 'status') || unknown !== undefined) {
    err(`opencode-monitor service: ${sub === undefined ? 'install, uninstall or status?' : unknown !== undefined ? `unknown argument ${JSON.stringify(unknown)}` : `unknown subcommand ${JSON.stringify(sub)}`}\n\n${SERVICE_USAGE}`);
    return 2;
  }
  if (daemonArgs.length > 0 && sub !== 'install') {
    err(`opencode-monitor service ${sub}: daemon options (after --) are for install only\n`);
    return 2;
  }
  const platform = servicePlatform(host.platform);
  if (!platform) {
    err(`opencode-monitor service: supported on Linux (systemd) and macOS (launchd); here (${host.platform}) run \`opencode-monitor daemon\` from your own startup\n`);
    return 1;
  }
  const paths = servicePaths(platform, host.home, env);
  const dryRun = own.includes('--dry-run');
  const uid = process.getuid?.() ?? 0;
  const manager = platform === 'darwin' ? launchd(paths, uid) : systemd(paths);
  try {
    if (sub === 'install') return await install(paths, manager, daemonArgs, dryRun, host);
    if (sub === 'uninstall') return await uninstall(paths, manager, dryRun, out, err);
    return await status(paths, manager, out);
  } catch (error) {
    err(`opencode-monitor service ${sub}: ${error instanceof Error ? error.message : String(error)}\n`);
    return error instanceof ServiceConfigError ? 2 : 1;
  }
}

/** What each service manager is asked to do, as argument arrays (shown by --dry-run). */
interface Manager {
  tool: string;
  start: string[][];
  stop: string[][];
  afterRemove: string[][];
  status(): Promise<{ running: string; pid?: number }>;
}

function systemd(paths: ServicePaths): Manager {
  const s = (...args: string[]) => ['systemctl', '--user', ...args];
  return {
    tool: 'systemctl --user',
    start: [s('daemon-reload'), s('enable', paths.name), s('restart', paths.name)],
    stop: [s('disable', '--now', paths.name)],
    afterRemove: [s('daemon-reload')],
    async status() {
      const active = await run('systemctl', ['--user', 'is-active', paths.name]);
      const state = firstLine(active.stdout);
      // is-active exits non-zero for inactive/failed units: that is an answer, not a failure.
      if (!state) return { running: `unknown (systemctl --user: ${active.error ?? 'no answer'})` };
      const pid = Number(firstLine((await run('systemctl', ['--user', 'show', '-p', 'MainPID', '--value', paths.name])).stdout));
      return state === 'active' ? { running: 'yes', ...(pid > 0 ? { pid } : {}) } : { running: `no (${state})` };
    },
  };
}

function launchd(paths: ServicePaths, uid: number): Manager {
  const target = `gui/${uid}/${paths.name}`;
  return {
    tool: 'launchctl',
    // bootout first: bootstrap fails when an older copy is still loaded.
    start: [['launchctl', 'bootout', target], ['launchctl', 'bootstrap', `gui/${uid}`, paths.unitFile]],
    stop: [['launchctl', 'bootout', target]],
    afterRemove: [],
    async status() {
      const printed = await run('launchctl', ['print', target]);
      // "Bad request. / Could not find service … in domain for port": not loaded.
      if (!printed.ok) return { running: /could not find service/i.test(`${printed.stdout}\n${printed.stderr}`) ? 'no (not loaded)' : `unknown (launchctl: ${printed.error})` };
      const state = /^\s*state = (\S+)/m.exec(printed.stdout)?.[1];
      const pid = Number(/^\s*pid = (\d+)/m.exec(printed.stdout)?.[1]);
      return state === 'running' ? { running: 'yes', ...(pid > 0 ? { pid } : {}) } : { running: `no (${state ?? 'not running'})` };
    },
  };
}

async function install(paths: ServicePaths, manager: Manager, daemonArgs: string[], dryRun: boolean, host: ServiceHost): Promise<number> {
  const { out, err } = host;
  const spec: ServiceSpec = {
    paths,
    node: process.execPath,
    nodeFlags: [...DAEMON_NODE_FLAGS],
    script: cliScript(),
    daemonArgs: serviceDaemonArgs(daemonArgs, paths.logFile),
    env: serviceEnv(host),
  };
  const content = renderUnit(spec);
  const existing = readExisting(paths.unitFile);
  if (existing.kind === 'foreign') throw new Error(`${paths.unitFile} exists and was not written by opencode-monitor: refusing to replace it (${existing.why})`);
  const notes = passwordNotes(paths, host.env);
  if (dryRun) {
    out(`would write ${printable(paths.unitFile)} (mode 0644${existing.kind === 'ours' ? ', replacing the one written before' : ''}):\n\n${content}\n`);
    if (paths.stderrFile) out(`would create ${printable(path.dirname(paths.stderrFile))} (mode 0700)\n`);
    out(`would run:\n${manager.start.map((c) => `  ${c.map(shellQuote).join(' ')}\n`).join('')}`);
    out(`the daemon would log to ${printable(paths.logFile)}\n`);
    for (const n of notes) out(n + '\n');
    return 0;
  }
  writeFileAtomic(paths.unitFile, content, 0o644);
  // launchd opens StandardErrorPath itself and does not create its folder.
  if (paths.stderrFile) fs.mkdirSync(path.dirname(paths.stderrFile), { recursive: true, mode: 0o700 });
  out(`wrote ${printable(paths.unitFile)}\n`);
  let failed: CommandResult | undefined;
  for (const [i, command] of manager.start.entries()) {
    const result = await run(command[0]!, command.slice(1));
    // launchd: the first bootout fails when nothing was loaded, which is fine.
    if (!result.ok && !(paths.platform === 'darwin' && i === 0)) {
      failed = result;
      break;
    }
  }
  const startHint = manager.start.filter((c) => !(paths.platform === 'darwin' && c[1] === 'bootout')).map((c) => c.map(shellQuote).join(' ')).join(' && ');
  if (failed) err(`not started (${manager.tool}: ${printable(failed.error ?? 'failed')}); start it with: ${startHint}\n`);
  else out(`started: ${paths.name}\n`);
  out(`logs: ${printable(paths.logFile)}\n`);
  for (const n of notes) out(n + '\n');
  return 0;
}

async function uninstall(paths: ServicePaths, manager: Manager, dryRun: boolean, out: (s: string) => void, err: (s: string) => void): Promise<number> {
  const existing = readExisting(paths.unitFile);
  if (existing.kind === 'absent') {
    out(`not installed: no ${printable(paths.unitFile)}\n`);
    return 0;
  }
  if (existing.kind === 'foreign') {
    err(`opencode-monitor service uninstall: ${printable(paths.unitFile)} was not written by opencode-monitor (${existing.why}): leaving it alone\n`);
    return 1;
  }
  if (dryRun) {
    out(`would run: ${manager.stop.map((c) => c.map(shellQuote).join(' ')).join(' && ')}\nwould remove ${printable(paths.unitFile)}\n`);
    if (manager.afterRemove.length > 0) out(`would run: ${manager.afterRemove.map((c) => c.map(shellQuote).join(' ')).join(' && ')}\n`);
    out(`would keep the logs in ${printable(path.dirname(paths.logFile))}\n`);
    return 0;
  }
  for (const command of manager.stop) {
    const result = await run(command[0]!, command.slice(1));
    if (!result.ok) err(`could not stop it (${manager.tool}: ${printable(result.error ?? 'failed')}); removing the unit anyway\n`);
  }
  fs.rmSync(paths.unitFile);
  out(`removed ${printable(paths.unitFile)}\n`);
  for (const command of manager.afterRemove) await run(command[0]!, command.slice(1));
  out(`logs kept in ${printable(path.dirname(paths.logFile))}\n`);
  return 0;
}

async function status(paths: ServicePaths, manager: Manager, out: (s: string) => void): Promise<number> {
  const existing = readExisting(paths.unitFile);
  if (existing.kind === 'absent') {
    out(`not installed (unit: ${printable(paths.unitFile)})\n`);
    return 0;
  }
  if (existing.kind === 'foreign') out(`a unit not written by opencode-monitor is at ${printable(paths.unitFile)} (${existing.why})\n`);
  else out(`installed: ${printable(paths.unitFile)}\n`);
  const missing = existing.kind === 'ours' ? missingNodeFlags(existing.text, paths.platform) : [];
  if (missing.length > 0) {
    out(`note: this unit starts Node without ${missing.join(' ')} (written by an older version); run \`opencode-monitor service install\` again, with the same daemon options, to update it\n`);
  }
  const state = await manager.status();
  out(`running: ${printable(state.running)}${state.pid ? `, pid ${state.pid}` : ''}\n`);
  for (const warning of envFileWarning(paths)) out(warning + '\n');
  out(`logs: ${printable(logFileOf(existing.text) ?? paths.logFile)} (rotated at 1 MiB)${paths.stderrFile ? `; stderr: ${printable(paths.stderrFile)}` : paths.platform === 'linux' ? `; stderr: journalctl --user -u ${paths.name}` : ''}\n`);
  return 0;
}

type Existing = { kind: 'absent' } | { kind: 'ours'; text: string } | { kind: 'foreign'; why: string; text?: string };

function readExisting(file: string): Existing {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  if (stat.isSymbolicLink()) return { kind: 'foreign', why: 'it is a symbolic link' };
  if (!stat.isFile()) return { kind: 'foreign', why: 'it is not a regular file' };
  const text = fs.readFileSync(file, 'utf8');
  return isOurUnit(text) ? { kind: 'ours', text } : { kind: 'foreign', why: 'no opencode-monitor marker in it', text };
}

/** The Node flags install writes now that a unit (written by an older version) lacks. */
export function missingNodeFlags(text: string, platform: ServicePaths['platform']): string[] {
  return DAEMON_NODE_FLAGS.filter((flag) => !text.includes(platform === 'darwin' ? `<string>${xmlEscape(flag)}</string>` : ` ${systemdExecArg(flag)} `));
}

/** The unit's --log-file when it is plainly readable (the rendered unit quotes it as one word). */
function logFileOf(text: string | undefined): string | undefined {
  const m = text && /"--log-file" "((?:[^"\\]|\\.)*)"|<string>--log-file<\/string>\s*<string>([^<]*)<\/string>/.exec(text);
  if (!m) return undefined;
  if (m[2] !== undefined) return m[2].replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#13;/g, '\r').replace(/&amp;/g, '&');
  const C: Record<string, string> = { n: '\n', t: '\t' };
  return m[1]!
    .replace(/%%/g, '%')
    .replace(/\$\$/g, '$')
    .replace(/\\(x[0-9a-f]{2}|.)/g, (_, e: string) => (e.length === 3 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (C[e] ?? e)));
}

/** The CLI script this process runs (dist/cli.js), through any bin symlink. */
function cliScript(): string {
  const script = process.argv[1];
  if (!script) throw new Error('cannot tell which script runs this CLI (process.argv[1] is empty)');
  return fs.realpathSync(path.resolve(script));
}

/**
 * The daemon flags checked now (a typo fails here, not in a restart loop), relative paths made
 * absolute (the service runs elsewhere), and the per-user log file unless one was given.
 */
export function serviceDaemonArgs(args: string[], defaultLogFile: string, cwd = process.cwd()): string[] {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(['daemon', ...args]);
  } catch (error) {
    throw new ServiceConfigError(`daemon options: ${(error as Error).message}`);
  }
  if (parsed.command !== 'daemon' || parsed.positionals.length > 0) throw new ServiceConfigError(`unexpected daemon argument ${JSON.stringify(parsed.positionals[0] ?? args[0])}`);
  for (const url of parsed.endpoints) {
    let password = '';
    try {
      password = new URL(url).password;
    } catch {
      // a malformed URL is the daemon's to report
    }
    if (password) throw new ServiceConfigError(`--endpoint ${new URL(url).host}: a password in the URL would be written into the unit file; set ${PASSWORD_ENV} for the service instead`);
  }
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const name = arg.startsWith('--') ? arg.slice(2).split('=')[0]! : '';
    if (!PATH_OPTIONS.has(name)) {
      result.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const value = eq >= 0 ? arg.slice(eq + 1) : (args[++i] as string);
    // docker-path may be a bare name looked up on PATH.
    const absolute = name === 'docker-path' && !value.includes('/') ? value : path.resolve(cwd, value);
    result.push(`--${name}`, absolute);
  }
  if (!parsed.options.has('log-file')) result.push('--log-file', defaultLogFile);
  return result;
}

/** Only what the daemon needs to find `opencode`/`docker` and the user's files: never a secret. */
function serviceEnv(host: ServiceHost): Record<string, string> {
  const env: Record<string, string> = {};
  if (host.env.PATH) env.PATH = host.env.PATH;
  env.HOME = host.home;
  return env;
}

function passwordNotes(paths: ServicePaths, env: NodeJS.ProcessEnv): string[] {
  const loose = envFileWarning(paths);
  if (!env[PASSWORD_ENV]) return loose;
  if (paths.envFile) {
    return [...loose, `${PASSWORD_ENV} is set here but is not copied into the unit: to give it to the service, put the line ${PASSWORD_ENV}=… in ${printable(paths.envFile)} (chmod 600) and run: systemctl --user restart ${paths.name}`];
  }
  return [`${PASSWORD_ENV} is set here but is not copied into the LaunchAgent (other processes can read it): run \`launchctl setenv ${PASSWORD_ENV} …\` before the agent starts, or use servers without a password`];
}

/** The EnvironmentFile holds a password: say so when others can read it. */
function envFileWarning(paths: ServicePaths): string[] {
  if (!paths.envFile) return [];
  try {
    const mode = fs.statSync(paths.envFile).mode & 0o777;
    return (mode & 0o077) !== 0 ? [`warning: ${printable(paths.envFile)} is readable by others (mode ${mode.toString(8)}): chmod 600 it`] : [];
  } catch {
    return [];
  }
}

/** Writes through a fresh temporary file and a rename: never through a symlink, never half a unit. */
function writeFileAtomic(file: string, content: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL, mode);
  try {
    fs.writeSync(fd, content);
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').trim().split('\n')[0]?.trim() ?? '';
}

/** For a terminal: control characters from paths or tool output shown, not interpreted. */
function printable(text: string): string {
  return text.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** For the one-line hints a user pastes into a shell. */
export function shellQuote(arg: string): string {
  if (/^[A-Za-z0-9_/.,:@%+=-]+$/.test(arg)) return arg;
  return `'${printable(arg).replace(/'/g, `'\\''`)}'`;
}
