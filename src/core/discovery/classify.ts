/**
 * Platform-independent rules: which command lines are OpenCode instances worth monitoring, and
 * which of the candidate processes a scanner reports. Pure functions, unit-tested on argv variants.
 */
import * as path from 'node:path';
import type { ListenAddress, OpencodeProcess, OpencodeProcessKind } from './types';

export type ArgvRole =
  /** A long-running OpenCode (server, web, TUI, ACP agent): monitor it. */
  | { role: 'instance'; kind: OpencodeProcessKind }
  /** `node …/opencode-ai/bin/opencode …` (opencode-ai before the native bin): the binary runs as its child. */
  | { role: 'wrapper'; kind: OpencodeProcessKind }
  /** `opencode attach <url>`: a TUI client of another server, whose sessions that server reports. */
  | { role: 'attach'; url?: string }
  /** A short-lived or non-agent command: `run`, `models`, `auth`, `--version`, … */
  | { role: 'command'; command: string }
  | { role: 'other' };

/** `opencode`, `opencode.exe`, `.opencode-wrapped` (Nix), any directory, `/` or `\` separated. */
export function isOpencodeExecutable(file: string): boolean {
  const base = file.split(/[\\/]/).pop() ?? '';
  return /^\.?opencode(-wrapped)?(\.exe)?$/i.test(base);
}

/** Cheap pre-filter on a kernel process name (Linux comm is cut at 15 characters: `.opencode-wrapp`). */
export function isOpencodeProcessName(name: string): boolean {
  return /^\.?opencode/i.test(name.split(/[\\/]/).pop() ?? '');
}

const RUNTIMES = /^(node|nodejs|bun)(\.exe)?$/i;

/** Global options of the `opencode` CLI (1.18) that take a value: their value is not a subcommand. */
const VALUE_OPTIONS = new Set([
  '--port',
  '--hostname',
  '--log-level',
  '--mdns-domain',
  '--cors',
  '-m',
  '--model',
  '-s',
  '--session',
  '--prompt',
  '--agent',
  '--replay-limit',
]);

const INFO_OPTIONS = new Set(['-h', '--help', '-v', '--version']);

/** Subcommands that run an agent we can watch; any other word is the TUI's project directory. */
const INSTANCE_COMMANDS: Record<string, OpencodeProcessKind> = {
  serve: 'serve',
  web: 'web',
  // `pr <n>` checks out a PR branch, then runs the TUI.
  pr: 'tui',
  // Agent Client Protocol over stdio (editors): a real agent, but neither server nor TUI.
  acp: 'unknown',
};

/** Subcommands that are not instances (1.18.33 `opencode --help`, plus older names). */
const OTHER_COMMANDS = new Set([
  'run',
  'completion',
  'mcp',
  'debug',
  'providers',
  'auth',
  'agent',
  'upgrade',
  'uninstall',
  'models',
  'stats',
  'export',
  'import',
  'github',
  'session',
  'plugin',
  'plug',
  'db',
  'generate',
]);

export function classifyArgs(args: readonly string[]): ArgvRole {
  const exe = args[0];
  if (exe === undefined) return { role: 'other' };
  if (isOpencodeExecutable(exe)) {
    const role = classifyOpencodeArgs(args.slice(1));
    return role;
  }
  if (RUNTIMES.test(exe.split(/[\\/]/).pop() ?? '')) {
    // Runtime options come before the script; the first non-option is the script.
    const scriptIndex = args.findIndex((a, i) => i > 0 && !a.startsWith('-'));
    const script = scriptIndex > 0 ? args[scriptIndex] : undefined;
    if (script === undefined || !isOpencodeExecutable(script)) return { role: 'other' };
    const inner = classifyOpencodeArgs(args.slice(scriptIndex + 1));
    return inner.role === 'instance' ? { role: 'wrapper', kind: inner.kind } : inner;
  }
  return { role: 'other' };
}

