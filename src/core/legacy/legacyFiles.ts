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
  const subscription = monitor.onDidChange(() => writer.update(monitor.snapshot()));
  writer.update(monitor.snapshot());
  return {
    statePath: writer.statePath,
    usagePath: writer.usagePath,
    isHolder: () => lock.isHolder(),
    dispose: () => {
      subscription.dispose();
      writer.dispose(); // before the lock: it leaves "not connected" while still the holder
      lock.dispose();
    },
  };
}
