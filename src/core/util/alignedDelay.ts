import type { Disposable } from './events';

/**
 * Milliseconds until the next multiple of `periodMs` since the epoch.
 *
 * Why: an idle monitor's cost is mostly its wake-ups (a timer callback that stats one file costs
 * ~0.2 ms of CPU, most of it waking the event loop). Periodic work scheduled with this delay
 * (discovery, lock heartbeats, file polls) fires in the same turn of the event loop instead of
 * half a dozen separate ones per second, in this process and in every other monitor process.
 */
export function alignedDelay(periodMs: number, now: number = Date.now()): number {
  if (!(periodMs > 0)) return 0;
  return periodMs - (((now % periodMs) + periodMs) % periodMs);
}

/**
 * alignedDelay for work that just ran and reschedules itself: the next grid point at least a
 * quarter period away (no back-to-back runs when the previous one ended just before a point).
 */
export function nextAlignedDelay(periodMs: number, now: number = Date.now()): number {
  const delay = alignedDelay(periodMs, now);
  return delay < periodMs / 4 ? delay + periodMs : delay;
}

/**
 * Runs `task` every `periodMs`, each run aligned with alignedDelay. `unref`: the timer alone does
 * not keep the process alive.
 */
export function everyAligned(periodMs: number, task: () => void, options: { unref?: boolean } = {}): Disposable {
  let timer: NodeJS.Timeout | undefined;
  let disposed = false;
  const arm = () => {
    timer = setTimeout(() => {
      if (disposed) return;
      arm();
      task();
    }, alignedDelay(periodMs));
    if (options.unref) timer.unref();
  };
  arm();
  return {
    dispose: () => {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
