/** Waiting on a live monitor's model in integration tests. */
import type { Monitor } from '../../src/core/monitor/monitor';
import type { MonitorSnapshot } from '../../src/core/model/model';

/** Waits until the monitor's model satisfies `test`, re-checking on every change event. */
export function until<T>(monitor: Monitor, test: (s: MonitorSnapshot) => T | undefined | false, label: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = test(monitor.snapshot());
      if (value) {
        clearTimeout(timer);
        subscription.dispose();
        resolve(value);
        return true;
      }
      return false;
    };
    const timer = setTimeout(() => {
      subscription.dispose();
      const snap = monitor.snapshot();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}; instances: ${snap.instances.map((i) => `${i.id}=${i.connection}`).join(', ')}; sessions: ${snap.sessions.map((s) => `${s.title}=${s.status}`).join(', ')}`));
    }, timeoutMs);
    const subscription = monitor.onDidChange(() => void check());
    check();
  });
}
