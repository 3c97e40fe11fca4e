/**
 * `opencode-monitor`: the headless face of the monitor core.
 * Server passwords come from OPENCODE_SERVER_PASSWORD, never from the command line (arguments
 * are visible to every user in the process table).
 */
import { appendFileSync } from 'node:fs';
import { createLineLogger } from '../core/log';
import type { Logger } from '../core/log';
import { createMonitor } from '../core/monitor/createMonitor';
import type { Monitor } from '../core/monitor/monitor';
import { OpencodeClient } from '../core/opencode/client';
import type { OpencodeEvent } from '../core/opencode/events';
import { LegacyWriter, DEFAULT_STATE_PATH, DEFAULT_USAGE_PATH } from '../core/legacy/legacyWriter';
import { WriterLock } from '../core/legacy/writerLock';
import { createUsageService } from '../core/usage/service';
import type { UsageService } from '../core/usage/service';
import { BASE_URL_ENV } from '../core/usage/usageClient';
import { version } from '../../package.json';
import { parseArgs } from './args';
import type { ParsedArgs } from './args';
import { renderTable } from './table';
import { toStatusJson } from './statusJson';

const USAGE = `usage: opencode-monitor <command> [options]

commands:
  watch                    live table of every OpenCode instance and session (default)
  status [--json]          one snapshot; --json prints the documented JSON and exits 0
  daemon                   run the monitor and write the legacy SwiftBar files
      --state-file PATH    default ${DEFAULT_STATE_PATH}
      --usage-file PATH    default ${DEFAULT_USAGE_PATH}
      --log-file PATH      default /tmp/opencode-monitor.log
      --lock-file PATH     single-writer lock shared with VS Code windows (default /tmp/opencode-monitor-writer.lock)
  probe <url> [--json]     capabilities, sessions and their status on one server
  events <url>             print one server's live events until interrupted

options (watch, status, daemon):
  --endpoint URL           also watch this server (repeatable); user:password@ in the URL is accepted
  --no-discovery           watch the --endpoint servers only
  --interval MS            discovery interval (default 1000)
  --no-usage               do not show Claude subscription usage (shown when a Claude
                           Code or OpenCode sign-in exists; one process per user polls)

environment:
  OPENCODE_SERVER_PASSWORD   password (user "opencode") for servers that ask for one
  OPENCODE_DEBUG=1           debug logging
  ${BASE_URL_ENV}  usage API base URL (default https://api.anthropic.com)
`;

export async function main(argv: string[]): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseArgs(argv);
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
    case 'probe':
    case 'events':
      return single(args, stderrLogger(debug ? 'debug' : 'warn', false));
    default:
      process.stderr.write(`opencode-monitor: unknown command "${args.command}"\n\n${USAGE}`);
      return 2;
  }
}

function stderrLogger(level: 'debug' | 'warn' | 'error', quietWhileTty: boolean): Logger {
  // While `watch` owns the terminal, log lines would tear the table: keep them for errors only.
  const min = quietWhileTty && process.stdout.isTTY && level !== 'debug' ? 'error' : level;
  return createLineLogger((line) => process.stderr.write(line + '\n'), min);
}

function monitorFrom(args: ParsedArgs, logger: Logger): Monitor {
  return createMonitor({
    logger,
    endpoints: args.endpoints.map((url) => ({ url, password: process.env.OPENCODE_SERVER_PASSWORD })),
    localPassword: process.env.OPENCODE_SERVER_PASSWORD,
    discoverLocal: !args.flags.has('no-discovery'),
    discoveryIntervalMs: args.interval,
  }).start();
}

/** Claude usage, unless --no-usage: one process per user polls, the others read its result. */
function usageFrom(args: ParsedArgs, logger: Logger, ownerLabel: string, monitor: Monitor): UsageService | undefined {
  if (args.flags.has('no-usage')) return undefined;
  const usage = createUsageService({ logger, ownerLabel, version });
  usage.onChange((value) => monitor.setUsage(value));
  usage.start();
  return usage;
}

async function status(args: ParsedArgs, logger: Logger): Promise<number> {
  const monitor = monitorFrom(args, logger);
  const usage = usageFrom(args, logger, `opencode-monitor status (pid ${process.pid})`, monitor);
  try {
    await Promise.all([monitor.settle(), usage?.settle()]);
    if (usage) monitor.setUsage(usage.current());
    const snapshot = monitor.snapshot();
    if (args.flags.has('json')) process.stdout.write(JSON.stringify(toStatusJson(snapshot, Date.now()), null, 2) + '\n');
    else process.stdout.write(renderTable(snapshot, { now: Date.now(), width: process.stdout.columns || 120, color: Boolean(process.stdout.isTTY) }) + '\n');
    return 0;
  } finally {
    await usage?.dispose();
    await monitor.dispose();
  }
}

