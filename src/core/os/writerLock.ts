/**
 * Elects one legacy-file writer per machine among VS Code windows and the CLI daemon.
 *
 * The lock is a small JSON file. It is only ever created whole and exclusively (hard link of a
 * complete temp file, EEXIST if taken), and its heartbeat is rewritten in place by its holder. A contender
 * takes over when the holder's PID is gone or its heartbeat is older than `staleMs`; removing a
 * stale lock goes through rename-then-verify, so two contenders removing it at once cannot
 * delete each other's fresh lock. The holder stops claiming the lock as soon as its own last
 * heartbeat is older than `staleMs` (e.g. after a long pause), which is exactly when others may
 * take it: two processes never believe they hold it at the same moment.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../log';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { isPidAlive } from './pid';
import { errorCode } from './atomicWrite';
import { describeError } from '../util/describe';
import { userLockPath } from './userLockPath';
import { createExclusive, lockHolderText, readLockFile, readWriterLock, refreshOwnLock, removeLeftovers, removeQuietly, replaceStaleLock, takeMutex } from './lockFile';
import type { LockFileContent, LockRecord } from './lockFile';
import { alignedDelay } from '../util/alignedDelay';

export interface WriterLockOptions {
  path?: string;
  ownerLabel: string;
  heartbeatMs?: number;
  staleMs?: number;
  logger: Logger;
  /** Watch the lock's folder to take over as soon as a holder releases (polling is the fallback). */
  watch?: boolean;
  now?: () => number;
  isProcessAlive?: (pid: number) => boolean;
}

export class WriterLock {
  readonly path: string;
  private readonly ownerLabel: string;
  private readonly heartbeatMs: number;
  private readonly staleMs: number;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly isAlive: (pid: number) => boolean;
  private readonly watchFolder: boolean;
  /** How long after its last heartbeat the holder still claims the lock (< staleMs). */
  private readonly claimMs: number;
  private readonly hostname = os.hostname();
  private readonly token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  private readonly changes = new Emitter<boolean>();
  private readonly reported = new Set<string>();
  private holder = false;
  private lastBeatAt = 0;
  private acquiredAt = 0;
  private started = false;
  private disposed = false;
  private timer: NodeJS.Timeout | undefined;
  private soon: NodeJS.Timeout | undefined;
  private watcher: fs.FSWatcher | undefined;
  private seenHolder: string | undefined;

  constructor(options: WriterLockOptions) {
    this.path = path.resolve(options.path ?? userLockPath());
    this.ownerLabel = options.ownerLabel;
    this.heartbeatMs = options.heartbeatMs ?? 1000;
    this.staleMs = options.staleMs ?? 3000;
    if (!(this.staleMs > this.heartbeatMs)) throw new Error(`staleMs (${this.staleMs}) must exceed heartbeatMs (${this.heartbeatMs})`);
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
    this.isAlive = options.isProcessAlive ?? isPidAlive;
    this.watchFolder = options.watch ?? true;
    this.claimMs = this.staleMs - Math.min(500, (this.staleMs - this.heartbeatMs) / 2);
  }

  /** Tries at once (so isHolder() is meaningful on return), then every heartbeat. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    try {
      fs.mkdirSync(path.dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (error) {
      this.report('create the folder of', error);
    }
    this.startWatcher();
    this.tick();
  }

  /**
   * False once the last heartbeat is older than the claim deadline (a margin before staleMs),
   * i.e. before anyone else may take over: a paused holder never writes after resuming.
   */
  isHolder(): boolean {
    return this.holder && !this.disposed && this.now() - this.lastBeatAt <= this.claimMs;
  }

  onChange(listener: (holder: boolean) => void): Disposable {
    return this.changes.event(listener);
  }

  /** Who holds the lock right now, if anyone (for status displays). */
  current(): LockRecord | undefined {
    return readWriterLock(this.path);
  }

