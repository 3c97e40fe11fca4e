/**
 * A self-healing client of OpenCode's event stream. It reconnects with exponential backoff and
 * jitter, treats 30 s without a byte (three missed heartbeats) as a dead connection, and leaves
 * no socket or timer behind once disposed.
 */
import { createParser } from 'eventsource-parser';
import type { Logger } from '../log';
import { nullLogger } from '../log';
import { backoffDelay } from '../util/backoff';
import type { BackoffOptions } from '../util/backoff';
import { OpencodeError } from './errors';
import { decodeEventData } from './events';
import type { OpencodeEvent } from './events';
import type { HttpTransport } from './http';
import { describeError } from '../util/describe';

export type EventStreamState = 'connecting' | 'open' | 'waiting' | 'closed';

export interface EventStreamStatus {
  state: EventStreamState;
  /** Failed connection attempts since the last healthy connection. */
  attempt: number;
  /** Why the last connection ended or failed. */
  error?: OpencodeError;
  /** While `waiting`: when the next attempt starts (ms since epoch). */
  retryAt?: number;
}

export interface EventStreamOptions {
  path?: '/event' | '/global/event';
  onEvent: (event: OpencodeEvent) => void;
  onStatus?: (status: EventStreamStatus) => void;
  logger?: Logger;
  /** No byte for this long → the connection is dead. OpenCode sends a heartbeat every ~10 s. */
  watchdogMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** A connection that stayed open this long resets the backoff. */
  healthyAfterMs?: number;
  /** Deadline for the response headers of each attempt. */
  connectTimeoutMs?: number;
  /** One SSE message larger than this is dropped with an error (the stream goes on). */
  maxEventBytes?: number;
  signal?: AbortSignal;
  random?: () => number;
}

export interface EventStreamStats {
  connects: number;
  events: number;
  errors: number;
  bytes: number;
  lastByteAt: number;
}

const DEFAULTS = {
  watchdogMs: 30_000,
  healthyAfterMs: 10_000,
  backoff: { initialMs: 250, maxMs: 30_000 },
  maxEventBytes: 10 * 1024 * 1024,
  // A ready OpenCode answers /event at once; one that hangs is in its deaf startup window.
  connectTimeoutMs: 2_000,
};

export class EventStream {
  readonly stats: EventStreamStats = { connects: 0, events: 0, errors: 0, bytes: 0, lastByteAt: 0 };
  private statusValue: EventStreamStatus = { state: 'closed', attempt: 0 };
  private disposed = false;
  private loop: Promise<void> | undefined;
  private connection: AbortController | undefined;
  private wake: (() => void) | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private readonly path: string;
  private readonly logger: Logger;
  private readonly watchdogMs: number;
  private readonly healthyAfterMs: number;
  private readonly backoff: BackoffOptions;
  private readonly onExternalAbort = () => void this.dispose();
  private restartRequested = false;
  private connectingSince = 0;

  constructor(private readonly transport: HttpTransport, private readonly options: EventStreamOptions) {
    this.path = options.path ?? '/event';
    this.logger = options.logger ?? nullLogger;
    this.watchdogMs = options.watchdogMs ?? DEFAULTS.watchdogMs;
    this.healthyAfterMs = options.healthyAfterMs ?? DEFAULTS.healthyAfterMs;
    this.backoff = { ...DEFAULTS.backoff, ...options.backoff };
    options.signal?.addEventListener('abort', this.onExternalAbort, { once: true });
  }

  get status(): EventStreamStatus {
    return this.statusValue;
  }

  start(): this {
    if (!this.loop && !this.disposed && !this.options.signal?.aborted) {
      this.loop = this.run();
    }
    return this;
  }

  /**
   * Skips the rest of the backoff wait (e.g. discovery saw the server answer again). An attempt
   * that has hung for a while (sent during OpenCode's deaf first half second) starts over too.
   */
  reconnectNow(): void {
    if (this.statusValue.state === 'connecting' && Date.now() - this.connectingSince > 500) {
      this.restart();
      return;
    }
    this.wake?.();
  }

  /** Drops the current connection and connects again at once (e.g. the password changed). */
  restart(): void {
    this.restartRequested = true;
    this.connection?.abort(new Error('restart'));
    this.wake?.();
  }

