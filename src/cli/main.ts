/**
 * `opencode-monitor`: the headless face of the monitor core.
 * Server passwords come from OPENCODE_SERVER_PASSWORD, never from the command line (arguments
 * are visible to every user in the process table).
 */
import './wasmTier';
import '../core/util/zodMode';
import * as os from 'node:os';
import * as path from 'node:path';
import { createLineLogger } from '../core/log';
import type { Logger } from '../core/log';
import { createMonitor } from '../core/createMonitor';
import type { Monitor } from '../core/monitor/monitor';
import { OpencodeClient } from '../core/opencode/client';
import type { OpencodeEvent } from '../core/opencode/events';
import { DEFAULT_STATE_PATH, DEFAULT_USAGE_PATH } from '../core/legacy/legacyWriter';
import { startLegacyFiles } from '../core/legacy/legacyFiles';
import { watchDocker } from '../core/discovery/dockerWatch';
import { ServerManager, resolveOpencodeBinary } from '../core/servers/serverManager';
import { startUsage } from '../core/usage/monitorUsage';
import type { RunningUsage } from '../core/usage/monitorUsage';
import { RotatingLog } from '../core/servers/rotatingLog';
import { BASE_URL_ENV } from '../core/usage/usageClient';
import { version } from '../../package.json';
import { parseArgs } from './args';
import type { ParsedArgs } from './args';
import { renderTable } from './table';
import { toStatusJson } from './statusJson';
import type { AgentKind } from '../core/model/model';
import { AGENT_KINDS } from '../core/model/model';
import { describeError } from '../core/util/describe';
import { terminalSafe, terminalSafeJson } from '../core/present/neutralize';
import { environmentPasswordFor, plainHttpPasswordWarning } from '../core/opencode/passwordPolicy';
import { serviceCommand } from './service';
import { HISTORY_USAGE, runHistoryCommand } from './history/command';
import type { LabelStore } from '../core/labels/labelStore';
import { focusCommand, labelCommand, listCommand, openLabels, startDaemonApi } from './apiCommands';
import type { ApiCommandContext } from './apiCommands';
import { AUDIT_USAGE, runAuditCommand } from './history/audit';
import { useDaemonTiers } from './daemonTiers';

const USAGE = `usage: opencode-monitor <command> [options]

commands:
  watch                    live table of every OpenCode instance and session (default)
  status [--json]          one snapshot; --json prints the documented JSON and exits 0
  daemon                   run the monitor and write the legacy SwiftBar files
      --state-file PATH    default ${DEFAULT_STATE_PATH}
      --usage-file PATH    default ${DEFAULT_USAGE_PATH}
      --log-file PATH      default /tmp/opencode-monitor.log (1 MiB, one old file kept)
      --lock-file PATH     single-writer lock shared with VS Code windows (default
                           /tmp/opencode-monitor-<uid>/writer.lock, a 0700 folder)
      --socket [PATH]      also answer the local API (JSON lines) on a Unix socket
                           (default ${'$'}XDG_RUNTIME_DIR/opencode-monitor/api.sock)
  serve [DIR ...]          start \`opencode serve\` in each DIR (default: here), watch them like
                           \`watch\`, restart them when they crash; Ctrl-C stops them all
      --opencode PATH      the opencode executable (default: the first on PATH)
      --log-dir DIR        one log file per server (default ${defaultServerLogDir()})
      --no-restart         leave a crashed server crashed
  service install|uninstall|status [--dry-run] [-- DAEMON OPTIONS]
                           run \`daemon\` as a systemd user unit / macOS LaunchAgent
                           (started at login, restarted after a crash); service --help
  label <session> "text"   label a session (by id or unique id prefix); "" removes the label
  list [--json]            every session with its state, label, waiting time and terminal
  focus <query>            bring a session's terminal to front (tmux), by id or words of its
                           label, title or folder; says which terminal when it cannot
      --socket PATH        ask the daemon listening there (default: the per-user socket);
                           without a daemon these work on their own
  probe <url> [--json]     capabilities, sessions and their status on one server
  events <url>             print one server's live events until interrupted
${AUDIT_USAGE}${HISTORY_USAGE}
options (watch, status, daemon):
  --endpoint URL           also watch this server (repeatable); user:password@ in the URL is accepted
  --no-discovery           watch the --endpoint servers only
  --interval MS            discovery interval (default 1000)
  --docker                 also watch OpenCode in Docker containers (\`docker ps\` every 5 s)
  --docker-path PATH       the Docker CLI (default docker)
  --agents LIST            agent kinds to show: opencode,claude (default both); Claude Code
                           sessions are read from ~/.claude (or $CLAUDE_CONFIG_DIR)
  --no-usage               do not show Claude subscription usage (shown when a Claude
                           Code or OpenCode sign-in exists; one process per user polls)

environment:
  OPENCODE_SERVER_PASSWORD   password (user "opencode") for servers on this machine that ask
                             for one (a remote --endpoint takes user:password@);
                             \`serve\` starts its servers with it
  OPENCODE_DEBUG=1           debug logging
  CLAUDE_CONFIG_DIR          Claude Code's folder (default ~/.claude)
  ${BASE_URL_ENV}  usage API base URL (default https://api.anthropic.com)
`;

