/**
 * Polls the usage API on a schedule and turns every outcome into a UsageModel.
 *
 * - Every `intervalMs` (default 5 min, never under 60 s). The credential is re-resolved on every
 *   poll, and when a credential file changes; an expired token is reported without any request.
 * - Failures keep the last good values, marked stale, with the error beside them.
 * - 429: not before Retry-After, and never sooner than interval·2^(n−1) (n = consecutive
 *   failures, capped at 30 min) — a `retry-after: 0` must not turn into a retry loop.
 *   401/403/5xx/malformed: the same exponential steps. Network errors and timeouts: 1, 2, 4 … min
 *   up to the interval (a laptop waking up should not show stale values for 5 min).
 * - A new token (credential file changed) is tried at once after an auth error, unless a 429
 *   hold is running.
 * The clock is injectable: tests drive the schedule without waiting.
 */
import type { Logger } from '../log';
import type { UsageErrorCode, UsageModel } from '../model/model';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import type { CredentialLookup, CredentialProvider, UsageCredential } from './usageCredential';
import { redactSecrets } from './redact';
import { UsageApiError } from './usageClient';
import type { UsageData, UsageFetcher } from './usageClient';
import { describeError } from '../util/describe';

export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const DEFAULT_USAGE_INTERVAL_MS = 300_000;
export const MIN_USAGE_INTERVAL_MS = 60_000;
export const MAX_USAGE_BACKOFF_MS = 1_800_000;
const MAX_RETRY_AFTER_MS = 6 * 3600_000;
const NETWORK_RETRY_MS = 60_000;
/** Manual refreshes and new tokens: at most one request per this gap. */
const MANUAL_GAP_MS = 30_000;

export function clampUsageInterval(ms: number | undefined): number {
  if (ms === undefined || !Number.isFinite(ms)) return DEFAULT_USAGE_INTERVAL_MS;
  return Math.max(MIN_USAGE_INTERVAL_MS, Math.round(ms));
}

export interface LastGoodUsage {
  data: UsageData;
  source?: string;
  fetchedAt: number;
}

/** What a poller hands over to the next one (another process taking over). Holds no token. */
export interface UsagePollerState {
  /** `null`: no credential, nothing to show; absent: nothing determined yet. */
  usage?: UsageModel | null;
  lastGood?: LastGoodUsage;
  lastAttemptAt?: number;
  nextAttemptAt?: number;
  failures: number;
  rateLimitedUntil?: number;
  /** Which credential the state is about: source and expiry only (a refresh changes the expiry). */
  credentialKey?: string;
}

export interface UsagePollerOptions {
  credentials: CredentialProvider;
  client: UsageFetcher;
  logger: Logger;
  intervalMs?: number;
  maxBackoffMs?: number;
  clock?: Clock;
  /** Continue where another poller stopped: its values, backoff and next due time. */
  initialState?: UsagePollerState;
}

type Trigger = 'scheduled' | 'manual' | 'credentials';
const PRIORITY: Record<Trigger, number> = { credentials: 0, manual: 1, scheduled: 2 };

export class UsagePoller {
  readonly intervalMs: number;
  private readonly maxBackoffMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly changes = new Emitter<UsageModel | undefined>();
  private readonly runs = new Emitter<UsagePollerState>();
  private model: UsageModel | undefined;
  private emittedKey: string | undefined;
  private known = false;
  private lastGood: LastGoodUsage | undefined;
  private failures = 0;
  private lastAttemptAt: number | undefined;
  private nextAttemptAt: number | undefined;
  private rateLimitedUntil: number | undefined;
  private credentialKey: string | undefined;
  private lastCredential: UsageCredential | undefined;
  private lastLogged: string | undefined;
  private timer: unknown;
  private running: Promise<void> | undefined;
  private pending: Trigger | undefined;
  private abort: AbortController | undefined;
  private subscription: Disposable | undefined;
  private started = false;
  private disposed = false;

  constructor(private readonly options: UsagePollerOptions) {
    this.intervalMs = clampUsageInterval(options.intervalMs);
    this.maxBackoffMs = Math.max(this.intervalMs, options.maxBackoffMs ?? MAX_USAGE_BACKOFF_MS);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
  }

  /** Fires when the model changes (undefined: hide the meter, no credential). */
  onChange(listener: (usage: UsageModel | undefined) => void): Disposable {
    return this.changes.event(listener);
  }

  /** Fires after every run (also when nothing visible changed), with the state to hand over. */
  onDidRun(listener: (state: UsagePollerState) => void): Disposable {
    return this.runs.event(listener);
  }

  current(): UsageModel | undefined {
    return this.model;
  }

