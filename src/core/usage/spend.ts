/**
 * Local spend from OpenCode's own numbers, without any provider API: cost and tokens per model
 * for today and the last 7 days (calendar days, local time, today included).
 *
 * Limits: it covers the sessions given (the monitor shows recent ones per instance, not every
 * session ever run), and a session counts whole on the day it was last updated. Subscription
 * sessions record cost 0; their tokens still count.
 */
import type { SessionModel, TokenCounts } from '../model/model';
import { spendText } from './format';
import { compareIds } from '../util/compareIds';

export interface ModelSpend {
  /** The session's model id, `unknown` when OpenCode did not say. */
  modelId: string;
  sessions: number;
  /** Dollars as OpenCode recorded them (0 for subscription sessions). */
  cost: number;
  tokens: TokenCounts;
  /** input + output + reasoning + cache read + cache write. */
  totalTokens: number;
}

export interface SpendTotals {
  sessions: number;
  cost: number;
  tokens: TokenCounts;
  totalTokens: number;
}

export interface SpendSummary {
  /** Most expensive first (then most tokens). */
  today: ModelSpend[];
  last7Days: ModelSpend[];
  totals: { today: SpendTotals; last7Days: SpendTotals };
}

type SpendInput = Pick<SessionModel, 'id' | 'cost' | 'tokens' | 'modelId' | 'updatedAt'>;

export function summarizeSpend(sessions: readonly SpendInput[], now: number): SpendSummary {
  const todayStart = startOfLocalDay(now, 0);
  const weekStart = startOfLocalDay(now, 6);
  const today = new Map<string, ModelSpend>();
  const week = new Map<string, ModelSpend>();
  const seen = new Set<string>();
  for (const s of sessions) {
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    const cost = finite(s.cost);
    const total = totalTokens(s.tokens);
    if (cost === 0 && total === 0) continue;
    if (!(s.updatedAt >= weekStart)) continue;
    add(week, s, cost);
    if (s.updatedAt >= todayStart) add(today, s, cost);
  }
  const todayList = sorted(today);
  const weekList = sorted(week);
  return { today: todayList, last7Days: weekList, totals: { today: totalsOf(todayList), last7Days: totalsOf(weekList) } };
}

/** For a session tooltip: "$0.42 · 120k tokens", or "120k tokens" for subscription sessions. */
export function sessionSpendText(session: Pick<SessionModel, 'cost' | 'tokens'>): string {
  return spendText(finite(session.cost), totalTokens(session.tokens));
}

export function totalTokens(t: TokenCounts | undefined): number {
  if (!t) return 0;
  return finite(t.input) + finite(t.output) + finite(t.reasoning) + finite(t.cacheRead) + finite(t.cacheWrite);
}

/** Local midnight `daysBack` days before the day of `now` (DST-safe: calendar arithmetic). */
export function startOfLocalDay(now: number, daysBack = 0): number {
  const d = new Date(now);
  d.setHours(0, 0, 0, 0);
  d.setDate(d.getDate() - daysBack);
  return d.getTime();
}

function add(map: Map<string, ModelSpend>, s: SpendInput, cost: number): void {
  const modelId = s.modelId?.trim() || 'unknown';
  let entry = map.get(modelId);
  if (!entry) {
    entry = { modelId, sessions: 0, cost: 0, tokens: { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }, totalTokens: 0 };
    map.set(modelId, entry);
  }
  entry.sessions++;
  entry.cost += cost;
  entry.tokens.input += finite(s.tokens?.input);
  entry.tokens.output += finite(s.tokens?.output);
  entry.tokens.reasoning += finite(s.tokens?.reasoning);
  entry.tokens.cacheRead += finite(s.tokens?.cacheRead);
  entry.tokens.cacheWrite += finite(s.tokens?.cacheWrite);
  entry.totalTokens += totalTokens(s.tokens);
}

function sorted(map: Map<string, ModelSpend>): ModelSpend[] {
  return [...map.values()].sort((a, b) => b.cost - a.cost || b.totalTokens - a.totalTokens || compareIds(a.modelId, b.modelId));
}

function totalsOf(list: ModelSpend[]): SpendTotals {
  const out: SpendTotals = { sessions: 0, cost: 0, tokens: { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 }, totalTokens: 0 };
  for (const m of list) {
    out.sessions += m.sessions;
    out.cost += m.cost;
    out.tokens.input += m.tokens.input;
    out.tokens.output += m.tokens.output;
    out.tokens.reasoning += m.tokens.reasoning;
    out.tokens.cacheRead += m.tokens.cacheRead;
    out.tokens.cacheWrite += m.tokens.cacheWrite;
    out.totalTokens += m.totalTokens;
  }
  return out;
}

function finite(n: number | undefined): number {
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : 0;
}
