import type { EventStream, EventStreamStatus } from '../../src/core/opencode/eventStream';
import type { KnownEvent, OpencodeEvent } from '../../src/core/opencode/events';
import type { OpencodeClient } from '../../src/core/opencode/client';

type Waiter = { test: () => boolean; resolve: () => void };

/** Records a client's events and statuses so tests can wait for one to arrive. */
export class EventLog {
  readonly events: Array<OpencodeEvent & { at: number }> = [];
  readonly statuses: EventStreamStatus[] = [];
  readonly stream: EventStream;
  private waiters: Waiter[] = [];

  constructor(client: OpencodeClient, options: { path?: '/event' | '/global/event'; backoff?: { initialMs?: number; maxMs?: number } } = {}) {
    this.stream = client.events({
      path: options.path,
      backoff: options.backoff,
      onEvent: (event) => {
        this.events.push({ ...event, at: Date.now() });
        this.check();
      },
      onStatus: (status) => {
        this.statuses.push(status);
        this.check();
      },
    });
  }

  /** Resolves with the first recorded event (past or future) that matches. */
  async event<T extends KnownEvent['type']>(
    type: T,
    match: (event: Extract<KnownEvent, { type: T }>) => boolean = () => true,
    timeoutMs = 30_000,
  ): Promise<Extract<KnownEvent, { type: T }> & { at: number }> {
    const find = () =>
      this.events.find((e) => e.type === type && match(e as unknown as Extract<KnownEvent, { type: T }>)) as unknown as
        | (Extract<KnownEvent, { type: T }> & { at: number })
        | undefined;
    await this.until(() => find() !== undefined, timeoutMs, `event ${type}`);
    return find()!;
  }

  count(type: KnownEvent['type']): number {
    return this.events.filter((e) => e.type === type).length;
  }

  async status(state: EventStreamStatus['state'], after = 0, timeoutMs = 30_000): Promise<EventStreamStatus> {
    await this.until(() => this.statuses.slice(after).some((s) => s.state === state), timeoutMs, `stream state ${state}`);
    return this.statuses.slice(after).find((s) => s.state === state)!;
  }

  until(test: () => boolean, timeoutMs: number, label: string): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.events.slice(-15).map((e) => (e.type === 'unknown' ? e.originalType : e.type)).join(', ');
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}; last events: ${seen}`));
      }, timeoutMs);
      const waiter: Waiter = {
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      this.waiters.push(waiter);
    });
  }

  dispose(): Promise<void> {
    return this.stream.dispose();
  }

  private check(): void {
    for (const waiter of [...this.waiters]) {
      if (waiter.test()) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve();
      }
    }
  }
}
