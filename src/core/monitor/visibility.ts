/** Visibility rules: which sessions a snapshot shows. */
import type { SessionModel } from '../model/model';
import { compareIds } from '../util/compareIds';

export interface VisibilityOptions {
  /** Idle sessions not updated for this long are not shown. */
  idleMaxAgeMs: number;
  /** Idle root sessions shown per instance, newest first. */
  idleSessionsPerInstance: number;
}

/** Active sessions always; idle ones only while recent, and a few per instance. */
export function visibleSessions(all: SessionModel[], now: number, options: VisibilityOptions): SessionModel[] {
  const maxAge = options.idleMaxAgeMs;
  const perInstance = options.idleSessionsPerInstance;
  const byId = new Map(all.map((s) => [s.id, s]));
  const active = (s: SessionModel) => s.status !== 'idle' || s.needsAttention;
  const shown = new Set<string>();
  for (const s of all) {
    if (!active(s)) continue;
    // An active sub-agent brings its chain of parents along.
    for (let cur: SessionModel | undefined = s; cur && !shown.has(cur.id); cur = cur.parentId ? byId.get(cur.parentId) : undefined) shown.add(cur.id);
  }
  const idleRoots = all
    .filter((s) => !s.parentId && !shown.has(s.id) && now - s.updatedAt <= maxAge)
    .sort((a, b) => b.updatedAt - a.updatedAt);
  const perCount = new Map<string, number>();
  for (const s of idleRoots) {
    const n = perCount.get(s.instanceId) ?? 0;
    if (n >= perInstance) continue;
    perCount.set(s.instanceId, n + 1);
    shown.add(s.id);
  }
  // Children of shown sessions that are recent enough to matter.
  for (const s of all) {
    if (s.parentId && shown.has(s.parentId) && now - s.updatedAt <= maxAge) shown.add(s.id);
  }
  return all
    .filter((s) => shown.has(s.id))
    .sort((a, b) => compareIds(a.instanceId, b.instanceId) || b.updatedAt - a.updatedAt || compareIds(a.id, b.id));
}
