/** Session ownership: several servers may list one session; exactly one row shows it. */
import type { Entry } from './entries';

/**
 * Which entry owns each session: the server that runs it now (or did last), else one whose
 * process works in the session's folder. `entries` in row order; the first wins a tie.
 */
export function sessionOwners(entries: readonly Entry[]): Map<string, Entry> {
  const owners = new Map<string, { entry: Entry; activeAt: number; cwdMatch: boolean }>();
  for (const entry of entries) {
    const watcher = entry.watcher;
    if (!watcher) continue;
    for (const info of watcher.sessionInfos()) {
      const activeAt = watcher.activeAt(info.id) ?? -1;
      const cwdMatch = entry.process?.cwd === info.directory;
      const current = owners.get(info.id);
      if (!current || activeAt > current.activeAt || (activeAt === current.activeAt && cwdMatch && !current.cwdMatch)) {
        owners.set(info.id, { entry, activeAt, cwdMatch });
      }
    }
  }
  return new Map([...owners].map(([id, { entry }]) => [id, entry]));
}
