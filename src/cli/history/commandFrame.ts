/**
 * What the history commands (`report`, `trace`, `audit`) share: the option grammar (`--name value`,
 * `--name=value`, flags, bare words) and the frame around a query (arguments, window, the DB
 * file, a worker client closed after, one-line errors).
 */
import { HistoryClient } from '../../core/history/historyClient';
import { defaultDbPath } from '../../core/history/historyDb';
import { windowFromSince } from '../../core/history/since';
import { HistoryError } from '../../core/history/types';
import type { HistoryWindow } from '../../core/history/types';
import { safeText } from './text';

export interface HistoryIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env?: NodeJS.ProcessEnv;
  /** Tests point at out/…/historyWorker.js; the bundle finds dist/historyWorker.js itself. */
  workerFile?: string;
  timeoutMs?: number;
}

export interface HistoryRun<A> {
  args: A;
  window: HistoryWindow;
  file: string;
  env: NodeJS.ProcessEnv;
  client: HistoryClient;
}

/** Parses, answers --help, finds the DB, runs `work` with a worker client; exit 2 for bad arguments, 1 for a failed query. */
export async function runHistoryFrame<A extends { help: boolean; since: string; db?: string }>(
  argv: string[],
  io: HistoryIo,
  parse: (argv: string[]) => A,
  usage: string,
  work: (run: HistoryRun<A>) => Promise<number>,
): Promise<number> {
  let args: A;
  let window: HistoryWindow;
  try {
    args = parse(argv);
    window = windowFromSince(args.since);
  } catch (error) {
    io.stderr(`opencode-monitor: ${(error as Error).message}\n`);
    return 2;
  }
  if (args.help) {
    io.stdout(`usage: opencode-monitor\n${usage}`);
    return 0;
  }
  const env = io.env ?? process.env;
  const file = args.db ?? defaultDbPath(env);
  if (!file) {
    io.stderr("opencode-monitor: cannot find OpenCode's database: neither HOME nor XDG_DATA_HOME is set (use --db FILE)\n");
    return 1;
  }
  const client = new HistoryClient({ file, workerFile: io.workerFile, timeoutMs: io.timeoutMs ?? 120_000 });
  try {
    return await work({ args, window, file, env, client });
  } catch (error) {
    const message = error instanceof HistoryError ? error.message : `${(error as Error)?.message ?? error}`.split('\n')[0];
    io.stderr(`opencode-monitor: ${safeText(String(message), 300)}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

export interface ArgStep {
  arg: string;
  /** The option's name without `--`, undefined for a bare word or `-x`. */
  name: string | undefined;
  /** The option's value (`--name=value` or the next word); throws when there is none. */
  value(): string;
}

export function walkArgs(rest: readonly string[], visit: (step: ArgStep) => void): void {
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? (eq > 0 ? arg.slice(2, eq) : arg.slice(2)) : undefined;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : rest[++i];
      if (v === undefined || v === '' || v.startsWith('--')) throw new Error(`--${name} needs a value`);
      return v;
    };
    visit({ arg, name, value });
  }
}
