/**
 * When a crashed managed server is started again: after 1 s, 2 s, 4 s … (capped at 30 s), at most
 * `maxRestarts` times within `windowMs`; past that it stays crashed so a server that cannot run
 * does not burn CPU forever. The backoff step is the number of restarts still inside the window,
 * so a server that ran fine for a while starts again from 1 s.
 */
import type { RestartPolicy } from './types';

export type ResolvedRestartPolicy = Required<RestartPolicy>;

export const DEFAULT_RESTART_POLICY: ResolvedRestartPolicy = {
  enabled: true,
  maxRestarts: 5,
  windowMs: 10 * 60_000,
  healthFailures: 3,
};

export interface RestartBackoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_RESTART_BACKOFF: RestartBackoff = { initialMs: 1_000, maxMs: 30_000 };

export function resolveRestartPolicy(policy: Partial<RestartPolicy> = {}): ResolvedRestartPolicy {
  const pick = (value: number | undefined, fallback: number, min: number): number =>
    value !== undefined && Number.isFinite(value) ? Math.max(min, Math.floor(value)) : fallback;
  return {
    enabled: policy.enabled ?? DEFAULT_RESTART_POLICY.enabled,
    maxRestarts: pick(policy.maxRestarts, DEFAULT_RESTART_POLICY.maxRestarts, 0),
    windowMs: pick(policy.windowMs, DEFAULT_RESTART_POLICY.windowMs, 1),
    healthFailures: pick(policy.healthFailures, DEFAULT_RESTART_POLICY.healthFailures, 1),
  };
}

export type RestartDecision =
  | { restart: true; delayMs: number; /** 1 for the first restart inside the window. */ attempt: number }
  | { restart: false; reason: string };

/** Restarts of the history (ms timestamps) that still count at `now`. */
export function recentRestarts(history: readonly number[], now: number, windowMs: number): number[] {
  return history.filter((t) => now - t < windowMs);
}

/** Whether (and after how long) to restart, given when the earlier automatic restarts happened. */
export function decideRestart(
  history: readonly number[],
  now: number,
  policy: ResolvedRestartPolicy,
  backoff: RestartBackoff = DEFAULT_RESTART_BACKOFF,
): RestartDecision {
  if (!policy.enabled) return { restart: false, reason: 'automatic restart is off' };
  const recent = recentRestarts(history, now, policy.windowMs).length;
  if (recent >= policy.maxRestarts) {
    return { restart: false, reason: `gave up after ${recent} restart${recent === 1 ? '' : 's'} within ${formatWindow(policy.windowMs)}` };
  }
  const attempt = recent + 1;
  const delayMs = Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.min(attempt - 1, 30));
  return { restart: true, delayMs, attempt };
}

function formatWindow(ms: number): string {
  if (ms % 60_000 === 0) return `${ms / 60_000} min`;
  if (ms % 1_000 === 0) return `${ms / 1_000} s`;
  return `${ms} ms`;
}
