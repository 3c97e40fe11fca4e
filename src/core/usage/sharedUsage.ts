/**
 * One usage poller per user and machine, however many VS Code windows and CLI processes run.
 *
 * Election: the WriterLock of the legacy files (same protocol), on a lock of its own. The
 * elected process runs the UsagePoller and writes its state to a cache file; every other process
 * reads that file (stat-polled every second) and marks the values stale once they are older than
 * two poll intervals. A process taking over continues from the cache: same values, same backoff,
 * same next due time — a takeover never causes an extra request.
 *
 * Why not the legacy /tmp/opencode-usage.json: it is lossy (integer percentages, no per-model
 * weeks, no fetch time, no backoff state), only exists when the legacy files are on, is written
 * by whoever holds the *legacy* lock (which may have usage turned off), and is shared by all
 * users of the machine — while usage belongs to one user's credentials.
 *
 * Files live in a private per-user folder (`/tmp/opencode-monitor-<uid>`, mode 0700, checked) and
 * are named after a key of the base URL and the credential files, so processes that would poll
 * something else (a test server, another HOME) never share. The cache holds no token.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as z from 'zod';
import { errorCode, writeFileAtomicSync } from '../os/atomicWrite';
import { WriterLock } from '../os/writerLock';
import type { Logger } from '../log';
import type { UsageModel } from '../model/model';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import type { UsagePoller, UsagePollerState } from './usagePoller';
import { fileSignature } from '../util/fileSignature';
import { describeError } from '../util/describe';
import { everyAligned } from '../util/alignedDelay';

export interface SharedUsageOptions {
  logger: Logger;
  /** Who polls, for humans reading the lock: e.g. "VS Code window", "opencode-monitor daemon". */
  ownerLabel: string;
  /** Processes with the same key share one poller (see usageShareKey). */
  key: string;
  /** Builds the poller while this process is the elected one, continuing from `initial`. */
  createPoller: (initial: UsagePollerState | undefined) => UsagePoller;
  /** This process's poll interval; the cache says the poller's. */
  intervalMs: number;
  /** Default usageShareDir(). */
  dir?: string;
  now?: () => number;
  /** How often the shared files are stat-ed. Default 1 s. */
  pollMs?: number;
  lock?: { heartbeatMs?: number; staleMs?: number; watch?: boolean };
}

export type UsageRole = 'poller' | 'reader' | 'alone' | 'stopped';

const CACHE_VERSION = 1;
const OLD_FILE_MS = 7 * 24 * 3600_000;
/** Values older than this many poll intervals (plus a minute) are stale for readers. */
const STALE_INTERVALS = 2;

/** The private per-user folder of the shared files. */
export function usageShareDir(): string {
  if (process.platform === 'win32') return path.join(os.tmpdir(), 'opencode-monitor');
  const uid = process.getuid?.();
  return `/tmp/opencode-monitor-${uid ?? os.userInfo().username}`;
}

