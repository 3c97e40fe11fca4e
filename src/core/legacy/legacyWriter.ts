/**
 * Keeps the legacy SwiftBar files up to date from monitor snapshots, while (and only while)
 * this process holds the machine-wide writer lock. Files are rewritten only when their content
 * other than `updated` changes, atomically and with mode 0600; errors are logged once per kind
 * and never thrown to the caller. The model carries no secrets, so neither do the files.
 */
import * as fs from 'node:fs';
import type { Logger } from '../log';
import type { MonitorSnapshot } from '../model/model';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { errorCode, removeStaleTemps, writeFileAtomicSync } from '../os/atomicWrite';
import { contentKey, toLegacyState, toLegacyUsage } from './stateFile';
import type { LegacyState, LegacyUsage, LegacyUsageOptions } from './stateFile';
import type { LegacyRefresher } from './swiftbar';
import { SwiftBarRefresher } from './swiftbar';
import { isPidAlive } from '../os/pid';
import { describeError } from '../util/describe';
import { legacyTargetRefusal } from './legacyTarget';

export const DEFAULT_STATE_PATH = '/tmp/opencode-state.json';
export const DEFAULT_USAGE_PATH = '/tmp/opencode-usage.json';
/** Singleton locks of the Bash daemons (directories with a `pid` file) and of the Python one (a PID file). */
export const LEGACY_DAEMON_LOCKS: readonly string[] = ['/tmp/opencode-eventd.lock', '/tmp/opencode-usaged.lock', '/tmp/opencode-monitor.lock'];

/** What the writer needs from the lock (WriterLock provides it; tests may fake it). */
export interface LegacyWriterLock {
  isHolder(): boolean;
  onChange(listener: (holder: boolean) => void): Disposable;
}

export interface LegacyWriterOptions {
  statePath?: string;
  usagePath?: string;
  lock: LegacyWriterLock;
  logger: Logger;
  /** Defaults to a SwiftBarRefresher (a no-op outside macOS), owned and disposed by the writer. */
  refresher?: LegacyRefresher;
  /** ms since epoch. */
  now?: () => number;
  usage?: LegacyUsageOptions;
  /**
   * On dispose while holding the lock, leave the "not connected" state behind, so the menu bar
   * does not show the last sessions as busy forever when no other writer takes over. Default true.
   */
  writeDisconnectedOnDispose?: boolean;
  /** Checked on becoming the writer, to warn when an old daemon also writes the files. */
  legacyDaemonLocks?: readonly string[];
}

export type LegacyFileKind = 'state' | 'usage';

export class LegacyWriter {
  readonly statePath: string;
  readonly usagePath: string;
  private readonly lock: LegacyWriterLock;
  private readonly logger: Logger;
  private readonly refresher: LegacyRefresher;
  private readonly ownedRefresher: SwiftBarRefresher | undefined;
  private readonly now: () => number;
  private readonly usageOptions: LegacyUsageOptions;
  private readonly writeDisconnectedOnDispose: boolean;
  private readonly legacyDaemonLocks: readonly string[];
  private readonly lockSubscription: Disposable;
  private readonly writes = new Emitter<LegacyFileKind>();
  private readonly failures = new Set<string>();
  private readonly warnedDaemons = new Set<string>();
  private latest: MonitorSnapshot | undefined;
  private writtenState: string | undefined;
  private writtenUsage: string | undefined;
  private disposed = false;

  constructor(options: LegacyWriterOptions) {
    this.statePath = options.statePath ?? DEFAULT_STATE_PATH;
    this.usagePath = options.usagePath ?? DEFAULT_USAGE_PATH;
    this.lock = options.lock;
    this.logger = options.logger;
    if (options.refresher) {
      this.refresher = options.refresher;
    } else {
      this.ownedRefresher = new SwiftBarRefresher({ logger: options.logger });
      this.refresher = this.ownedRefresher;
    }
    this.now = options.now ?? Date.now;
    this.usageOptions = options.usage ?? {};
    this.writeDisconnectedOnDispose = options.writeDisconnectedOnDispose ?? true;
    this.legacyDaemonLocks = options.legacyDaemonLocks ?? LEGACY_DAEMON_LOCKS;
    this.lockSubscription = this.lock.onChange((holder) => this.onLockChange(holder));
  }

  update(snapshot: MonitorSnapshot): void {
    if (this.disposed) return;
    this.latest = snapshot;
    try {
      this.flush();
    } catch (error) {
      // A mapping bug on odd data must not break the monitor that feeds us.
      this.reportOnce('map', `legacy files: cannot map the snapshot: ${describeError(error)}`);
    }
  }

