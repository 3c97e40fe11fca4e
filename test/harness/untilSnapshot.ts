/** Waits for a Monitor's snapshot to pass a test, following its change events (no polling). */
import type { Monitor } from '../../src/core/monitor/monitor';
import type { MonitorSnapshot } from '../../src/core/model/model';

export function untilSnapshot<T>(
  monitor: Monitor,
  test: (s: MonitorSnapshot) => T | undefined | false,
  label: string,
  timeoutMs: number,
  /** What the timeout message shows of the last snapshot. */
  show: (s: MonitorSnapshot) => string,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const value = test(monitor.snapshot());
      if (!value) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve(value);
    };
    const timer = setTimeout(() => {
      subscription.dispose();
      reject(new Error(`timed out waiting for ${label}; ${show(monitor.snapshot())}`));
    }, timeoutMs);
    const subscription = monitor.onDidChange(check);
    check();
  });
}