/** The arguments after the executable (yargs-style: options may precede the subcommand). */
function classifyOpencodeArgs(rest: readonly string[]): ArgvRole {
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--') break;
    if (INFO_OPTIONS.has(arg)) return { role: 'command', command: arg };
    if (arg.startsWith('-')) {
      if (!arg.includes('=') && VALUE_OPTIONS.has(arg)) i++;
      continue;
    }
    const word = arg.toLowerCase();
    const kind = INSTANCE_COMMANDS[word];
    if (kind) return { role: 'instance', kind };
    if (word === 'attach') return { role: 'attach', url: rest.slice(i + 1).find((a) => !a.startsWith('-')) };
    if (OTHER_COMMANDS.has(word)) return { role: 'command', command: word };
    // `opencode <dir>`: the TUI in that project.
    return { role: 'instance', kind: 'tui' };
  }
  return { role: 'instance', kind: 'tui' };
}

/** Whether OpenCode will listen on TCP: servers always do, the TUI only with one of these options. */
export function expectsPort(args: readonly string[]): boolean {
  const role = classifyArgs(args);
  if ((role.role === 'instance' || role.role === 'wrapper') && (role.kind === 'serve' || role.kind === 'web')) return true;
  return args.some((a) => /^--(port|hostname|mdns)(=|$)/.test(a));
}

export const DEFAULT_TABLE_REFRESH_MS = 10_000;
export const DEFAULT_PORT_WAIT_MS = 120_000;
/** A server waiting for its port triggers a listing every scan this long, then every WAIT_STEP_MS. */
const EAGER_WAIT_MS = 30_000;
const WAIT_STEP_MS = 3_000;

/**
 * Listening sockets are costly to list (a kernel hash walk on Linux, lsof/netstat elsewhere), so
 * scanners list them only when something may have changed: a process not seen at the last
 * listing; a server still waiting for its port (every scan for 30 s after it was first seen, then
 * every 3 s until portWaitMs); and every refreshMs for the rare late or closed port.
 */
export function listenRefreshDue(
  now: number,
  lastListing: number,
  processes: ReadonlyArray<{ known: boolean; args: readonly string[]; listenerCount: number; firstSeen: number }>,
  options: { refreshMs?: number; portWaitMs?: number } = {},
): boolean {
  if (processes.length === 0) return false;
  if (now - lastListing >= (options.refreshMs ?? DEFAULT_TABLE_REFRESH_MS)) return true;
  if (processes.some((p) => !p.known)) return true;
  const wait = options.portWaitMs ?? DEFAULT_PORT_WAIT_MS;
  const waiting = processes.filter((p) => p.listenerCount === 0 && now - p.firstSeen < wait && expectsPort(p.args));
  if (waiting.some((p) => now - p.firstSeen < EAGER_WAIT_MS)) return true;
  return waiting.length > 0 && now - lastListing >= WAIT_STEP_MS;
}

/** listenRefreshDue over scanner candidates that remember their listeners (`undefined`: never listed). */
export function listenersDue(
  now: number,
  lastListing: number,
  candidates: ReadonlyArray<{ args: readonly string[]; info: { listeners?: readonly unknown[]; firstSeen: number } }>,
  options: { refreshMs?: number; portWaitMs?: number } = {},
): boolean {
  return listenRefreshDue(
    now,
    lastListing,
    candidates.map((c) => ({ known: c.info.listeners !== undefined, args: c.args, listenerCount: c.info.listeners?.length ?? 0, firstSeen: c.info.firstSeen })),
    options,
  );
}

/** Where OpenCode keeps `opencode.db` (xdg-basedir semantics: an empty XDG_DATA_HOME is unset). */
export function dataDirFromEnv(
  env: { HOME?: string; XDG_DATA_HOME?: string },
  join: (...parts: string[]) => string = path.posix.join,
): string | undefined {
  if (env.XDG_DATA_HOME) return join(env.XDG_DATA_HOME, 'opencode');
  if (env.HOME) return join(env.HOME, '.local', 'share', 'opencode');
  return undefined;
}

/** The environment variables discovery reads (never more: the rest may hold secrets). */
export const ENV_KEYS = ['HOME', 'XDG_DATA_HOME', 'OPENCODE_PID'] as const;
export type EnvSubset = Partial<Record<(typeof ENV_KEYS)[number], string>>;

