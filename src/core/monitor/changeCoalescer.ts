/**
 * Turns bursts of changes into one change event. The first change after a quiet period is
 * emitted on the next turn of the event loop (a few ms); under a constant stream, events are
 * spaced `minIntervalMs` apart, so no change waits longer than that.
 */
export interface PendingChange {
  instances: Set<string>;
  /** Some session changed (which ones is not tracked: every consumer rebuilds from the snapshot). */
  sessions: boolean;
  usage: boolean;
}

export class ChangeCoalescer {
  private pending: PendingChange = { instances: new Set(), sessions: false, usage: false };
  private scheduled: { timeout: NodeJS.Timeout } | { immediate: NodeJS.Immediate } | undefined;
  private lastFlush = 0;
  private disposed = false;

  constructor(
    private readonly flush: (change: PendingChange) => void,
    private readonly minIntervalMs = 50,
    private readonly now: () => number = Date.now,
  ) {}

  add(change: { instances?: Iterable<string>; sessions?: boolean; usage?: boolean }): void {
    if (this.disposed) return;
    for (const id of change.instances ?? []) this.pending.instances.add(id);
    if (change.sessions) this.pending.sessions = true;
    if (change.usage) this.pending.usage = true;
    if (this.scheduled || this.isEmpty()) return;
    const wait = this.lastFlush + this.minIntervalMs - this.now();
    this.scheduled = wait <= 0 ? { immediate: setImmediate(() => this.run()) } : { timeout: setTimeout(() => this.run(), wait) };
  }

  dispose(): void {
    this.disposed = true;
    this.cancel();
  }

  private run(): void {
    this.scheduled = undefined;
    if (this.isEmpty() || this.disposed) return;
    const change = this.pending;
    this.pending = { instances: new Set(), sessions: false, usage: false };
    this.lastFlush = this.now();
    this.flush(change);
  }

  private cancel(): void {
    if (!this.scheduled) return;
    if ('timeout' in this.scheduled) clearTimeout(this.scheduled.timeout);
    else clearImmediate(this.scheduled.immediate);
    this.scheduled = undefined;
  }

  private isEmpty(): boolean {
    return this.pending.instances.size === 0 && !this.pending.sessions && !this.pending.usage;
  }
}
