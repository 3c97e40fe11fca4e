/**
 * How a managed server is judged alive: at start, GET /global/health polled with short deadlines
 * (OpenCode ignores requests in its first half second) until it answers; once running, its event
 * stream, whose heartbeats arrive every ~10 s and which reconnects with backoff.
 */
import type { OpencodeClient } from '../opencode/client';
import { isOpencodeError } from '../opencode/errors';
import type { EventStream, EventStreamStatus } from '../opencode/eventStream';
import { describeError } from '../util/describe';
import type { ManagedServerTiming } from './managedServerOptions';

export type Readiness =
  | { kind: 'ready' }
  /** No longer wanted (stopped, timed out, another attempt): nothing more to do. */
  | { kind: 'abandoned' }
  /** It answers, but wants a password it was not given. */
  | { kind: 'rejected'; reason: string };

/**
 * Probes until the server answers. `wanted()` is asked before and after every probe; each failed
 * probe's reason goes to `onProbeFailed` (for the timeout message).
 */
export async function waitUntilAnswering(
  client: OpencodeClient,
  timing: Pick<ManagedServerTiming, 'readyTryTimeoutMs' | 'readyPollMs'>,
  signal: AbortSignal,
  wanted: () => boolean,
  onProbeFailed: (reason: string) => void,
): Promise<Readiness> {
  for (;;) {
    if (!wanted() || signal.aborted) return { kind: 'abandoned' };
    try {
      await client.health({ timeoutMs: timing.readyTryTimeoutMs, signal });
      break;
    } catch (error) {
      if (!wanted() || signal.aborted) return { kind: 'abandoned' };
      if (isOpencodeError(error) && error.kind === 'auth_required') return { kind: 'rejected', reason: `it answers 401: ${error.message}` };
      onProbeFailed(describeError(error));
    }
    await sleep(timing.readyPollMs, signal);
  }
  return !wanted() || signal.aborted ? { kind: 'abandoned' } : { kind: 'ready' };
}

/** Why a start timed out: no port printed yet, or no answer on it (with the last probe's error). */
export function startupTimeoutReason(timeoutMs: number, url: string | undefined, lastProbe: string | undefined): string {
  const seconds = Math.round(timeoutMs / 100) / 10;
  return url
    ? `did not answer GET /global/health on ${url} within ${seconds} s${lastProbe ? ` (last try: ${lastProbe})` : ''}`
    : `did not print "opencode server listening on …" within ${seconds} s`;
}

export interface HealthWatch {
  /** Whether the stream's news still matter (this process, still running). */
  active(): boolean;
  /** Failed connections in a row that make it "not answering" (read at each failure: the policy may change). */
  failuresAllowed(): number;
  write(line: string): void;
  notAnswering(reason: string): void;
}

/** Its event stream doubles as the health check. */
export function watchHealth(client: OpencodeClient, timing: Pick<ManagedServerTiming, 'watchdogMs' | 'connectTimeoutMs'>, watch: HealthWatch): EventStream {
  let failing = false;
  return client.events({
    onEvent: () => undefined,
    onStatus: (status: EventStreamStatus) => {
      if (!watch.active()) return;
      if (status.state === 'waiting') {
        failing = true;
        watch.write(`event stream failed (${status.attempt} in a row): ${status.error?.message ?? 'unknown error'}`);
        if (status.attempt >= watch.failuresAllowed()) watch.notAnswering(`not answering: ${status.error?.message ?? 'its event stream failed'}`);
      } else if (status.state === 'open' && failing) {
        failing = false;
        watch.write('event stream open again');
      }
    },
    ...(timing.watchdogMs !== undefined ? { watchdogMs: timing.watchdogMs } : {}),
    ...(timing.connectTimeoutMs !== undefined ? { connectTimeoutMs: timing.connectTimeoutMs } : {}),
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