  /** Releases the lock if held, so another contender takes over at once. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.soon) clearTimeout(this.soon);
    this.timer = this.soon = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.holder) {
      try {
        this.release();
      } catch (error) {
        this.report('release', error);
      }
      this.setHolder(false, 'released');
    }
    this.changes.dispose();
  }

  // ── loop ──────────────────────────────────────────────────────────────────

  private tick(): void {
    this.timer = undefined;
    if (this.disposed) return;
    this.step();
    if (!this.disposed) this.timer = setTimeout(() => this.tick(), alignedDelay(this.heartbeatMs));
  }

  private step(): void {
    try {
      if (this.holder) this.beat();
      else this.tryAcquire();
      if (this.reported.size > 0) {
        this.reported.clear();
        this.logger.info(`writer lock ${this.path}: working again`);
      }
    } catch (error) {
      this.report(this.holder ? 'refresh' : 'acquire', error);
      if (this.holder && this.now() - this.lastBeatAt > this.claimMs) this.setHolder(false, 'heartbeat failing');
    }
  }

  private scheduleSoon(): void {
    if (this.soon || this.disposed || this.holder) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      if (!this.disposed && !this.holder) this.step();
    }, 5);
  }

  private startWatcher(): void {
    if (!this.watchFolder || this.watcher) return;
    const base = path.basename(this.path);
    try {
      // Real path: FSEvents reports /private/tmp for /tmp on macOS.
      this.watcher = fs.watch(fs.realpathSync(path.dirname(this.path)), (_event, filename) => {
        if (filename === null || filename === base) this.scheduleSoon();
      });
      this.watcher.on('error', (error) => {
        this.logger.debug(`writer lock: cannot watch ${path.dirname(this.path)} (${String(error)}); polling only`);
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.logger.debug(`writer lock: cannot watch ${path.dirname(this.path)} (${String(error)}); polling only`);
    }
  }

  // ── lock operations (synchronous: each is a few syscalls on a tiny file) ──

  private tryAcquire(): void {
    for (let attempt = 0; attempt < 4; attempt++) {
      const now = this.now();
      if (createExclusive(this.path, this.serialize(now), this.token)) {
        this.becomeHolder(now, undefined);
        return;
      }
      const cur = readLockFile(this.path);
      if (!cur) continue; // released between our two calls
      if (!this.staleReason(cur)) {
        // Even our own token (put back by a contender after we stepped down) is left to go stale:
        // claiming it without the exclusive path could overwrite someone's fresh takeover.
        this.noteHolder(cur.record);
        return;
      }
      // Replacing a stale lock moves it aside for a moment. Two contenders doing that at once
      // could each move the other's fresh lock and both hold it for a heartbeat, so takeovers go
      // one at a time; the others retry on their next tick (or when the folder changes).
      const mutex = `${this.path}.takeover`;
      if (!takeMutex(mutex, this.token, this.now())) return;
      try {
        if (this.takeOverUnderMutex()) return;
      } finally {
        removeQuietly(mutex);
      }
    }
  }

  /** With the takeover mutex held: judges the lock again and replaces it if still stale. True when done. */
  private takeOverUnderMutex(): boolean {
    const cur = readLockFile(this.path);
    const stale = cur ? this.staleReason(cur) : undefined;
    if (cur && !stale) {
      this.noteHolder(cur.record);
      return true;
    }
    if (cur && replaceStaleLock(this.path, cur.raw, this.token, (c) => this.staleReason(c) !== undefined) === 'restored') return true;
    const now = this.now();
    if (!createExclusive(this.path, this.serialize(now), this.token)) return false; // created by a contender meanwhile: look again
    const from = cur && cur.record?.token !== this.token ? `${lockHolderText(cur.record)}: ${stale}` : undefined;
    this.becomeHolder(now, from);
    return true;
  }