export function pickEnv(entries: Iterable<[string, string]>): EnvSubset {
  const out: EnvSubset = {};
  for (const [key, value] of entries) {
    if ((ENV_KEYS as readonly string[]).includes(key)) out[key as keyof EnvSubset] = value;
  }
  return out;
}

/** A process a scanner found whose argv points at OpenCode, before the cross-process rules. */
export interface Candidate {
  pid: number;
  ppid: number;
  args: string[];
  role: ArgvRole;
  tty?: string;
  cwd?: string;
  env?: EnvSubset;
  listeners: ListenAddress[];
  startTime?: number;
}

/**
 * Applies the rules that need the whole candidate set:
 * - a node wrapper is dropped when its OpenCode child is there (the child is the instance);
 * - a process with OPENCODE_PID naming a live OpenCode process is a bash-tool child of that
 *   agent (e.g. `opencode serve` run by the agent itself), not an instance of the user's.
 */
export function selectInstances(candidates: readonly Candidate[], join?: (...parts: string[]) => string): OpencodeProcess[] {
  return keepCandidates(candidates).map((c) => toOpencodeProcess(c, join));
}

/** The candidates selectInstances keeps (scanners look up ports for these only); pass them all. */
export function keepCandidates<T extends Candidate>(candidates: readonly T[]): T[] {
  const pids = new Set(candidates.map((c) => c.pid));
  const parents = new Set(candidates.map((c) => c.ppid));
  const argsOf = new Map(candidates.map((c) => [c.pid, c.args.join('\0')]));
  return candidates
    .filter((c) => {
      if (c.role.role !== 'instance' && c.role.role !== 'wrapper') return false;
      if (c.role.role === 'wrapper' && parents.has(c.pid)) return false;
      // A tool child caught between fork and exec still looks exactly like its OpenCode parent.
      if (argsOf.get(c.ppid) === c.args.join('\0')) return false;
      const owner = Number(c.env?.OPENCODE_PID);
      return !(Number.isInteger(owner) && owner > 0 && owner !== c.pid && pids.has(owner));
    })
    .sort((a, b) => a.pid - b.pid);
}

export function toOpencodeProcess(c: Candidate, join?: (...parts: string[]) => string): OpencodeProcess {
  const kind: OpencodeProcessKind = c.role.role === 'instance' || c.role.role === 'wrapper' ? c.role.kind : 'unknown';
  const listeners = uniqueListeners(c.listeners);
  const p: OpencodeProcess = {
    pid: c.pid,
    ppid: c.ppid,
    args: c.args,
    kind,
    ports: [...new Set(listeners.map((l) => l.port))].sort((a, b) => a - b),
    listeners,
  };
  if (c.tty) p.tty = c.tty;
  if (c.cwd) p.cwd = c.cwd;
  if (c.env?.HOME) p.home = c.env.HOME;
  const dataDir = c.env ? dataDirFromEnv(c.env, join) : undefined;
  if (dataDir) p.dataDir = dataDir;
  if (c.startTime !== undefined) p.startTime = c.startTime;
  return p;
}

function uniqueListeners(list: readonly ListenAddress[]): ListenAddress[] {
  const seen = new Map<string, ListenAddress>();
  for (const l of list) seen.set(`${l.address}|${l.port}`, { address: l.address, port: l.port });
  // IPv4 before IPv6 for the same port: the URL is built from the first.
  const rank = (l: ListenAddress): number => (l.address.includes(':') ? 1 : 0);
  return [...seen.values()].sort(
    (a, b) => a.port - b.port || rank(a) - rank(b) || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0),
  );
}

/**
 * The URL that reaches a listener from this machine: wildcard and loopback binds are asked on
 * loopback, a specific address on itself.
 */
export function urlForListener(l: ListenAddress): string {
  const a = l.address.toLowerCase();
  if (a === '0.0.0.0' || a === '*' || a === '' || a.startsWith('127.')) return `http://127.0.0.1:${l.port}`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return urlForListener({ address: mapped[1] as string, port: l.port });
  // A `::` bind may be v6-only; ::1 always reaches it.
  if (a === '::' || a === '::1') return `http://[::1]:${l.port}`;
  return a.includes(':') ? `http://[${a}]:${l.port}` : `http://${a}:${l.port}`;
}
