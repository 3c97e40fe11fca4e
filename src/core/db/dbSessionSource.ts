/**
 * Sessions of port-less TUIs, inferred from OpenCode's shared `opencode.db` (read-only).
 *
 * The monitor asks `sessionsFor(instance)` while building a snapshot; answers come from a cache
 * that a timer refreshes every `pollMs` for the (data dir, folder) pairs asked about. An unchanged
 * DB costs a `stat` and `PRAGMA data_version` per data dir and tick.
 */
import type { Logger } from '../log';
import type { InstanceModel, SessionModel } from '../model/model';
import type { LimitedSessionSource } from '../monitor/ports';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { inferSession, isOpenAssistantMessage, type InferenceContext } from './inference';
import { OpencodeDb, type DbState } from './opencodeDb';
import { createProcessProbe, type ProcessProbe } from './processProbe';
import { loadNodeSqlite, type SqliteLoad, type SqliteModule } from './sqlite';
import type { DbSessionRecord, DbToolRow } from './types';
import { describeError } from '../util/describe';
import { everyAligned } from '../util/alignedDelay';
import { compareIds } from '../util/compareIds';

export interface DbSessionSourceOptions {
  logger: Logger;
  pollMs?: number;
  /**
   * Whether OpenCode process `ownerPid` has a tool child (OPENCODE_PID=<ownerPid>) right now;
   * `undefined` = cannot tell. Default: /proc on Linux, unknown elsewhere.
   */
  hasToolChild?: (ownerPid: number) => boolean | undefined;
  now?: () => number;
  /** Replaces loading `node:sqlite` (tests). */
  loadSqlite?: () => SqliteLoad;
  /** Process start times and liveness (default: /proc on Linux, signal 0 elsewhere). */
  processProbe?: Pick<ProcessProbe, 'startTime' | 'isAlive'>;
  /** Most recently active sessions per folder (parents of sub-agents come along). */
  maxSessions?: number;
  /** An instance not asked about for this long is dropped once its process is gone. */
  dropAfterMs?: number;
  /** Even with its process alive, re-confirm an instance nobody asked about for this long. */
  reconfirmAfterMs?: number;
  /** A running `bash` without its child process must be seen this long before it counts as a permission prompt. */
  permissionGraceMs?: number;
  /** Other tools running this long are flagged `heuristic` (as the monitor does for servers without a permission API). */
  heuristicThresholdMs?: number;
  busyTimeoutMs?: number;
}

interface Asker {
  instanceId: string;
  pid?: number;
  startedAt?: number;
  lastAsked: number;
  reconfirmAt?: number;
}

interface Watch {
  key: string;
  dataDir: string;
  directory: string;
  askers: Map<string, Asker>;
  records: DbSessionRecord[];
  /** The DB changed (or a read failed) since `records` were read. */
  dirty: boolean;
  models: SessionModel[];
  fingerprint: string;
  /** Running bash part id → when it was first seen without a tool child. */
  missingSince: Map<string, number>;
  /** What the last inference depended on besides the records (askers' pids and start times). */
  inferredWith?: string;
  ownerId?: string;
  sharedNote?: string;
  mapped?: { instanceId: string; fingerprint: string; models: SessionModel[] };
}

interface DataDir {
  db: OpencodeDb;
  state?: DbState;
  loggedProblem?: string;
  busyStreak: number;
}

const DEFAULTS = {
  pollMs: 1_000,
  maxSessions: 25,
  dropAfterMs: 10_000,
  reconfirmAfterMs: 5 * 60_000,
  permissionGraceMs: 1_000,
  heuristicThresholdMs: 5_000,
  busyTimeoutMs: 100,
};

export class DbSessionSource implements LimitedSessionSource {
  readonly unavailableReason?: string;
  private readonly sqlite: SqliteModule | undefined;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly probe: Pick<ProcessProbe, 'startTime' | 'isAlive'>;
  private readonly hasToolChild: (ownerPid: number) => boolean | undefined;
  private readonly settings: typeof DEFAULTS;
  private readonly watches = new Map<string, Watch>();
  private readonly dataDirs = new Map<string, DataDir>();
  private readonly changes = new Emitter<void>();
  private timer: Disposable | undefined;
  private pendingFire: NodeJS.Immediate | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private unavailableLogged = false;
  private disposed = false;
  private counters = { ticks: 0, reads: 0, fires: 0 };

