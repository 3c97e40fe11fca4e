/**
 * Finding a session from what a person types: its id, a unique prefix of its id, or words of its
 * label, title or folder. Shared by the CLI (`label`, `focus`) and the local API.
 */
import type { SessionModel } from '../model/model';
import { basename } from './format';

export type SessionMatch =
  | { kind: 'found'; session: SessionModel }
  | { kind: 'ambiguous'; candidates: SessionModel[] }
  | { kind: 'none' };

/** By id or unique id prefix only (what `label <session>` accepts). */
export function findSessionById(sessions: readonly SessionModel[], idOrPrefix: string): SessionMatch {
  const wanted = idOrPrefix.trim();
  if (!wanted) return { kind: 'none' };
  const exact = sessions.find((s) => s.id === wanted);
  if (exact) return { kind: 'found', session: exact };
  const prefixed = sessions.filter((s) => s.id.startsWith(wanted));
  if (prefixed.length === 1) return { kind: 'found', session: prefixed[0]! };
  return prefixed.length > 1 ? { kind: 'ambiguous', candidates: prefixed } : { kind: 'none' };
}

/**
 * By id, unique id prefix, or a fuzzy query over label, title and folder: the best-scoring
 * session when it is the only one with that score, else the tied candidates (best first).
 */
export function findSession(sessions: readonly SessionModel[], query: string): SessionMatch {
  const byId = findSessionById(sessions, query);
  if (byId.kind !== 'none') return byId;
  const q = normalize(query);
  if (!q) return { kind: 'none' };
  const scored = sessions
    .map((session) => ({ session, score: scoreSession(session, q) }))
    .filter((x) => x.score > 0)
    .sort((a, b) => b.score - a.score || Number(b.session.needsAttention) - Number(a.session.needsAttention) || b.session.updatedAt - a.session.updatedAt);
  if (scored.length === 0) return { kind: 'none' };
  const best = scored.filter((x) => x.score === scored[0]!.score);
  return best.length === 1 ? { kind: 'found', session: best[0]!.session } : { kind: 'ambiguous', candidates: best.map((x) => x.session) };
}

/** Higher is better; 0 is no match. Label beats title beats folder; whole beats part beats letters in order. */
export function scoreSession(session: SessionModel, q: string): number {
  const fields: Array<[string | undefined, number]> = [
    [session.label, 3],
    [session.title, 2],
    [basename(session.directory), 1],
  ];
  let best = 0;
  for (const [raw, weight] of fields) {
    const text = raw ? normalize(raw) : '';
    if (!text) continue;
    let s = 0;
    if (text === q) s = 100;
    else if (text.startsWith(q)) s = 80;
    else if (wordStarts(text, q)) s = 70;
    else if (text.includes(q)) s = 60;
    else if (isSubsequence(q, text)) s = 20;
    best = Math.max(best, s * weight);
  }
  if (best === 0 && session.directory && normalize(session.directory).includes(q)) best = 30;
  return best;
}

function normalize(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}

function wordStarts(text: string, q: string): boolean {
  return text.split(/[\s\-_/.:]+/).some((w) => w.startsWith(q));
}

function isSubsequence(q: string, text: string): boolean {
  let i = 0;
  for (const c of text) if (c === q[i]) i++;
  return q.length > 1 && i === q.length;
}
