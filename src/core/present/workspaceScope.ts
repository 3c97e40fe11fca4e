/**
 * "This workspace / All": the part of a snapshot that belongs to a window's folders. A session
 * belongs when its folder is one of them or inside one; an instance when it runs there or holds
 * such a session. Sub-agents follow their parent. Pure, so the rule is tested without VS Code.
 */
import * as path from 'node:path';
import type { MonitorSnapshot } from '../model/model';

export type SessionScope = 'all' | 'workspace';

/** Whether `dir` is `folder` or inside it (string rules only: no file system access). */
export function isInside(dir: string | undefined, folder: string, sep: string = path.sep): boolean {
  if (!dir) return false;
  const norm = (p: string) => (p.length > 1 && p.endsWith(sep) ? p.slice(0, -1) : p);
  const d = norm(dir);
  const f = norm(folder);
  return d === f || d.startsWith(f.endsWith(sep) ? f : f + sep);
}

export function scopeSnapshot(snapshot: MonitorSnapshot, folders: readonly string[]): MonitorSnapshot {
  const inScope = (dir: string | undefined) => folders.some((f) => isInside(dir, f));
  const byId = new Map(snapshot.sessions.map((s) => [s.id, s]));
  const rootOf = (id: string): string => {
    let current = byId.get(id);
    for (let hops = 0; current?.parentId && byId.has(current.parentId) && hops < 64; hops++) current = byId.get(current.parentId);
    return current?.id ?? id;
  };
  const keptRoots = new Set(snapshot.sessions.filter((s) => inScope(s.directory)).map((s) => rootOf(s.id)));
  const sessions = snapshot.sessions.filter((s) => keptRoots.has(rootOf(s.id)));
  const owners = new Set(sessions.map((s) => s.instanceId));
  const instances = snapshot.instances.filter((i) => owners.has(i.id) || inScope(i.cwd));
  return { ...snapshot, instances, sessions };
}