/** 16 hex of sha256 over what decides what a poller fetches (base URL, credential files). */
export function usageShareKey(parts: readonly string[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

export function usageSharePaths(dir: string, key: string): { lock: string; cache: string; request: string } {
  return {
    lock: path.join(dir, `usage-${key}.lock`),
    cache: path.join(dir, `usage-${key}.json`),
    request: path.join(dir, `usage-${key}.refresh`),
  };
}

/**
 * Creates the folder 0700, or checks an existing one: a real directory we own, private. In a
 * shared /tmp anyone could have created it first.
 */
export function ensurePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink() || !st.isDirectory()) throw new Error(`${dir} is not a directory`);
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new Error(`${dir} belongs to another user (uid ${st.uid})`);
  if ((st.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
}

export class SharedUsage {
  readonly dir: string;
  readonly paths: { lock: string; cache: string; request: string };
  private readonly options: SharedUsageOptions;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly changes = new Emitter<UsageModel | undefined>();
  private lock: WriterLock | undefined;
  private poller: UsagePoller | undefined;
  private pollerSubscriptions: Disposable[] = [];
  private lockSubscription: Disposable | undefined;
  private timer: Disposable | undefined;
  private usage: UsageModel | undefined;
  private emittedKey = 'none';
  private role: UsageRole = 'stopped';
  private cacheSignature: string | undefined;
  private requestSignature: string | undefined;
  private readCache: UsageCacheFile | undefined;
  private settled = false;
  private readonly settledWaiters = new Set<() => void>();
  private reported = new Set<string>();
  private started = false;
  private disposed = false;

  constructor(options: SharedUsageOptions) {
    this.options = options;
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.dir = options.dir ?? usageShareDir();
    this.paths = usageSharePaths(this.dir, options.key);
  }

  /** Joins the election: polls if elected, reads the poller's results otherwise. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    try {
      ensurePrivateDir(this.dir);
    } catch (error) {
      this.logger.warn(`usage: cannot share the usage poller through ${this.dir} (${describeError(error)}); this process polls on its own`);
      this.becomePoller('alone');
      return;
    }
    const lock = new WriterLock({
      path: this.paths.lock,
      ownerLabel: this.options.ownerLabel,
      logger: this.logger,
      heartbeatMs: this.options.lock?.heartbeatMs ?? 2_000,
      staleMs: this.options.lock?.staleMs ?? 6_000,
      watch: this.options.lock?.watch ?? true,
      now: this.now,
    });
    this.lock = lock;
    this.lockSubscription = lock.onChange((holder) => (holder ? this.becomePoller('poller') : this.becomeReader()));
    lock.start();
    if (!lock.isHolder() && this.role === 'stopped') this.becomeReader();
    this.timer = everyAligned(this.options.pollMs ?? 1_000, () => this.tick());
  }

  current(): UsageModel | undefined {
    return this.usage;
  }

  /** Fires when the usage to show changes (undefined: hide it). */
  onChange(listener: (usage: UsageModel | undefined) => void): Disposable {
    return this.changes.event(listener);
  }

  get currentRole(): UsageRole {
    return this.role;
  }

  /** Asks the poller (this process or the elected one) to fetch now; it may decline (429, < 30 s). */
  refreshNow(): void {
    if (this.poller) {
      this.poller.refreshNow();
      return;
    }
    if (this.role !== 'reader') return;
    try {
      writeFileAtomicSync(this.paths.request, `${this.now()}\n`, { mode: 0o600, dirMode: 0o700 });
    } catch (error) {
      this.reportOnce('request', `usage: cannot ask the poller to refresh: ${describeError(error)}`);
    }
  }

  /** Resolves once a first result is known (fetched, restored or read), or after `timeoutMs`. */
  settle(timeoutMs = 12_000): Promise<void> {
    if (this.settled || this.disposed) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.settledWaiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.settledWaiters.add(done);
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timer?.dispose();
    this.timer = undefined;
    this.stopPoller();
    this.lockSubscription?.dispose();
    this.lock?.dispose();
    this.role = 'stopped';
    for (const done of [...this.settledWaiters]) done();
    this.changes.dispose();
  }

  // ── roles ─────────────────────────────────────────────────────────────────

  private becomePoller(role: 'poller' | 'alone'): void {
    if (this.disposed || this.poller) return;
    this.role = role;
    const cached = role === 'poller' ? this.loadCache() : undefined;
    const poller = this.options.createPoller(cached?.state);
    this.poller = poller;
    this.pollerSubscriptions = [
      poller.onChange((usage) => this.set(usage)),
      poller.onDidRun((state) => {
        this.writeCache(state, poller.intervalMs);
        this.markSettled();
      }),
    ];
    this.requestSignature = fileSignature(this.paths.request);
    if (role === 'poller') {
      this.logger.info(`usage: this process polls the usage API (${this.options.ownerLabel})`);
      this.removeOldFiles();
    }
    poller.start();
  }

  private becomeReader(): void {
    if (this.disposed) return;
    const wasPoller = this.role === 'poller';
    this.stopPoller();
    this.role = 'reader';
    if (wasPoller) this.logger.info('usage: another process polls the usage API now');
    this.cacheSignature = undefined;
    this.readShared();
  }

  private stopPoller(): void {
    for (const s of this.pollerSubscriptions) s.dispose();
    this.pollerSubscriptions = [];
    this.poller?.dispose();
    this.poller = undefined;
  }

  private tick(): void {
    if (this.disposed) return;
    if (this.role === 'reader') {
      this.readShared();
    } else if (this.role === 'poller' && this.poller) {
      const sig = fileSignature(this.paths.request);
      if (sig !== this.requestSignature) {
        this.requestSignature = sig;
        if (sig !== 'missing') this.poller.refreshNow();
      }
    }
  }

  // ── cache ─────────────────────────────────────────────────────────────────

  private writeCache(state: UsagePollerState, intervalMs: number): void {
    if (this.role !== 'poller' || !this.lock?.isHolder()) return;
    const file: UsageCacheFile = {
      version: CACHE_VERSION,
      key: this.options.key,
      writtenAt: this.now(),
      writer: { pid: process.pid, owner: this.options.ownerLabel },
      intervalMs,
      state,
    };
    try {
      writeFileAtomicSync(this.paths.cache, JSON.stringify(file) + '\n', { mode: 0o600, dirMode: 0o700 });
      this.reported.delete('write');
    } catch (error) {
      this.reportOnce('write', `usage: cannot write ${this.paths.cache}: ${describeError(error)}`);
    }
  }

  private loadCache(): UsageCacheFile | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.paths.cache, 'utf8');
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') this.reportOnce('read', `usage: cannot read ${this.paths.cache}: ${describeError(error)}`);
      return undefined;
    }
    return parseCache(text, this.options.key);
  }

  /** Reader: picks up a new cache, and re-judges the age of the one it has. */
  private readShared(): void {
    const sig = fileSignature(this.paths.cache);
    if (sig !== this.cacheSignature) {
      this.cacheSignature = sig;
      this.readCache = sig === 'missing' ? undefined : this.loadCache();
    }
    const cache = this.readCache;
    if (!cache || cache.state.usage === undefined) return; // the poller has no result yet
    this.set(withAge(cache.state.usage ?? undefined, cache.intervalMs || this.options.intervalMs, this.now()));
    this.markSettled();
  }

  private set(usage: UsageModel | undefined): void {
    const key = usage === undefined ? 'none' : JSON.stringify(usage);
    this.usage = usage;
    if (key === this.emittedKey) return;
    this.emittedKey = key;
    this.changes.fire(usage, (error) => this.logger.error(`usage listener failed: ${describeError(error)}`));
  }

  private markSettled(): void {
    if (this.settled) return;
    this.settled = true;
    for (const done of [...this.settledWaiters]) done();
  }

  /** Files of keys nobody used for a week (tests, old settings). */
  private removeOldFiles(): void {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return;
    }
    const own = `usage-${this.options.key}.`;
    const now = this.now();
    for (const name of names) {
      if (name.startsWith(own) || !/^usage-[0-9a-f]{16}\.(json|refresh|lock)(\..+)?$/.test(name)) continue;
      const full = path.join(this.dir, name);
      try {
        const st = fs.lstatSync(full);
        if (st.isFile() && now - st.mtimeMs > OLD_FILE_MS) fs.unlinkSync(full);
      } catch {
        // gone meanwhile
      }
    }
  }

  private reportOnce(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.logger.warn(message);
  }
}

