/**
 * `opencode-monitor report [--since 7d] [--json] [--html FILE] [--db FILE]` and
 * `opencode-monitor trace <sessionID> [--json] [--db FILE]`. Queries run in a worker thread.
 * Errors are one line on stderr (exit 1); bad arguments exit 2.
 */
import * as fs from 'node:fs';
import { HistoryError } from '../../core/history/types';
import type { Overview, SessionPage, Trace } from '../../core/history/types';
import { renderHtmlReport } from './html';
import { renderReport, renderTrace, safeText } from './text';
import { runHistoryFrame, walkArgs } from './commandFrame';
import type { HistoryIo } from './commandFrame';

export const HISTORY_JSON_SCHEMA_VERSION = 1;
const REPORT_SESSIONS = 20;

export const HISTORY_USAGE = `  report [--since 7d] [--json] [--html FILE]
                           tokens, cost, models, agents, projects and tools from OpenCode's own
                           database (read-only); --since 24h|7d|30d|all|Nd|Nh (default 7d)
  trace <sessionID> [--json]
                           a session's delegation tree: sub-agents, durations, tokens, cost, tools
      --db FILE            the opencode.db to read (default: $XDG_DATA_HOME/opencode or ~/.local/share/opencode)
`;

interface HistoryArgs {
  command: 'report' | 'trace';
  json: boolean;
  help: boolean;
  since: string;
  html?: string;
  db?: string;
  sessionId?: string;
}

export function parseHistoryArgs(argv: string[]): HistoryArgs {
  const command = argv[0];
  if (command !== 'report' && command !== 'trace') throw new Error(`not a history command: ${String(command)}`);
  const args: HistoryArgs = { command, json: false, help: false, since: '7d' };
  const rest = argv.slice(1);
  walkArgs(rest, ({ arg, name, value }) => {
    if (arg === '-h' || name === 'help') args.help = true;
    else if (name === 'json') args.json = true;
    else if (name === 'since' && command === 'report') args.since = value();
    else if (name === 'html' && command === 'report') args.html = value();
    else if (name === 'db') args.db = value();
    else if (name !== undefined || arg.startsWith('-')) throw new Error(`unknown option ${safeText(arg, 40)} for ${command}`);
    else if (command === 'trace' && args.sessionId === undefined) args.sessionId = arg;
    else throw new Error(`unexpected argument ${safeText(arg, 40)}`);
  });
  if (command === 'trace' && !args.help && !args.sessionId) throw new Error('trace needs a session id (see `opencode-monitor report` for recent ones)');
  if (args.sessionId !== undefined && !/^[\w-]{1,100}$/.test(args.sessionId)) throw new Error('a session id is letters, digits, _ and - (like ses_…)');
  return args;
}


export function runHistoryCommand(argv: string[], io: HistoryIo = defaultIo()): Promise<number> {
  return runHistoryFrame(argv, io, parseHistoryArgs, HISTORY_USAGE, async ({ args, file, client, window }) => {
    if (args.command === 'trace') {
      const trace = await client.request('trace', { sessionId: args.sessionId! });
      io.stdout(args.json ? `${JSON.stringify(traceJson(file, trace), null, 2)}\n` : renderTrace(trace));
      return 0;
    }
    const [overview, sessions] = await Promise.all([client.request('overview', { window }), client.request('sessions', { window, limit: REPORT_SESSIONS })]);
    if (args.html) {
      writeFileAtomic(args.html, renderHtmlReport(overview, sessions));
      if (!args.json) io.stderr(`wrote ${args.html}\n`);
    }
    if (args.json) io.stdout(`${JSON.stringify(reportJson(file, overview, sessions), null, 2)}\n`);
    else if (!args.html) io.stdout(renderReport(overview, sessions));
    return 0;
  });
}

export function reportJson(db: string, overview: Overview, sessions: SessionPage): Record<string, unknown> {
  return { schemaVersion: HISTORY_JSON_SCHEMA_VERSION, generatedAt: new Date().toISOString(), db, ...overview, sessions };
}

export function traceJson(db: string, trace: Trace): Record<string, unknown> {
  return { schemaVersion: HISTORY_JSON_SCHEMA_VERSION, generatedAt: new Date().toISOString(), db, ...trace };
}

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw new HistoryError('error', `cannot write ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function defaultIo(): HistoryIo {
  return { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) };
}
