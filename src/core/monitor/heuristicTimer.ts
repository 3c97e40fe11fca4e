/**
 * The "tool running too long" heuristic (servers without a permission API) changes with time
 * alone: this timer wakes the monitor when a running tool crosses the threshold.
 */
import type { SessionModel } from '../model/model';

export class HeuristicTimer {
  private timer: NodeJS.Timeout | undefined;

  /** `wake` runs once the earliest running tool crosses `threshold`. */
  constructor(private readonly wake: () => void) {}

  /** `heuristic(instanceId)`: whether that instance's sessions are judged by the heuristic. */
  schedule(sessions: readonly SessionModel[], now: number, threshold: number, heuristic: (instanceId: string) => boolean): void {
    this.dispose();
    let next = Infinity;
    for (const s of sessions) {
      if (s.needsAttention || !heuristic(s.instanceId)) continue;
      for (const t of s.runningTools) if (t.name !== 'task' && t.startedAt !== undefined) next = Math.min(next, t.startedAt + threshold);
    }
    if (next === Infinity) return;
    this.timer = setTimeout(() => this.wake(), Math.max(0, next - now) + 5);
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
