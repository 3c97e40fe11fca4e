/**
 * The one counting rule every view uses (status bar and its tooltip, the view badge, instance
 * rows, CLI table and `status --json`), so that no two numbers on screen disagree:
 *
 * - a count is of top-level sessions: a sub-agent's work is its parent's, so sub-agents are
 *   counted in none (a session whose parent is not in the snapshot is top-level);
 * - a top-level session **needs you** when it or any of its sub-agents waits for the user;
 * - otherwise it is **busy** when it or any of its sub-agents works (busy or retrying);
 * - a stale session (its server stopped answering) is neither: its live state is unknown.
 */
import type { SessionModel } from './model';

export interface SessionCounts {
  /** Top-level sessions. */
  sessions: number;
  busy: number;
  needsYou: number;
}

export interface CountedSession {
  session: SessionModel;
  state: 'needsYou' | 'busy' | 'idle';
}

/** Every top-level session with the state the rule gives it, in snapshot order. */
export function classifyRoots(sessions: readonly SessionModel[]): CountedSession[] {
  const byId = new Map(sessions.map((s) => [s.id, s]));
  const rootOf = (s: SessionModel): SessionModel => {
    const path: SessionModel[] = [];
    let cur = s;
    for (;;) {
      path.push(cur);
      const parent = cur.parentId !== undefined ? byId.get(cur.parentId) : undefined;
      if (!parent) return cur;
      const loop = path.indexOf(parent);
      // Parents that loop (malformed data): the same member of the loop for all of them.
      if (loop >= 0) return path.slice(loop).reduce((a, b) => (b.id < a.id ? b : a));
      cur = parent;
    }
  };
  const state = new Map<string, CountedSession>();
  for (const s of sessions) {
    const root = rootOf(s);
    if (!state.has(root.id)) state.set(root.id, { session: root, state: 'idle' });
  }
  for (const s of sessions) {
    const entry = state.get(rootOf(s).id)!;
    if (s.needsAttention) entry.state = 'needsYou';
    else if (s.status !== 'idle' && entry.state === 'idle') entry.state = 'busy';
  }
  return [...state.values()];
}

export function countSessions(sessions: readonly SessionModel[]): SessionCounts {
  const roots = classifyRoots(sessions);
  return {
    sessions: roots.length,
    busy: roots.filter((r) => r.state === 'busy').length,
    needsYou: roots.filter((r) => r.state === 'needsYou').length,
  };
}
