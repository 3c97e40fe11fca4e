/**
 * Messages between the Insights panel (extension host) and its webview script. The webview owns
 * what is shown (tab, window, search, traced session) and asks; the host answers from the
 * history worker. No `vscode` and no DOM here: both sides import it.
 */
import type { AuditReport } from '../../core/audit/historyAudit';
import type { Overview, SessionPage, ToolStats, Trace } from '../../core/history/types';

export type InsightsTab = 'overview' | 'tools' | 'sessions' | 'trace' | 'security';
export const INSIGHTS_TABS: readonly InsightsTab[] = ['overview', 'tools', 'sessions', 'trace', 'security'];
export const SINCE_CHOICES = ['24h', '7d', '30d', 'all'] as const;
export type Since = (typeof SINCE_CHOICES)[number];

export type LoadRequest =
  | { view: 'overview'; since: Since }
  | { view: 'tools'; since: Since }
  | { view: 'sessions'; since: Since; search: string; offset: number }
  | { view: 'trace'; sessionId: string }
  | { view: 'security'; since: Since };

/** Webview → host. `seq` pairs an answer with its request (older answers are dropped). */
export type ToHost = { type: 'ready' } | { type: 'load'; seq: number; request: LoadRequest };

export type LoadResult =
  | { view: 'overview'; data: Overview }
  | { view: 'tools'; data: ToolStats[] }
  | { view: 'sessions'; data: SessionPage }
  | { view: 'trace'; data: Trace }
  | { view: 'security'; data: AuditReport };

/** Host → webview. */
export type ToWebview =
  | { type: 'result'; seq: number; result: LoadResult; ms: number }
  | { type: 'error'; seq: number; view: InsightsTab; message: string }
  /** OpenCode's DB changed: reload what is shown, quietly. */
  | { type: 'changed' }
  /** "Show Trace" on a session row. */
  | { type: 'showTrace'; sessionId: string };

export function isSince(value: unknown): value is Since {
  return typeof value === 'string' && (SINCE_CHOICES as readonly string[]).includes(value);
}

export function isTab(value: unknown): value is InsightsTab {
  return typeof value === 'string' && (INSIGHTS_TABS as readonly string[]).includes(value);
}
