/**
 * Managed OpenCode servers: processes this monitor starts, watches and stops itself. The public
 * shape is shared by the extension, the CLI and the monitor (which marks their instances).
 */
import type { Disposable, Listener } from '../util/events';

export type Event<T> = (listener: Listener<T>) => Disposable;

/**
 * stopped → starting (spawned, port not known yet) → waitingReady (port read from stdout, not
 * answering yet) → running → stopping → stopped; `crashed` when the process exits on its own, fails
 * to start, or its event stream failed too often (it is then restarted by the policy, or stays
 * crashed once the policy gives up).
 */
export type ManagedServerState = 'stopped' | 'starting' | 'waitingReady' | 'running' | 'stopping' | 'crashed';

export interface ManagedServerInfo {
  /** Stable for the life of the manager (`srv-1`, `srv-2`, …): survives restarts. */
  id: string;
  /** The folder it serves (its cwd). */
  folder: string;
  state: ManagedServerState;
  /** The process while one runs. */
  pid?: number;
  port?: number;
  /** `http://127.0.0.1:<port>` once read from its stdout. */
  url?: string;
  /** When the current process became `running` (ms since epoch). */
  runningSince?: number;
  /** When the current process was spawned (ms since epoch). */
  spawnedAt?: number;
  /** Automatic restarts done so far. */
  restarts: number;
  /** Why it crashed or failed to start (with the last stderr lines when there are any). */
  lastError?: string;
  /** Its log file (stdout + stderr + lifecycle lines). */
  logFile?: string;
  /** Started with OPENCODE_SERVER_PASSWORD (the password itself never appears here). */
  passwordProtected: boolean;
  /** Spawn → running of the current (or last) process, in ms. */
  startupMs?: number;
  /** How long the last stop() took, and whether it needed SIGKILL. */
  lastStopMs?: number;
  lastStopForced?: boolean;
  /** While crashed with an automatic restart pending: when it happens (ms since epoch). */
  nextRestartAt?: number;
}

export interface RestartPolicy {
  /** Restart after a crash or after `healthFailures` consecutive event-stream failures (default true). */
  enabled: boolean;
  /** At most this many automatic restarts within `windowMs` (default 5 in 10 min); then it stays crashed. */
  maxRestarts?: number;
  windowMs?: number;
  /** Consecutive failed event-stream connections that count as a dead server (default 3). */
  healthFailures?: number;
}

export interface ManagedServerHandle {
  readonly id: string;
  info(): ManagedServerInfo;
  readonly onDidChange: Event<ManagedServerInfo>;
}

