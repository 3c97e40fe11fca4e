export interface BackoffOptions {
  /** Delay before the first retry. */
  initialMs: number;
  /** No delay grows past this. */
  maxMs: number;
}

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries
 * from many clients spread out but never collapse to zero.
 * `attempt` counts from 1 (the first retry).
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(attempt - 1, 0), 30);
  const step = Math.min(options.maxMs, options.initialMs * 2 ** exponent);
  return Math.round(step / 2 + random() * (step / 2));
}