function watch(args: ParsedArgs, logger: Logger): Promise<number> {
  const monitor = monitorFrom(args, logger);
  const usage = usageFrom(args, logger, `opencode-monitor watch (pid ${process.pid})`, monitor);
  const tty = Boolean(process.stdout.isTTY);
  let last = '';
  const draw = () => {
    const text = renderTable(monitor.snapshot(), { now: Date.now(), width: process.stdout.columns || 120, color: tty });
    if (text === last) return;
    last = text;
    // Home + clear to end: redraw in place without flicker.
    process.stdout.write(tty ? `\x1b[H\x1b[J${text}\n` : `${text}\n\n`);
  };
  if (tty) process.stdout.write('\x1b[?25l\x1b[2J');
  const subscription = monitor.onDidChange(draw);
  // Elapsed times tick even when nothing changes.
  const ticker = setInterval(draw, 1_000);
  draw();
  return new Promise((resolve) => {
    const stop = () => {
      clearInterval(ticker);
      subscription.dispose();
      if (tty) process.stdout.write('\x1b[?25h');
      void Promise.all([usage?.dispose(), monitor.dispose()]).then(() => resolve(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

async function daemon(args: ParsedArgs, debug: boolean): Promise<number> {
  const logFile = args.options.get('log-file') ?? '/tmp/opencode-monitor.log';
  const logger = createLineLogger((line) => {
    try {
      appendFileSync(logFile, line + '\n', { mode: 0o600 });
    } catch {
      process.stderr.write(line + '\n');
    }
  }, debug ? 'debug' : 'info');
  const lock = new WriterLock({ ownerLabel: `opencode-monitor daemon (pid ${process.pid})`, logger, path: args.options.get('lock-file') });
  const monitor = monitorFrom(args, logger);
  const usage = usageFrom(args, logger, `opencode-monitor daemon (pid ${process.pid})`, monitor);
  const writer = new LegacyWriter({
    lock,
    logger,
    statePath: args.options.get('state-file') ?? DEFAULT_STATE_PATH,
    usagePath: args.options.get('usage-file') ?? DEFAULT_USAGE_PATH,
  });
  lock.start();
  const subscription = monitor.onDidChange(() => writer.update(monitor.snapshot()));
  writer.update(monitor.snapshot());
  logger.info(`daemon started (pid ${process.pid}); ${lock.isHolder() ? 'writing' : 'waiting to write'} ${writer.statePath}`);
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info(`daemon stopping on ${signal}`);
      subscription.dispose();
      void (async () => {
        await usage?.dispose();
        await monitor.dispose();
        writer.dispose();
        lock.dispose();
        resolve(0);
      })();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

async function single(args: ParsedArgs, logger: Logger): Promise<number> {
  const url = args.positionals[0];
  if (!url) {
    process.stderr.write(`opencode-monitor ${args.command}: a server URL is required\n\n${USAGE}`);
    return 2;
  }
  const client = new OpencodeClient({ url, password: process.env.OPENCODE_SERVER_PASSWORD }, { logger });
  try {
    return args.command === 'probe' ? await probe(client, args.flags.has('json')) : await events(client);
  } catch (error) {
    process.stderr.write(`opencode-monitor: ${error instanceof Error ? error.message : String(error)}\n`);
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
    process.stdout.write(JSON.stringify({ instance: client.instance, capabilities, sessions, status, permissions, questions }, null, 2) + '\n');
    return 0;
  }
  const families = [capabilities.v1 && 'V1', capabilities.v2 && 'V2 (/api/*)'].filter(Boolean).join(', ') || 'none';
  process.stdout.write(`${client.instance}  OpenCode ${capabilities.version}  routes: ${families}\n`);
  for (const session of sessions) {
    const state = status[session.id]?.type ?? 'idle';
    const waiting = permissions.filter((p) => p.sessionID === session.id).length + questions.filter((q) => q.sessionID === session.id).length;
    process.stdout.write(`${session.parentID ? '  ↳ ' : '  '}${state.padEnd(5)} ${session.title || session.id}${waiting ? `  (needs you: ${waiting})` : ''}\n`);
  }
  if (sessions.length === 0) process.stdout.write('  no sessions\n');
  return 0;
}

function events(client: OpencodeClient): Promise<number> {
  return new Promise((resolve) => {
    const stream = client.events({
      onEvent: (event) => process.stdout.write(formatEvent(event) + '\n'),
      onStatus: (s) => {
        if (s.state === 'waiting') process.stderr.write(`reconnecting (attempt ${s.attempt}): ${s.error?.message ?? ''}\n`);
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
      process.stderr.write(`opencode-monitor: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
