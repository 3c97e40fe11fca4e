/**
 * What a managed server is given: its folder and binary, environment and password, log, restart
 * policy and timings (with their defaults), and the arguments it runs with.
 */
import * as fs from 'node:fs';
import type { Logger } from '../log';
import { describeError } from '../util/describe';
import { DEFAULT_RESTART_BACKOFF } from './restartPolicy';
import type { RestartBackoff } from './restartPolicy';
import type { RestartPolicy } from './types';

export interface ManagedServerTiming {
  /** Spawn → answering, or the start fails (default 30 s). */
  startupTimeoutMs: number;
  /** SIGTERM → SIGKILL (default 5 s). */
  stopTimeoutMs: number;
  /** Pause between two readiness probes (default 200 ms). */
  readyPollMs: number;
  /** Deadline of one readiness probe (default 1 s): a probe sent too early is never answered. */
  readyTryTimeoutMs: number;
  /** Automatic restarts wait 1 s, 2 s, 4 s … up to 30 s. */
  restartBackoff: RestartBackoff;
  /** Event-stream silence taken for a dead connection (the stream's default: 30 s). */
  watchdogMs?: number;
  /** Deadline for each event-stream connection (the stream's default). */
  connectTimeoutMs?: number;
}

export const DEFAULT_TIMING: ManagedServerTiming = {
  startupTimeoutMs: 30_000,
  stopTimeoutMs: 5_000,
  readyPollMs: 200,
  readyTryTimeoutMs: 1_000,
  restartBackoff: DEFAULT_RESTART_BACKOFF,
};

export interface ManagedServerOptions {
  id: string;
  folder: string;
  /** The `opencode` to run; a function is asked again at every (re)start. */
  binary: string | (() => string);
  /** Base environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** OPENCODE_SERVER_PASSWORD for the server; default: the one the base environment carries. */
  password?: string;
  logger?: Logger;
  /** Where its log file goes; none when undefined. */
  logDir?: string;
  logMaxBytes?: number;
  restart?: Partial<RestartPolicy>;
  startupTimeoutMs?: number;
  stopTimeoutMs?: number;
  timing?: Partial<ManagedServerTiming>;
  platform?: NodeJS.Platform;
}

/** The options' timings over the defaults; the two top-level timeouts win over `timing`. */
export function resolveTiming(options: ManagedServerOptions): ManagedServerTiming {
  return {
    ...DEFAULT_TIMING,
    ...options.timing,
    ...(options.startupTimeoutMs !== undefined ? { startupTimeoutMs: options.startupTimeoutMs } : {}),
    ...(options.stopTimeoutMs !== undefined ? { stopTimeoutMs: options.stopTimeoutMs } : {}),
  };
}

/**
 * The environment the server runs in, and the password its clients need: the given one, else the
 * one the base environment carries (an empty one is none).
 */
export function serverEnvironment(options: ManagedServerOptions): { env: NodeJS.ProcessEnv; password: string | undefined } {
  const base = options.env ?? process.env;
  const inherited = base.OPENCODE_SERVER_PASSWORD;
  const env = { ...base };
  if (options.password !== undefined) env.OPENCODE_SERVER_PASSWORD = options.password;
  return { env, password: options.password ?? (inherited === '' ? undefined : inherited) };
}

export const SERVE_ARGS = ['serve', '--port', '0', '--hostname', '127.0.0.1'] as const;

/** The folder exists and is a folder, or an error that says why it cannot be used. */
export function checkFolder(folder: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(folder);
  } catch (error) {
    throw new Error(`folder ${folder} cannot be used: ${describeError(error)}`, { cause: error });
  }
  if (!stat.isDirectory()) throw new Error(`${folder} is not a folder`);
}