  state(): UsagePollerState {
    return {
      ...(this.known ? { usage: this.model ?? null } : {}),
      ...(this.lastGood ? { lastGood: this.lastGood } : {}),
      ...(this.lastAttemptAt !== undefined ? { lastAttemptAt: this.lastAttemptAt } : {}),
      ...(this.nextAttemptAt !== undefined ? { nextAttemptAt: this.nextAttemptAt } : {}),
      failures: this.failures,
      ...(this.rateLimitedUntil !== undefined ? { rateLimitedUntil: this.rateLimitedUntil } : {}),
      ...(this.credentialKey !== undefined ? { credentialKey: this.credentialKey } : {}),
    };
  }

  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.subscription = this.options.credentials.onDidChange(() => void this.trigger('credentials'));
    const initial = this.options.initialState;
    if (initial) {
      this.restore(initial);
      if (initial.usage !== undefined) this.setModel(initial.usage ?? undefined);
    }
    const due = this.nextAttemptAt;
    if (this.known && due !== undefined && due > this.clock.now()) {
      this.schedule(due);
      this.fireRun();
      // Files may have changed while nobody watched: a local look, no request unless needed.
      void this.trigger('credentials');
    } else {
      void this.trigger('scheduled');
    }
  }

  /** A user asked: fetch now unless a 429 hold runs or the last request was under 30 s ago. */
  refreshNow(): void {
    void this.trigger('manual');
  }

  /** Resolves when no run is in progress (tests, one-shot callers). */
  async whenIdle(): Promise<void> {
    while (this.running) await this.running;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.clearTimer();
    this.abort?.abort(new Error('disposed'));
    this.subscription?.dispose();
    this.changes.dispose();
    this.runs.dispose();
  }

  // ── runs ──────────────────────────────────────────────────────────────────

  private trigger(kind: Trigger): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.running) {
      if (!this.pending || PRIORITY[kind] > PRIORITY[this.pending]) this.pending = kind;
      return this.running;
    }
    const run = (async () => {
      let next: Trigger | undefined = kind;
      try {
        while (next && !this.disposed) {
          this.pending = undefined;
          try {
            await this.run(next);
          } catch (error) {
            this.logger.error(`usage poller failed: ${redactSecrets(describeError(error))}`);
            this.schedule(this.clock.now() + this.intervalMs);
          }
          this.fireRun();
          next = this.pending;
        }
      } finally {
        // In the same tick as the last look at `pending`: a trigger in between cannot be lost.
        this.running = undefined;
      }
    })();
    this.running = run;
    return run;
  }

  private async run(kind: Trigger): Promise<void> {
    const now = this.clock.now();
    if (kind === 'manual') {
      if (this.rateLimitedUntil !== undefined && now < this.rateLimitedUntil) {
        this.logger.debug('usage: refresh skipped, rate limited');
        return;
      }
      if (this.lastAttemptAt !== undefined && now - this.lastAttemptAt < MANUAL_GAP_MS) {
        const at = this.lastAttemptAt + MANUAL_GAP_MS;
        if (this.nextAttemptAt === undefined || at < this.nextAttemptAt) this.schedule(at);
        return;
      }
    }
    const lookup = await this.lookup();
    if (this.disposed) return;
    const key = credentialKey(lookup);
    const sameCredential = key === this.credentialKey && (!lookup.ok || !this.lastCredential || lookup.credential.sameToken(this.lastCredential));
    this.credentialKey = key;
    if (lookup.ok) this.lastCredential = lookup.credential;

    if (kind === 'credentials') {
      if (sameCredential) return;
      if (lookup.ok && this.model && !this.model.error) return; // working: the new token is used next time
    }
    if (!lookup.ok) {
      this.applyLocal(lookup);
      if (kind !== 'credentials' || this.nextAttemptAt === undefined) this.schedule(this.clock.now() + this.intervalMs);
      return;
    }
    const at = this.clock.now();
    if (this.rateLimitedUntil !== undefined && at < this.rateLimitedUntil) {
      this.schedule(this.rateLimitedUntil);
      return;
    }
    if (kind === 'credentials' && this.lastAttemptAt !== undefined && at - this.lastAttemptAt < MANUAL_GAP_MS) {
      this.schedule(Math.min(this.nextAttemptAt ?? Infinity, this.lastAttemptAt + MANUAL_GAP_MS));
      return;
    }
    await this.fetch(lookup.credential);
  }

  private async lookup(): Promise<CredentialLookup> {
    try {
      return await this.options.credentials.resolve();
    } catch (error) {
      return { ok: false, reason: 'token_not_found', detail: `cannot read the credentials: ${redactSecrets(describeError(error))}` };
    }
  }

  private async fetch(credential: UsageCredential): Promise<void> {
    const started = this.clock.now();
    this.lastAttemptAt = started;
    this.clearTimer();
    this.nextAttemptAt = undefined;
    const abort = new AbortController();
    this.abort = abort;
    let data: UsageData;
    try {
      data = await this.options.client.fetchUsage(credential, abort.signal);
    } catch (error) {
      if (this.disposed) return;
      this.onFailure(error, credential);
      return;
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    if (this.disposed) return;
    const now = this.clock.now();
    if (this.failures > 0 || this.lastLogged) this.logger.info(`usage: fetched again after ${this.failures} failure(s)`);
    this.failures = 0;
    this.rateLimitedUntil = undefined;
    this.lastLogged = undefined;
    this.lastGood = { data, source: credential.source, fetchedAt: now };
    this.setModel({ ...data, source: credential.source, fetchedAt: now, stale: false });
    this.schedule(now + this.intervalMs);
  }

  private onFailure(error: unknown, credential: UsageCredential): void {
    const now = this.clock.now();
    this.failures++;
    const apiError = error instanceof UsageApiError ? error : undefined;
    const kind = apiError?.kind ?? 'network';
    const message = redactSecrets(describeError(error), [credential.bearer()]);
    const code = errorCodeOf(kind);
    const delay = this.retryDelay(kind, apiError?.retryAfterMs);
    if (kind === 'rate_limited') this.rateLimitedUntil = now + delay;
    const logLine = `usage: ${message}; next try in ${Math.round(delay / 1000)} s`;
    if (`${code}:${message}` !== this.lastLogged) this.logger.warn(logLine);
    else this.logger.debug(logLine);
    this.lastLogged = `${code}:${message}`;
    this.setModel(this.failureModel(code, message, credential.source));
    this.schedule(now + delay);
  }

  /** Credential problems found locally: no request was made. */
  private applyLocal(lookup: Extract<CredentialLookup, { ok: false }>): void {
    if (lookup.reason === 'auth_not_found') {
      // Signed out everywhere: nothing to show, and old numbers belong to nobody now.
      this.lastGood = undefined;
      this.failures = 0;
      if (this.model !== undefined || !this.known) this.logger.debug(`usage: ${lookup.detail}`);
      this.setModel(undefined);
      return;
    }
    const line = `${lookup.reason}:${lookup.detail}`;
    if (line !== this.lastLogged) this.logger.warn(`usage: ${lookup.detail}`);
    this.lastLogged = line;
    this.setModel(this.failureModel(lookup.reason, lookup.detail, lookup.source));
  }

  private retryDelay(kind: UsageApiError['kind'], retryAfterMs: number | undefined): number {
    const exponential = (base: number) => Math.min(this.maxBackoffMs, base * 2 ** Math.min(this.failures - 1, 20));
    switch (kind) {
      case 'rate_limited':
        return Math.max(Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS), exponential(this.intervalMs));
      case 'network':
      case 'timeout':
        return Math.min(this.intervalMs, exponential(NETWORK_RETRY_MS));
      case 'aborted':
      case 'config':
        return this.intervalMs;
      default:
        return exponential(this.intervalMs);
    }
  }

  private failureModel(code: UsageErrorCode, message: string, source: string | undefined): UsageModel {
    const good = this.lastGood;
    const src = source ?? good?.source;
    return {
      ...(good ? { ...good.data, fetchedAt: good.fetchedAt } : {}),
      ...(src ? { source: src } : {}),
      stale: good !== undefined,
      error: code,
      errorMessage: message,
    };
  }

  private setModel(model: UsageModel | undefined): void {
    this.known = true;
    this.model = model;
    const key = model === undefined ? 'none' : JSON.stringify(model);
    if (key === this.emittedKey) return;
    this.emittedKey = key;
    this.changes.fire(model, (error) => this.logger.error(`usage listener failed: ${String(error)}`));
  }

  private restore(state: UsagePollerState): void {
    this.failures = Math.max(0, Math.floor(state.failures || 0));
    this.lastGood = state.lastGood;
    this.lastAttemptAt = state.lastAttemptAt;
    this.nextAttemptAt = state.nextAttemptAt;
    this.rateLimitedUntil = state.rateLimitedUntil;
    this.credentialKey = state.credentialKey;
  }

  private schedule(at: number): void {
    if (this.disposed) return;
    this.clearTimer();
    this.nextAttemptAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.trigger('scheduled');
    }, Math.max(0, at - this.clock.now()));
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private fireRun(): void {
    if (this.disposed) return;
    this.runs.fire(this.state(), (error) => this.logger.error(`usage run listener failed: ${String(error)}`));
  }
}

function errorCodeOf(kind: UsageApiError['kind']): UsageErrorCode {
  switch (kind) {
    case 'unauthorized':
      return 'token_expired';
    case 'forbidden':
      return 'missing_scope';
    case 'rate_limited':
      return 'rate_limited';
    default:
      return 'api_error';
  }
}

/** Identity of a lookup without any token material: outcome, source, expiry. */
function credentialKey(lookup: CredentialLookup): string {
  if (lookup.ok) return `ok|${lookup.credential.source}|${lookup.credential.expiresAt ?? ''}`;
  return `${lookup.reason}|${lookup.source ?? ''}|${lookup.expiresAt ?? ''}`;
}
