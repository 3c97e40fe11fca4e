/** Legacy SwiftBar files (/tmp/opencode-state.json, /tmp/opencode-usage.json): mapping, single writer, refresh. */
export { AtomicWriteError, removeStaleTemps, writeFileAtomicSync } from './atomicWrite';
export type { AtomicWriteOptions } from './atomicWrite';
export { DEFAULT_STATE_PATH, DEFAULT_USAGE_PATH, LEGACY_DAEMON_LOCKS, LegacyWriter, legacyDaemonPid } from './legacyWriter';
export type { LegacyFileKind, LegacyWriterLock, LegacyWriterOptions } from './legacyWriter';
export { contentKey, DEFAULT_TITLE, GLOBAL_DIR, legacyErrorCode, toLegacyState, toLegacyUsage } from './stateFile';
export type {
  LegacyAgent,
  LegacyAgentTodos,
  LegacyInstance,
  LegacyState,
  LegacyTool,
  LegacyUsage,
  LegacyUsageError,
  LegacyUsageErrorCode,
  LegacyUsageOptions,
  LegacyUsageValues,
  LegacyUsageWindow,
} from './stateFile';
export { execFileRunner, swiftBarRefreshUrl, SwiftBarRefresher, systemClock } from './swiftbar';
export type { CommandRunner, LegacyRefresher, RefreshClock, SwiftBarRefresherOptions } from './swiftbar';
export { createExclusive, DEFAULT_LOCK_PATH, processAlive, readLockFile, readWriterLock, replaceStaleLock, WriterLock } from './writerLock';
export type { LockFileContent, LockRecord, WriterLockOptions } from './writerLock';
