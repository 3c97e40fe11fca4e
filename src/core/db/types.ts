/** What the reader takes out of OpenCode's `opencode.db` for one session (plain values, no wire types). */
import type { TokenCounts } from '../model/model';

export interface DbSessionRow {
  id: string;
  parentId?: string;
  title: string;
  directory: string;
  cost: number;
  tokens: TokenCounts;
  agent?: string;
  /** `<providerID>/<model id>` */
  modelId?: string;
  createdAt: number;
  updatedAt: number;
}

/** The newest message of a session (by `time_created`, then id). */
export interface DbMessageRow {
  id: string;
  role: string;
  createdAt: number;
  updatedAt: number;
  /** `data.time.completed`; absent while the assistant is still working. */
  completedAt?: number;
  /** `data.error.name`, e.g. `APIError`, `MessageAbortedError`. */
  errorName?: string;
  errorMessage?: string;
}

/** A `part` row with `data.type = 'tool'` and `state.status` pending or running. */
export interface DbToolRow {
  partId: string;
  messageId: string;
  tool: string;
  callID?: string;
  status: string;
  input?: Record<string, unknown>;
  title?: string;
  startedAt?: number;
  /** `state.metadata.sessionId` of a running `task`: the sub-agent's session. */
  childSessionId?: string;
}

// A type alias (not an interface) so it fits summarizeTodos' loose wire type.
export type DbTodoRow = {
  content: string;
  status: string;
  priority?: string;
};

export interface DbSessionRecord {
  session: DbSessionRow;
  lastMessage?: DbMessageRow;
  /** Only read while the latest message is an open assistant message. */
  tools: DbToolRow[];
  todos: DbTodoRow[];
}
