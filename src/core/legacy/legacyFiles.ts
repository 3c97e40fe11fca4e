/**
 * The legacy SwiftBar files as one feature, the same for every host (VS Code window, CLI daemon):
 * compete for the machine-wide writer lock and write the monitor's snapshots only while holding it.
 */
import type { Logger } from '../log';
import type { MonitorSnapshot } from '../model/model';
import type { Disposable } from '../util/events';
import { WriterLock } from '../os/writerLock';
import { userLockPath } from '../os/userLockPath';
import { DEFAULT_STATE_PATH, DEFAULT_USAGE_PATH, LegacyWriter } from './legacyWriter';
import { ChangeCoalescer } from '../monitor/changeCoalescer';

/**
 * SwiftBar reads the files every 2 s (and the daemons they replace wrote them once a second): a
 * busy machine's change events (up to 20 a second) are written at most this often — the first
 * change after a quiet second at once — which also spares building a snapshot per change in the
 * daemon, whose only consumer the files often are (busy lab: 0.77–0.82 s of CPU a minute at
 * 500 ms, 0.65–0.66 s at 1 s).
 */
export const LEGACY_WRITE_INTERVAL_MS = 1000;

/** What the legacy files read from the monitor. */
export interface SnapshotSource {
  snapshot(): MonitorSnapshot;
  onDidChange(listener: () => void): Disposable;
}

export interface LegacyFilesOptions {
  logger: Logger;
  /** Names this process in the lock file ("VS Code window (pid 12)"). */
  ownerLabel: string;
  statePath?: string;
  usagePath?: string;
  lockPath?: string;
  /** Default LEGACY_WRITE_INTERVAL_MS. */
  writeIntervalMs?: number;
}

export interface LegacyFiles extends Disposable {
  readonly statePath: string;
  readonly usagePath: string;
  /** True while this process holds the lock and writes the files. */
  isHolder(): boolean;
}

export function startLegacyFiles(monitor: SnapshotSource, options: LegacyFilesOptions): LegacyFiles {
  const { logger } = options;
  // Default: a per-user folder, the same for every host (issue 11), not the shared /tmp.
  const lock = new WriterLock({ ownerLabel: options.ownerLabel, logger, path: options.lockPath ?? userLockPath() });
  const writer = new LegacyWriter({
    lock,
    logger,
    statePath: options.statePath ?? DEFAULT_STATE_PATH,
    usagePath: options.usagePath ?? DEFAULT_USAGE_PATH,
  });
  lock.start();
  // The monitor's own burst rule, with the files' interval: first change on the next turn, then spaced.
  const writes = new ChangeCoalescer(() => writer.update(monitor.snapshot()), options.writeIntervalMs ?? LEGACY_WRITE_INTERVAL_MS);
  const subscription = monitor.onDidChange(() => writes.add({ sessions: true }));
  writer.update(monitor.snapshot());
  return {
    statePath: writer.statePath,
    usagePath: writer.usagePath,
    isHolder: () => lock.isHolder(),
    dispose: () => {
      subscription.dispose();
      writes.dispose();
      writer.dispose(); // before the lock: it leaves "not connected" while still the holder
      lock.dispose();
    },
  };
}