  constructor(options: DbSessionSourceOptions) {
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    const defaults = createProcessProbe();
    this.probe = options.processProbe ?? defaults;
    this.hasToolChild = options.hasToolChild ?? ((pid) => defaults.hasToolChild(pid));
    this.settings = {
      pollMs: options.pollMs ?? DEFAULTS.pollMs,
      maxSessions: options.maxSessions ?? DEFAULTS.maxSessions,
      dropAfterMs: options.dropAfterMs ?? DEFAULTS.dropAfterMs,
      reconfirmAfterMs: options.reconfirmAfterMs ?? DEFAULTS.reconfirmAfterMs,
      permissionGraceMs: options.permissionGraceMs ?? DEFAULTS.permissionGraceMs,
      heuristicThresholdMs: options.heuristicThresholdMs ?? DEFAULTS.heuristicThresholdMs,
      busyTimeoutMs: options.busyTimeoutMs ?? DEFAULTS.busyTimeoutMs,
    };
    const loaded = (options.loadSqlite ?? loadNodeSqlite)();
    this.sqlite = loaded.sqlite;
    if (loaded.reason !== undefined) this.unavailableReason = loaded.reason;
  }

  readonly onChange = (listener: () => void): Disposable => this.changes.event(listener);

  sessionsFor(instance: InstanceModel): SessionModel[] {
    if (this.disposed || instance.connection !== 'limited' || !instance.dataDir || !instance.cwd) return [];
    if (!this.sqlite) {
      if (!this.unavailableLogged) {
        this.unavailableLogged = true;
        this.logger.warn(`Sessions of port-less OpenCode TUIs cannot be read: ${this.unavailableReason ?? 'node:sqlite is unavailable'}.`);
      }
      return [];
    }
    // DB state is trusted only while the process that wrote it lives.
    if (instance.pid !== undefined && !this.probe.isAlive(instance.pid)) return [];
    const now = this.now();
    const directory = normalizeDirectory(instance.cwd);
    const key = `${instance.dataDir}\0${directory}`;
    let watch = this.watches.get(key);
    const fresh = !watch;
    if (!watch) {
      watch = { key, dataDir: instance.dataDir, directory, askers: new Map(), records: [], dirty: true, models: [], fingerprint: '[]', missingSince: new Map() };
      this.watches.set(key, watch);
    }
    let asker = watch.askers.get(instance.id);
    if (!asker) {
      const startedAt = instance.pid !== undefined ? this.probe.startTime(instance.pid) : undefined;
      asker = { instanceId: instance.id, ...(instance.pid !== undefined ? { pid: instance.pid } : {}), ...(startedAt !== undefined ? { startedAt } : {}), lastAsked: now };
      watch.askers.set(instance.id, asker);
    }
    asker.lastAsked = now;
    asker.reconfirmAt = undefined;
    if (fresh) {
      this.refresh(watch.dataDir, [watch], now); // the first answer already has data
      this.ensureTimer();
    }
    if (this.electOwner(watch)) this.fireSoon(); // others asked before may now answer differently
    if (watch.ownerId !== instance.id) return [];
    return this.modelsFor(watch, instance.id);
  }

  /** For tests and diagnostics. */
  stats(): { watches: number; openDatabases: number; ticks: number; reads: number; fires: number } {
    let open = 0;
    for (const d of this.dataDirs.values()) if (d.db.isOpen) open++;
    return { watches: this.watches.size, openDatabases: open, ...this.counters };
  }

  /** One poll right now (tests; the timer calls the same). */
  pollNow(): void {
    this.tick();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timer?.dispose();
    this.timer = undefined;
    if (this.pendingFire) clearImmediate(this.pendingFire);
    this.pendingFire = undefined;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    for (const d of this.dataDirs.values()) d.db.close();
    this.dataDirs.clear();
    this.watches.clear();
    this.changes.dispose();
  }

  // ── Polling ──────────────────────────────────────────────────────────────

  private ensureTimer(): void {
    if (this.timer || this.disposed) return;
    this.timer = everyAligned(this.settings.pollMs, () => this.tick(), { unref: true });
  }

  private tick(): void {
    if (this.disposed) return;
    this.counters.ticks++;
    const now = this.now();
    let changed = this.retain(now);
    const byDir = new Map<string, Watch[]>();
    for (const watch of this.watches.values()) {
      const list = byDir.get(watch.dataDir);
      if (list) list.push(watch);
      else byDir.set(watch.dataDir, [watch]);
    }
    for (const [dataDir, dir] of this.dataDirs) {
      if (!byDir.has(dataDir)) {
        dir.db.close();
        this.dataDirs.delete(dataDir);
      }
    }
    for (const [dataDir, watches] of byDir) if (this.refresh(dataDir, watches, now)) changed = true;
    if (this.watches.size === 0 && this.timer) {
      this.timer.dispose();
      this.timer = undefined;
    }
    if (changed) this.fireSoon();
  }