  async dispose(): Promise<void> {
    if (!this.disposed) {
      this.disposed = true;
      this.options.signal?.removeEventListener('abort', this.onExternalAbort);
      this.connection?.abort(new Error('disposed'));
      this.wake?.();
    }
    await this.loop;
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.disposed) {
      if (this.restartRequested) {
        this.restartRequested = false;
        attempt = 0;
      }
      this.connectingSince = Date.now();
      this.setStatus({ state: 'connecting', attempt });
      const outcome = await this.connectOnce();
      if (this.disposed) break;
      if (outcome.opened && Date.now() - outcome.openedAt >= this.healthyAfterMs) attempt = 0;
      if (outcome.restart) {
        attempt = 0;
        continue;
      }
      attempt++;
      const delay = backoffDelay(attempt, this.backoff, this.options.random);
      const error = outcome.error;
      this.stats.errors++;
      const message = `event stream ${this.path} on ${this.transport.instance} ${outcome.opened ? 'dropped' : 'failed'}: ${error.message}; retry ${attempt} in ${delay} ms`;
      // The first failure after a healthy connection is news; the rest of a retry series is noise.
      if (attempt === 1) this.logger.info(message);
      else this.logger.debug(message);
      this.setStatus({ state: 'waiting', attempt, error, retryAt: Date.now() + delay });
      await this.sleep(delay);
    }
    this.setStatus({ state: 'closed', attempt: this.statusValue.attempt });
  }

  private async connectOnce(): Promise<{ opened: boolean; openedAt: number; error: OpencodeError; restart?: boolean }> {
    const controller = new AbortController();
    this.connection = controller;
    let opened = false;
    let openedAt = 0;
    let watchdogFired = false;
    let watchdog: NodeJS.Timeout | undefined;
    const endpoint = `GET ${this.path}`;
    const fail = (detail: string, kind: OpencodeError['kind'] = 'network') =>
      new OpencodeError(kind, this.transport.instance, endpoint, detail);
    try {
      const response = await this.transport.openStream(this.path, controller.signal, this.options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs);
      opened = true;
      openedAt = Date.now();
      this.stats.connects++;
      this.stats.lastByteAt = openedAt;
      this.setStatus({ state: 'open', attempt: this.statusValue.attempt });
      const armWatchdog = (ms: number) => {
        watchdog = setTimeout(() => {
          const idle = Date.now() - this.stats.lastByteAt;
          if (idle >= this.watchdogMs) {
            watchdogFired = true;
            controller.abort(new Error('watchdog'));
          } else {
            armWatchdog(this.watchdogMs - idle);
          }
        }, ms);
      };
      armWatchdog(this.watchdogMs);
      const maxEventChars = this.options.maxEventBytes ?? DEFAULTS.maxEventBytes;
      // After an oversized message the parser stops; drop input up to the next blank line and go on.
      let skipping = false;
      let endedWithNewline = false;
      const parser = createParser({
        maxBufferSize: maxEventChars,
        onEvent: (message) => {
          if (message.data.length > maxEventChars) this.dropOversized(message.data.length);
          else this.handleData(message.data);
        },
        onError: (error) => {
          if (error.type === 'max-buffer-size-exceeded') {
            this.dropOversized();
            skipping = true;
            return;
          }
          this.stats.errors++;
          this.logger.warn(`event stream ${this.path} on ${this.transport.instance}: ${error.message}`);
        },
      });
      const decoder = new TextDecoder('utf-8');
      for await (const chunk of response.body) {
        const buffer = chunk as Buffer;
        this.stats.bytes += buffer.length;
        this.stats.lastByteAt = Date.now();
        let text: string = decoder.decode(buffer, { stream: true });
        if (skipping) {
          parser.reset();
          const joined: string = (endedWithNewline ? '\n' : '') + text;
          // A blank line ends the message, with LF, CRLF or CR line endings.
          const end = /\r?\n\r?\n|\r\r/.exec(joined);
          if (!end) {
            endedWithNewline = /[\r\n]$/.test(joined);
            continue;
          }
          text = joined.slice(end.index + end[0].length);
          skipping = false;
        }
        parser.feed(text);
        endedWithNewline = /[\r\n]$/.test(text);
      }
      return { opened, openedAt, error: fail('the server closed the stream') };
    } catch (error) {
      if (watchdogFired) {
        return { opened, openedAt, error: fail(`no data for ${this.watchdogMs} ms`, 'timeout') };
      }
      if (!this.disposed && controller.signal.aborted && isRestart(controller.signal.reason)) {
        return { opened, openedAt, error: fail('restarted'), restart: true };
      }
      if (error instanceof OpencodeError) return { opened, openedAt, error };
      return { opened, openedAt, error: fail(describeError(error)) };
    } finally {
      if (watchdog) clearTimeout(watchdog);
      controller.abort(new Error('done'));
      if (this.connection === controller) this.connection = undefined;
    }
  }

  private dropOversized(size?: number): void {
    this.stats.errors++;
    const limit = this.options.maxEventBytes ?? DEFAULTS.maxEventBytes;
    this.logger.warn(`event stream ${this.path} on ${this.transport.instance}: dropped an event over ${limit} characters${size ? ` (${size})` : ''}`);
  }

  private handleData(data: string): void {
    const decoded = decodeEventData(data);
    if (decoded.kind === 'ignored') return;
    if (decoded.kind === 'error') {
      this.stats.errors++;
      this.logger.warn(`event stream ${this.path} on ${this.transport.instance}: ${decoded.error}`);
      return;
    }
    if (decoded.cleaned > 0) {
      this.logger.warn(`event stream ${this.path} on ${this.transport.instance}: cleaned ${decoded.cleaned} control character(s) from an event`);
    }
    if (decoded.event.type === 'unknown' && decoded.event.invalid) {
      this.logger.debug(`event ${decoded.event.originalType} on ${this.transport.instance} has an unexpected shape: ${decoded.event.invalid}`);
    }
    this.stats.events++;
    try {
      this.options.onEvent(decoded.event);
    } catch (error) {
      // A consumer's bug must not take the stream down.
      this.logger.error(`event handler failed on ${decoded.event.type}: ${describeError(error)}`);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.disposed) return resolve();
      const done = () => {
        if (this.sleepTimer) clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.sleepTimer = setTimeout(done, ms);
    });
  }

  private setStatus(status: EventStreamStatus): void {
    this.statusValue = status;
    try {
      this.options.onStatus?.(status);
    } catch (error) {
      this.logger.error(`event stream status handler failed: ${describeError(error)}`);
    }
  }
}

function isRestart(reason: unknown): boolean {
  return reason instanceof Error && reason.message === 'restart';
}
