/**
 * Runs a task at most once per `intervalMs`: the first request after a quiet period runs at once,
 * requests during the interval collapse into one run at its end, so the last request is never
 * lost and never waits longer than the interval.
 */
export class Throttle {
  private lastRun = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private disposed = false;

  constructor(
    private readonly task: () => void,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  request(): void {
    if (this.disposed || this.timer) return;
    const wait = this.lastRun + this.intervalMs - this.now();
    if (wait <= 0) this.run();
    else this.timer = setTimeout(() => this.run(), wait);
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private run(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.disposed) return;
    this.lastRun = this.now();
    this.task();
  }
}