export async function main(argv: string[]): Promise<number> {
  // Its own grammar: everything after `--` goes to the daemon.
  if (argv[0] === 'service') return serviceCommand(argv.slice(1));
  if (argv[0] === 'report' || argv[0] === 'trace') return runHistoryCommand(argv);
  if (argv[0] === 'audit') return runAuditCommand(argv, { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
    agentsFrom(args);
  } catch (error) {
    process.stderr.write(`opencode-monitor: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args.flags.has('help') || args.command === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const debug = Boolean(process.env.OPENCODE_DEBUG);
  switch (args.command) {
    case 'watch':
      return watch(args, stderrLogger(debug ? 'debug' : 'warn', true));
    case 'status':
      return status(args, stderrLogger(debug ? 'debug' : 'error', false));
    case 'daemon':
      return daemon(args, debug);
    case 'serve':
      return serve(args, stderrLogger(debug ? 'debug' : 'warn', true));
    case 'probe':
    case 'events':
      return single(args, stderrLogger(debug ? 'debug' : 'warn', false));
    case 'label':
    case 'list':
    case 'focus':
      return apiCommand(args, stderrLogger(debug ? 'debug' : 'error', false));
    default:
      process.stderr.write(`opencode-monitor: unknown command "${args.command}"\n\n${USAGE}`);
      return 2;
  }
}

function stderrLogger(level: 'debug' | 'warn' | 'error', quietWhileTty: boolean): Logger {
  // While `watch` owns the terminal, log lines would tear the table: keep them for errors only.
  const min = quietWhileTty && process.stdout.isTTY && level !== 'debug' ? 'error' : level;
  return createLineLogger((line) => process.stderr.write(terminalSafe(line, true) + '\n'), min);
}

/** `--agents opencode,claude`: the kinds shown; Claude Code is watched when shown (even with --no-discovery). */
function agentsFrom(args: ParsedArgs): { hiddenAgents: AgentKind[]; claude: false | object | undefined } {
  const raw = args.options.get('agents');
  if (raw === undefined) return { hiddenAgents: [], claude: undefined };
  const wanted = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const unknown = wanted.filter((k) => !(AGENT_KINDS as readonly string[]).includes(k));
  if (unknown.length) throw new Error(`--agents: unknown agent kind ${unknown.join(', ')} (known: ${AGENT_KINDS.join(', ')})`);
  return { hiddenAgents: AGENT_KINDS.filter((k) => !wanted.includes(k)), claude: wanted.includes('claude') ? {} : false };
}

function monitorFrom(args: ParsedArgs, logger: Logger, managed?: ServerManager, labels?: LabelStore): Monitor {
  const agents = agentsFrom(args);
  const monitor = createMonitor({
    ...(labels ? { labels } : {}),
    hiddenAgents: agents.hiddenAgents,
    ...(agents.claude !== undefined ? { claude: agents.claude } : {}),
    logger,
    // The environment password only to a loopback --endpoint; a remote one takes user:password@ in its URL (issue 11).
    endpoints: args.endpoints.map((url) => ({ url, password: environmentPasswordFor(url, true, process.env.OPENCODE_SERVER_PASSWORD) })),
    localPassword: process.env.OPENCODE_SERVER_PASSWORD,
    discoverLocal: !args.flags.has('no-discovery'),
    discoveryIntervalMs: args.interval,
    ...(managed ? { managed } : {}),
  }).start();
  if (args.flags.has('docker')) watchDocker(monitor, { logger, binary: args.options.get('docker-path') ?? 'docker' }); // stopped with the monitor
  return monitor;
}

function defaultServerLogDir(): string {
  const state = process.env.XDG_STATE_HOME || path.join(os.homedir(), '.local', 'state');
  return path.join(state, 'opencode-monitor', 'servers');
}

/** Managed servers in the foreground: started here, watched like `watch`, stopped on Ctrl-C. */
async function serve(args: ParsedArgs, logger: Logger): Promise<number> {
  const folders = (args.positionals.length > 0 ? args.positionals : [process.cwd()]).map((d) => path.resolve(d));
  let binary: string;
  try {
    binary = resolveOpencodeBinary(args.options.get('opencode'), process.env, process.platform, undefined, '--opencode');
  } catch (error) {
    process.stderr.write(`opencode-monitor serve: ${describeError(error)}\n`);
    return 1;
  }
  const manager = new ServerManager({
    logger,
    logDir: args.options.get('log-dir') ?? defaultServerLogDir(),
    binary,
    restart: { enabled: !args.flags.has('no-restart') },
  });
  // State changes go to stderr as lines (the table on stdout shows them too when it is a terminal).
  const seen = new Map<string, string>();
  const lifecycle = manager.onDidChange(() => {
    for (const info of manager.list()) {
      const line = `${info.state}${info.url ? ` ${info.url}` : ''}${info.pid ? ` pid ${info.pid}` : ''}${info.state === 'crashed' && info.lastError ? `: ${info.lastError.split('\n')[0]}` : ''}`;
      if (seen.get(info.id) === line) continue;
      seen.set(info.id, line);
      if (!process.stdout.isTTY) process.stderr.write(`${new Date().toISOString()} ${info.folder} ${line}\n`);
    }
  });
  // The servers lead their own process groups: Ctrl-C and a closed terminal never reach them, so
  // every way out of this process stops them. A second signal while stopping kills them at once.
  let stopRequested: () => void = () => undefined;
  const stopSignal = new Promise<void>((resolve) => (stopRequested = resolve));
  let signalled = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signalled === 1) {
      logger.info(`serve: ${signal}, stopping the servers`);
      stopRequested();
      return;
    }
    manager.killAllSync();
    process.exit(130);
  };
  const onExit = (): void => manager.killAllSync();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, onSignal);
  process.on('exit', onExit);
  try {
    const starting = Promise.allSettled(folders.map((folder) => manager.start(folder)));
    const results = await Promise.race([starting, stopSignal.then(() => undefined)]);
    if (!results) return 0; // stopped while starting: the finally stops them
    const failed = results.flatMap((r, i) => (r.status === 'rejected' ? [`${folders[i]}: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`] : []));
    for (const f of failed) process.stderr.write(`opencode-monitor serve: ${f}\n`);
    if (failed.length === folders.length) return 1;
    return await watch(args, logger, manager, stopSignal);
  } finally {
    lifecycle.dispose();
    await manager.dispose();
    process.removeListener('exit', onExit);
    for (const signal of signals) process.removeListener(signal, onSignal);
  }
}

/** Claude usage, unless --no-usage: one process per user polls, the others read its result. */
function usageFrom(args: ParsedArgs, logger: Logger, ownerLabel: string, monitor: Monitor): RunningUsage | undefined {
  if (args.flags.has('no-usage')) return undefined;
  return startUsage(monitor, { logger, ownerLabel, version });
}

async function status(args: ParsedArgs, logger: Logger): Promise<number> {
  const labels = openLabels(logger, false);
  const monitor = monitorFrom(args, logger, undefined, labels);
  const usage = usageFrom(args, logger, `opencode-monitor status (pid ${process.pid})`, monitor);
  try {
    await Promise.all([monitor.settle(), usage?.service.settle()]);
    if (usage) monitor.setUsage(usage.service.current());
    const snapshot = monitor.snapshot();
    if (args.flags.has('json')) process.stdout.write(terminalSafeJson(JSON.stringify(toStatusJson(snapshot, Date.now()), null, 2)) + '\n');
    else process.stdout.write(renderTable(snapshot, { now: Date.now(), width: process.stdout.columns || 120, color: Boolean(process.stdout.isTTY) && !process.env.NO_COLOR }) + '\n');
    return 0;
  } finally {
    await usage?.dispose();
    await monitor.dispose();
    labels.dispose();
  }
}

/** Until SIGINT/SIGTERM, or until `until` resolves (`serve` owns the signals then). */
function watch(args: ParsedArgs, logger: Logger, managed?: ServerManager, until?: Promise<void>): Promise<number> {
  const labels = openLabels(logger);
  const monitor = monitorFrom(args, logger, managed, labels);
  const usage = usageFrom(args, logger, `opencode-monitor watch (pid ${process.pid})`, monitor);
  const tty = Boolean(process.stdout.isTTY);
  // https://no-color.org: any non-empty NO_COLOR turns colours off.
  const color = tty && !process.env.NO_COLOR;
  warnOldNode();
  let last = '';
  const draw = () => {
    const text = renderTable(monitor.snapshot(), { now: Date.now(), width: process.stdout.columns || 120, color, clock: tty, ...(tty && !until ? { footer: 'Ctrl-C to quit' } : {}) });
    if (text === last) return;
    last = text;
    // Home + clear to end: redraw in place without flicker.
    process.stdout.write(tty ? `\x1b[H\x1b[J${text}\n` : `${text}\n\n`);
  };
  if (tty) process.stdout.write('\x1b[?25l\x1b[2J');
  const subscription = monitor.onDidChange(draw);
  // Elapsed times tick on a terminal; piped output is written only when the monitor changes.
  const ticker = tty ? setInterval(draw, 1_000) : undefined;
  draw();
  return new Promise((resolve) => {
    const stop = () => {
      clearInterval(ticker);
      subscription.dispose();
      if (tty) process.stdout.write('\x1b[?25h');
      void Promise.all([usage?.dispose(), monitor.dispose()]).then(() => {
        labels.dispose();
        resolve(0);
      });
    };
    if (until) {
      void until.then(stop);
      return;
    }
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/** Port-less TUIs are read from OpenCode's database with node:sqlite (Node ≥ 22.13): say once, with the fix. */
function warnOldNode(): void {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 13)) return;
  process.stderr.write(
    `opencode-monitor: Node ${process.versions.node} cannot read OpenCode TUIs started without a port (needs node:sqlite, Node ≥ 22.13). ` +
      'Run it with Node 22.13 or newer, or start the TUI with `opencode --port 0`.\n',
  );
}

async function daemon(args: ParsedArgs, debug: boolean): Promise<number> {
  useDaemonTiers();
  const logFile = args.options.get('log-file') ?? '/tmp/opencode-monitor.log';
  // Size-capped, never through a symlink or into another user's file; stderr when it cannot.
  const log = new RotatingLog(logFile, {
    timestamps: false,
    onError: (error) => process.stderr.write(`opencode-monitor daemon: ${terminalSafe(describeError(error))}; logging to stderr\n`),
  });
  const logger = createLineLogger((line) => {
    if (!log.write(line)) process.stderr.write(line + '\n');
  }, debug ? 'debug' : 'info');
  const ownerLabel = `opencode-monitor daemon (pid ${process.pid})`;
  const labels = openLabels(logger);
  const monitor = monitorFrom(args, logger, undefined, labels);
  let api: Awaited<ReturnType<typeof startDaemonApi>>;
  try {
    api = await startDaemonApi(args, monitor, labels, logger);
  } catch (error) {
    process.stderr.write(`opencode-monitor daemon: ${describeError(error)}\n`);
    logger.error(`daemon: local API: ${describeError(error)}`);
    await monitor.dispose();
    labels.dispose();
    return 1;
  }
  const usage = usageFrom(args, logger, ownerLabel, monitor);
  const files = startLegacyFiles(monitor, {
    logger,
    ownerLabel,
    lockPath: args.options.get('lock-file'),
    statePath: args.options.get('state-file') ?? DEFAULT_STATE_PATH,
    usagePath: args.options.get('usage-file') ?? DEFAULT_USAGE_PATH,
  });
  logger.info(`daemon started (pid ${process.pid}); ${files.isHolder() ? 'writing' : 'waiting to write'} ${files.statePath}`);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`daemon stopping on ${signal}`);
      void (async () => {
        await api?.close();
        await usage?.dispose();
        await monitor.dispose();
        files.dispose();
        await labels.flushed();
        labels.dispose();
        log.close();
        resolve(0);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** `label`, `list`, `focus`: through the daemon's socket when one answers, else on their own. */
async function apiCommand(args: ParsedArgs, logger: Logger): Promise<number> {
  const ctx: ApiCommandContext = {
    args,
    logger,
    oneShotMonitor: (labels) => monitorFrom(args, logger, undefined, labels),
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
  };
  try {
    return await (args.command === 'label' ? labelCommand(ctx) : args.command === 'list' ? listCommand(ctx) : focusCommand(ctx));
  } catch (error) {
    process.stderr.write(`opencode-monitor ${args.command}: ${describeError(error)}\n`);
    return 1;
  }
}

async function single(args: ParsedArgs, logger: Logger): Promise<number> {
  const url = args.positionals[0];
  if (!url) {
    process.stderr.write(`opencode-monitor ${args.command}: a server URL is required\n\n${USAGE}`);
    return 2;
  }
  const warning = plainHttpPasswordWarning(url, process.env.OPENCODE_SERVER_PASSWORD);
  if (warning) process.stderr.write(`opencode-monitor: warning: ${warning}\n`);
  const client = new OpencodeClient({ url, password: process.env.OPENCODE_SERVER_PASSWORD }, { logger });
  try {
    return args.command === 'probe' ? await probe(client, args.flags.has('json')) : await events(client);
  } catch (error) {
    process.stderr.write(`opencode-monitor: ${terminalSafe(describeError(error))}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

async function probe(client: OpencodeClient, json: boolean): Promise<number> {
  const capabilities = await client.capabilities();
  const [sessions, status, permissions, questions] = await Promise.all([
    client.sessions(),
    client.sessionStatus(),
    capabilities.permissions ? client.permissions() : Promise.resolve([]),
    capabilities.questions ? client.questions() : Promise.resolve([]),
  ]);
  if (json) {
    process.stdout.write(terminalSafeJson(JSON.stringify({ instance: client.instance, capabilities, sessions, status, permissions, questions }, null, 2)) + '\n');
    return 0;
  }
  const families = [capabilities.v1 && 'V1', capabilities.v2 && 'V2 (/api/*)'].filter(Boolean).join(', ') || 'none';
  process.stdout.write(`${terminalSafe(client.instance)}  OpenCode ${terminalSafe(capabilities.version)}  routes: ${families}\n`);
  for (const session of sessions) {
    const state = status[session.id]?.type ?? 'idle';
    const waiting = permissions.filter((p) => p.sessionID === session.id).length + questions.filter((q) => q.sessionID === session.id).length;
    process.stdout.write(`${session.parentID ? '  ↳ ' : '  '}${terminalSafe(state).padEnd(5)} ${terminalSafe(session.title || session.id)}${waiting ? `  (needs you: ${waiting})` : ''}\n`);
  }
  if (sessions.length === 0) process.stdout.write('  no sessions\n');
  return 0;
}

function events(client: OpencodeClient): Promise<number> {
  return new Promise((resolve) => {
    const stream = client.events({
      onEvent: (event) => process.stdout.write(terminalSafe(formatEvent(event)) + '\n'),
      onStatus: (s) => {
        if (s.state === 'waiting') process.stderr.write(`reconnecting (attempt ${s.attempt}): ${terminalSafe(s.error?.message ?? '')}\n`);
      },
    });
    const stop = () => void stream.dispose().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function formatEvent(event: OpencodeEvent): string {
  const time = new Date().toISOString().slice(11, 23);
  if (event.type === 'unknown') return `${time} ${event.originalType || '(no type)'}`;
  const sessionID = 'sessionID' in event.properties ? event.properties.sessionID : undefined;
  return `${time} ${event.type}${sessionID ? ' ' + String(sessionID) : ''}`;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`opencode-monitor: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