  /** Drops instances that are gone (or nobody asks about); returns whether any answer changes. */
  private retain(now: number): boolean {
    const { dropAfterMs, reconfirmAfterMs } = this.settings;
    let changed = false;
    for (const [key, watch] of this.watches) {
      for (const [id, asker] of watch.askers) {
        const idle = now - asker.lastAsked;
        let keep = true;
        if (asker.pid !== undefined && !this.isSameProcess(asker)) keep = false;
        else if (asker.pid === undefined && idle > dropAfterMs) keep = false;
        else if (idle > reconfirmAfterMs) {
          // The monitor asks only when it rebuilds: a change event makes it ask again if it still cares.
          if (asker.reconfirmAt === undefined) {
            asker.reconfirmAt = now;
            changed = true;
          } else if (now - asker.reconfirmAt > dropAfterMs) keep = false;
        }
        if (!keep) {
          watch.askers.delete(id);
          changed = true;
        }
      }
      if (watch.askers.size === 0) this.watches.delete(key);
      else if (this.electOwner(watch)) changed = true;
    }
    return changed;
  }

  /** Polls one data dir and brings the given watches up to date; returns whether models changed. */
  private refresh(dataDir: string, watches: Watch[], now: number): boolean {
    let dir = this.dataDirs.get(dataDir);
    if (!dir) {
      dir = { db: new OpencodeDb(dataDir, this.sqlite!, this.settings.busyTimeoutMs), busyStreak: 0 };
      this.dataDirs.set(dataDir, dir);
    }
    const state = dir.db.poll();
    this.noteState(dir, state);
    if (state === 'changed') for (const w of this.watches.values()) if (w.dataDir === dataDir) w.dirty = true;
    let changed = false;
    for (const watch of watches) {
      let fresh = false;
      if (state === 'missing' || state === 'not-running' || state === 'incompatible' || state === 'error') {
        fresh = watch.records.length > 0;
        watch.records = [];
        watch.dirty = true;
      } else if (watch.dirty && state !== 'busy') {
        this.counters.reads++;
        const result = dir.db.readDirectory(watch.directory, { maxSessions: this.settings.maxSessions });
        if (result.state === 'ok') {
          watch.records = result.records;
          watch.dirty = false;
          fresh = true;
        } else {
          this.noteState(dir, result.state === 'busy' ? 'busy' : 'error');
        }
      }
      // Busy sessions change with time and processes alone (permission grace, heuristic).
      const dependsOn = [...watch.askers.values()].map((a) => `${a.pid}@${a.startedAt}`).sort().join(',');
      const busy = watch.records.some((r) => isOpenAssistantMessage(r.lastMessage));
      if (!fresh && !busy && dependsOn === watch.inferredWith) continue;
      watch.inferredWith = dependsOn;
      if (this.infer(watch, now)) changed = true;
    }
    return changed;
  }

  private infer(watch: Watch, now: number): boolean {
    const pids = [...watch.askers.values()].map((a) => a.pid).filter((p): p is number => p !== undefined);
    const starts = [...watch.askers.values()].map((a) => a.startedAt).filter((t): t is number => t !== undefined);
    let toolChild: boolean | undefined | null = null; // null: not asked yet this tick
    const anyToolChild = (): boolean | undefined => {
      if (toolChild !== null) return toolChild;
      let unknown = pids.length === 0;
      toolChild = false;
      for (const pid of pids) {
        const has = this.hasToolChild(pid);
        if (has === true) return (toolChild = true);
        if (has === undefined) unknown = true;
      }
      if (unknown) toolChild = undefined;
      return toolChild;
    };
    const seenBash = new Set<string>();
    const ctx: InferenceContext = {
      now,
      // Several TUIs in one folder: the earliest start is the conservative bound.
      ...(starts.length === pids.length && starts.length > 0 ? { ownerStartedAt: Math.min(...starts) } : {}),
      heuristicThresholdMs: this.settings.heuristicThresholdMs,
      bashWaiting: (tool: DbToolRow) => {
        seenBash.add(tool.partId);
        const has = anyToolChild();
        if (has === undefined) return undefined;
        if (has) {
          watch.missingSince.delete(tool.partId);
          return false;
        }
        const since = watch.missingSince.get(tool.partId);
        if (since === undefined) {
          watch.missingSince.set(tool.partId, now);
          return false;
        }
        return now - since >= this.settings.permissionGraceMs;
      },
    };
    const models = watch.records.map((r) => inferSession(r, '', ctx));
    for (const id of watch.missingSince.keys()) if (!seenBash.has(id)) watch.missingSince.delete(id);
    models.sort((a, b) => b.updatedAt - a.updatedAt || compareIds(a.id, b.id));
    const fingerprint = JSON.stringify(models);
    if (fingerprint === watch.fingerprint) return false;
    watch.models = models;
    watch.fingerprint = fingerprint;
    return true;
  }