  /** Fires after each file actually written. */
  onDidWrite(listener: (kind: LegacyFileKind) => void): Disposable {
    return this.writes.event(listener);
  }

  /** Dispose before the lock, so the "not connected" state is written while still the holder. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.lockSubscription.dispose();
    if (this.writeDisconnectedOnDispose && this.writtenState !== undefined && this.lock.isHolder()) {
      const state = toLegacyState({ instances: [], sessions: [], updatedAt: this.now() }, this.nowSec());
      if (this.write('state', this.statePath, state)) this.refresher.notify(state.permissions_pending);
    }
    this.ownedRefresher?.dispose();
    this.writes.dispose();
  }

  private onLockChange(holder: boolean): void {
    if (this.disposed || !holder) return;
    // What the previous writer left is unknown: write everything at once.
    this.writtenState = this.writtenUsage = undefined;
    removeStaleTemps(this.statePath);
    removeStaleTemps(this.usagePath);
    this.warnAboutLegacyDaemons();
    this.flush();
  }

  private flush(): void {
    const snapshot = this.latest;
    if (this.disposed || !snapshot || !this.lock.isHolder()) return;
    const nowSec = this.nowSec();
    const written: LegacyFileKind[] = [];

    const state = toLegacyState(snapshot, nowSec);
    const stateKey = contentKey(state);
    if (stateKey !== this.writtenState && this.write('state', this.statePath, state)) {
      this.writtenState = stateKey;
      written.push('state');
    }
    // Absent usage (feature off, first fetch pending) leaves the usage file alone.
    const usage = toLegacyUsage(snapshot.usage, nowSec, this.usageOptions);
    if (usage) {
      const usageKey = contentKey(usage);
      if (usageKey !== this.writtenUsage && this.write('usage', this.usagePath, usage)) {
        this.writtenUsage = usageKey;
        written.push('usage');
      }
    }

    if (written.length === 0) return;
    this.refresher.notify(state.permissions_pending);
    for (const kind of written) this.writes.fire(kind, (error) => this.logger.error(`legacy writer listener failed: ${String(error)}`));
  }

  private write(kind: LegacyFileKind, file: string, value: LegacyState | LegacyUsage): boolean {
    const refusal = legacyTargetRefusal(file, kind);
    if (refusal) {
      this.reportOnce(`${kind}:refused:${refusal}`, `legacy ${kind} file: not writing ${file}: ${refusal}; the rest of the monitor keeps working`);
      return false;
    }
    try {
      writeFileAtomicSync(file, JSON.stringify(value) + '\n', { mode: 0o600, durable: false });
    } catch (error) {
      this.reportOnce(`${kind}:${errorCode(error) ?? 'unknown'}`, `legacy ${kind} file: ${describeError(error)}; retrying on the next change`);
      return false;
    }
    const prefix = `${kind}:`;
    const recovered = [...this.failures].filter((k) => k.startsWith(prefix));
    if (recovered.length > 0) {
      for (const k of recovered) this.failures.delete(k);
      this.logger.info(`legacy ${kind} file: written again (${file})`);
    }
    return true;
  }

  private reportOnce(key: string, message: string): void {
    if (this.failures.has(key)) return;
    this.failures.add(key);
    this.logger.warn(message);
  }

  private warnAboutLegacyDaemons(): void {
    for (const lockPath of this.legacyDaemonLocks) {
      const pid = legacyDaemonPid(lockPath);
      if (pid === undefined || pid === process.pid || !isPidAlive(pid)) continue;
      const key = `${lockPath}:${pid}`;
      if (this.warnedDaemons.has(key)) continue;
      this.warnedDaemons.add(key);
      this.logger.warn(
        `an old opencode-monitor daemon seems to be running (pid ${pid}, lock ${lockPath}) and also writes the legacy files; ` +
          'stop it (launchctl unload ~/Library/LaunchAgents/com.opencode.*.plist) so there is a single writer',
      );
    }
  }

  private nowSec(): number {
    return Math.floor(this.now() / 1000);
  }
}

/** PID recorded by a legacy daemon's lock: a directory holding `pid`, or a PID file. */
export function legacyDaemonPid(lockPath: string): number | undefined {
  try {
    const file = fs.statSync(lockPath).isDirectory() ? `${lockPath}/pid` : lockPath;
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
