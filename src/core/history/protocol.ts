/** Messages between HistoryClient (any host) and historyWorker (a worker thread). */
import type { AuditReport } from '../audit/historyAudit';
import type { RiskLevel } from '../audit/levels';
import type { HistoryErrorKind, HistoryWindow, Overview, SessionPage, SessionQuery, ToolStats, Trace } from './types';

export interface HistoryRequests {
  /** `withTools: false` leaves `tools` empty: the slow view (see README) can then come separately. */
  overview: { args: { window: HistoryWindow; utcOffsetMinutes?: number; withTools?: boolean }; result: Overview };
  tools: { args: { window: HistoryWindow }; result: ToolStats[] };
  sessions: { args: SessionQuery; result: SessionPage };
  trace: { args: { sessionId: string }; result: Trace };
  /** The security audit of the window's tool calls (core/audit/historyAudit). */
  audit: { args: { window: HistoryWindow; minLevel?: RiskLevel; home?: string }; result: AuditReport };
}
export type HistoryOp = keyof HistoryRequests;

export interface WorkerRequest<K extends HistoryOp = HistoryOp> {
  id: number;
  file: string;
  op: K;
  args: HistoryRequests[K]['args'];
}

export type WorkerResponse =
  | { id: number; ok: true; result: unknown; ms: number; cached?: boolean }
  | { id: number; ok: false; kind: HistoryErrorKind; message: string };