  private beat(): void {
    if (this.now() - this.lastBeatAt > this.claimMs) {
      // Late (process paused, machine asleep): a contender may be taking over right now, so a
      // plain rename could overwrite its fresh lock. Re-acquire through the exclusive path.
      this.setHolder(false, 'heartbeat late (paused or asleep?)');
      this.tryAcquire();
      return;
    }
    const now = this.now();
    const { written, found: cur } = refreshOwnLock(this.path, this.token, this.serialize(now));
    if (written) {
      this.lastBeatAt = now;
      return;
    }
    // Missing: a contender may be putting it back after a mistaken move, or someone deleted it.
    if (!cur && createExclusive(this.path, this.serialize(now), this.token)) {
      this.lastBeatAt = now;
      return;
    }
    const again = cur ?? readLockFile(this.path);
    if (again?.record?.token === this.token) return;
    this.setHolder(false, again ? `taken over by ${lockHolderText(again.record)}` : 'lock file removed');
  }

  private release(): void {
    const grave = `${this.path}.${this.token}.release`;
    try {
      fs.renameSync(this.path, grave);
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    try {
      const moved = readLockFile(grave);
      // Not ours after all (taken over while we were paused): put it back.
      if (moved && moved.record?.token !== this.token) createExclusive(this.path, moved.raw, this.token);
    } finally {
      removeQuietly(grave);
    }
  }

  private becomeHolder(now: number, tookOverFrom: string | undefined): void {
    this.lastBeatAt = now;
    this.acquiredAt = now;
    this.seenHolder = undefined;
    removeLeftovers(this.path, now);
    this.setHolder(true, tookOverFrom ? `took over from ${tookOverFrom}` : 'acquired');
  }

  private staleReason(cur: LockFileContent): string | undefined {
    const now = this.now();
    const r = cur.record;
    if (!r) {
      // Unparsable (foreign, or created without link support and not written yet): trust its age.
      const age = now - cur.mtimeMs;
      return age > this.staleMs ? `unreadable lock not updated for ${Math.round(age)} ms` : undefined;
    }
    // PIDs mean something only on this machine.
    if (r.hostname === this.hostname && r.pid !== process.pid && !this.isAlive(r.pid)) return `pid ${r.pid} is gone`;
    const age = now - r.heartbeat;
    if (age > this.staleMs) return `no heartbeat for ${Math.round(age)} ms`;
    if (age < -this.staleMs) return 'heartbeat in the future (clock changed)';
    return undefined;
  }

  private setHolder(holder: boolean, reason: string): void {
    if (this.holder === holder) return;
    this.holder = holder;
    // Only a contender needs to hear the folder change; the holder's own beats would wake it twice a second.
    if (holder) {
      this.watcher?.close();
      this.watcher = undefined;
    } else if (!this.disposed) this.startWatcher();
    if (holder) this.logger.info(`writer lock ${this.path}: holder (${reason})`);
    else if (reason === 'released') this.logger.info(`writer lock ${this.path}: released`);
    else this.logger.warn(`writer lock ${this.path}: no longer holder (${reason})`);
    this.changes.fire(holder, (error) => this.logger.error(`writer lock listener failed: ${String(error)}`));
  }

  private noteHolder(record: LockRecord | undefined): void {
    const key = record?.token ?? 'unknown';
    if (key === this.seenHolder) return;
    this.seenHolder = key;
    this.logger.info(`writer lock ${this.path}: held by ${lockHolderText(record)}`);
  }

  private report(what: string, error: unknown): void {
    const key = `${what}:${errorCode(error) ?? 'unknown'}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const hint = errorCode(error) === 'EACCES' || errorCode(error) === 'EPERM' ? ' (held or created by another user?)' : '';
    this.logger.warn(`writer lock ${this.path}: cannot ${what}: ${describeError(error)}${hint}`);
  }

  private serialize(now = this.now()): string {
    const record: LockRecord = {
      pid: process.pid,
      hostname: this.hostname,
      owner: this.ownerLabel,
      heartbeat: now,
      token: this.token,
      acquiredAt: this.acquiredAt || now,
    };
    return JSON.stringify(record) + '\n';
  }
}