  /** Alive, and not a new process that got the pid. */
  private isSameProcess(asker: Asker): boolean {
    if (asker.pid === undefined || !this.probe.isAlive(asker.pid)) return false;
    return asker.startedAt === undefined || this.probe.startTime(asker.pid) === asker.startedAt;
  }

  // ── Owners ───────────────────────────────────────────────────────────────

  /**
   * The DB does not say which of several TUIs in one folder runs a session, so all of the
   * folder's sessions go to one of them (the lowest pid) instead of appearing once per TUI.
   * Returns whether an earlier owner's answers are now wrong.
   */
  private electOwner(watch: Watch): boolean {
    const askers = [...watch.askers.values()].sort(
      (a, b) => (a.pid ?? Number.MAX_SAFE_INTEGER) - (b.pid ?? Number.MAX_SAFE_INTEGER) || compareIds(a.instanceId, b.instanceId),
    );
    const owner = askers[0]?.instanceId;
    if (askers.length > 1) {
      const note = askers.map((a) => a.pid ?? a.instanceId).join(', ');
      if (note !== watch.sharedNote) {
        watch.sharedNote = note;
        this.logger.info(
          `OpenCode TUIs ${note} share ${watch.directory}; the database does not tell which runs which session, so its sessions are shown under ${askers[0]?.pid ?? owner}.`,
        );
      }
    } else watch.sharedNote = undefined;
    if (owner === watch.ownerId) return false;
    const had = watch.ownerId !== undefined;
    watch.ownerId = owner;
    return had;
  }

  private modelsFor(watch: Watch, instanceId: string): SessionModel[] {
    const cached = watch.mapped;
    if (cached && cached.instanceId === instanceId && cached.fingerprint === watch.fingerprint) return cached.models;
    const models = watch.models.map((m) => ({ ...m, instanceId }));
    watch.mapped = { instanceId, fingerprint: watch.fingerprint, models };
    return models;
  }

  // ── Plumbing ─────────────────────────────────────────────────────────────

  /** Deferred: listeners rebuild snapshots, and this may run in the middle of one. */
  private fireSoon(): void {
    if (this.pendingFire || this.disposed) return;
    this.pendingFire = setImmediate(() => {
      this.pendingFire = undefined;
      if (this.disposed) return;
      this.counters.fires++;
      this.changes.fire(undefined, (error) => this.logger.error(`DB session listener failed: ${describeError(error)}`));
    });
  }

  /** SQLite already waited `busyTimeoutMs`; try once more soon rather than a whole poll later. */
  private retrySoon(): void {
    if (this.retryTimer || this.disposed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.tick();
    }, 50);
    this.retryTimer.unref();
  }

  private noteState(dir: DataDir, state: DbState): void {
    if (state === 'busy') {
      if (dir.busyStreak === 0) this.retrySoon();
      dir.busyStreak++;
      if (dir.busyStreak === 5) this.logger.warn(`${dir.db.path} stayed busy for 5 polls (${dir.db.problem ?? 'locked'}); still retrying.`);
      return;
    }
    dir.busyStreak = 0;
    if (state === dir.state) return;
    dir.state = state;
    if (state === 'incompatible' || state === 'error') {
      const problem = dir.db.problem ?? state;
      if (problem !== dir.loggedProblem) {
        dir.loggedProblem = problem;
        this.logger.warn(`Cannot read OpenCode's database: ${problem}`);
      }
    } else if (state === 'missing' || state === 'not-running') {
      this.logger.debug(`${dir.db.path}: ${state === 'missing' ? 'no database' : 'no OpenCode has it open'}`);
    } else {
      dir.loggedProblem = undefined;
    }
  }
}

/** Session directories are stored without a trailing separator. */
function normalizeDirectory(dir: string): string {
  return dir.length > 1 ? dir.replace(/[\\/]+$/, '') : dir;
}