/** Readers mark values stale once older than two poll intervals plus a minute (poller gone or stuck). */
export function withAge(usage: UsageModel | undefined, intervalMs: number, now: number): UsageModel | undefined {
  if (!usage || usage.stale || usage.fetchedAt === undefined) return usage;
  const limit = STALE_INTERVALS * intervalMs + 60_000;
  return now - usage.fetchedAt > limit ? { ...usage, stale: true } : usage;
}

// ── cache file ──────────────────────────────────────────────────────────────

export interface UsageCacheFile {
  version: typeof CACHE_VERSION;
  key: string;
  writtenAt: number;
  writer: { pid: number; owner: string };
  intervalMs: number;
  state: UsagePollerState;
}

const Window = z.object({ percent: z.number().finite(), resetsAt: z.string().optional() });
const Model = z.object({
  fiveHour: Window.optional(),
  sevenDay: Window.optional(),
  modelWeeks: z.record(z.string(), Window).optional(),
  source: z.string().optional(),
  fetchedAt: z.number().optional(),
  stale: z.boolean(),
  error: z.enum(['auth_not_found', 'token_not_found', 'token_expired', 'api_error', 'missing_scope', 'rate_limited']).optional(),
  errorMessage: z.string().optional(),
});
const Data = z.object({ fiveHour: Window.optional(), sevenDay: Window.optional(), modelWeeks: z.record(z.string(), Window).optional() });
const CacheSchema = z.object({
  version: z.literal(CACHE_VERSION),
  key: z.string(),
  writtenAt: z.number(),
  writer: z.object({ pid: z.number(), owner: z.string() }),
  intervalMs: z.number().positive(),
  state: z.object({
    usage: Model.nullable().optional(),
    lastGood: z.object({ data: Data, source: z.string().optional(), fetchedAt: z.number() }).optional(),
    lastAttemptAt: z.number().optional(),
    nextAttemptAt: z.number().optional(),
    failures: z.number().int().nonnegative(),
    rateLimitedUntil: z.number().optional(),
    credentialKey: z.string().optional(),
  }),
});

/** A cache of this key, or undefined (absent, foreign, corrupt, older format). */
export function parseCache(text: string, key: string): UsageCacheFile | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = CacheSchema.safeParse(value);
  if (!parsed.success || parsed.data.key !== key) return undefined;
  return parsed.data as UsageCacheFile;
}

