/**
 * The history reader's public shapes (what `report`, `trace` and the Insights panel consume).
 * Times are epoch milliseconds; durations milliseconds; cost in USD as OpenCode recorded it.
 */
import type { TokenCounts } from '../model/model';

// The same token shape as the live model's sessions.
export type { TokenCounts };

export type HistoryErrorKind =
  | 'unavailable' // node:sqlite missing (Node < 22.13)
  | 'missing' // no opencode.db
  | 'not-sqlite' // the file is not an SQLite database
  | 'corrupt' // SQLite says the file is damaged
  | 'locked' // busy beyond the busy timeout
  | 'unknown-schema' // tables/columns/JSON this reader was not checked against
  | 'not-found' // no such session
  | 'timeout' // the worker did not answer in time
  | 'error';

/** A failure with a one-line reason; never carries a stack to the user. */
export class HistoryError extends Error {
  constructor(
    readonly kind: HistoryErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'HistoryError';
  }
}

export interface HistoryWindow {
  /** Start of the window (epoch ms), or null for all history. */
  since: number | null;
  /** As the user wrote it, normalized: `24h`, `7d`, `all`. */
  label: string;
}


export interface Totals {
  /** Sessions with at least one message in the window (sub-agent sessions included). */
  sessions: number;
  /** Of which root sessions (no parent). */
  rootSessions: number;
  messages: number;
  /** Assistant messages (the ones that carry tokens and cost). */
  assistantMessages: number;
  tokens: TokenCounts;
  /** cacheRead / (input + cacheRead), 0 when both are 0. */
  cacheHitRatio: number;
  cost: number;
}

export interface UsageRow {
  messages: number;
  tokens: TokenCounts;
  cost: number;
}

export interface DayUsage extends UsageRow {
  /** Local calendar day `YYYY-MM-DD` (the reading process's time zone). */
  day: string;
}

export interface GroupUsage extends UsageRow {
  /** Model `providerID/modelID`, agent name or project worktree. */
  key: string;
  sessions: number;
}

export interface ToolStats {
  tool: string;
  calls: number;
  errors: number;
  /** errors / finished calls (completed + error), 0 when none finished. */
  failureRate: number;
  /** Median of state.time.end − state.time.start over finished calls, null when none. */
  medianMs: number | null;
}

export interface SessionSummary {
  id: string;
  title: string;
  directory: string;
  agent: string | null;
  model: string | null;
  start: number;
  /** Last update OpenCode recorded for the session. */
  end: number;
  /** Direct sub-agent sessions. */
  children: number;
  tokens: TokenCounts;
  cost: number;
}

export interface SessionPage {
  total: number;
  offset: number;
  items: SessionSummary[];
}

export interface TraceNode {
  id: string;
  parentId: string | null;
  depth: number;
  agent: string | null;
  title: string;
  start: number;
  /** Latest message completion/update, or the session's last update. */
  end: number;
  durationMs: number;
  messages: number;
  tokens: TokenCounts;
  cost: number;
  toolCalls: number;
  toolErrors: number;
  /** Tool calls by state.status (completed, error, running, pending). */
  toolStates: Record<string, number>;
  /** Distinct `state.input.filePath` of the node's tool calls (bounded, see MAX_FILES_PER_NODE). */
  files: string[];
  children: TraceNode[];
}

export interface Trace {
  root: TraceNode;
  /** Nodes in the tree (bounded by MAX_TRACE_NODES). */
  nodes: number;
  truncated: boolean;
}

export interface Overview {
  window: HistoryWindow;
  totals: Totals;
  byDay: DayUsage[];
  byModel: GroupUsage[];
  byAgent: GroupUsage[];
  byProject: GroupUsage[];
  tools: ToolStats[];
}

export interface SessionQuery {
  window: HistoryWindow;
  /** Case-insensitive substring of the title or directory. */
  search?: string;
  offset?: number;
  /** Capped at MAX_PAGE. */
  limit?: number;
}

/** One tool call as the audit reads it (HistoryDb.toolCalls). */
export interface ToolCallRow {
  partId: string;
  sessionId: string;
  parentId: string | null;
  /** The session's folder (its project). */
  directory: string;
  title: string;
  tool: string;
  /** state.status: pending, running, completed, error. */
  status: string;
  /** state.input, when it is a JSON object. */
  input: Record<string, unknown> | undefined;
  /** state.time.start, else the part's creation (epoch ms). */
  time: number;
}
