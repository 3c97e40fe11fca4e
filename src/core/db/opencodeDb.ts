/**
 * Read-only access to one OpenCode data dir's `opencode.db` (SQLite, WAL). Never writes, never
 * creates the database. One connection per data dir with its statements prepared once.
 *
 * Cost: an unchanged DB costs one `stat` and `PRAGMA data_version` (which changes whenever another
 * connection committed). A read of one directory is a scan of `session` on `directory` (no index;
 * only the early columns of other directories' rows are touched) plus a handful of index lookups
 * per session (message by (session_id, time_created), todo by its primary key, part by message_id).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isOpenAssistantMessage } from './inference';
import type { SqliteDatabase, SqliteModule, SqliteStatement } from './sqlite';
import { isBusyError, wouldCreateWalFiles } from './sqlite';
import type { DbMessageRow, DbSessionRecord, DbSessionRow, DbTodoRow, DbToolRow } from './types';
import { describeError } from '../util/describe';

export const DB_FILE_NAME = 'opencode.db';

/**
 * `missing`: no DB file (or not a database yet). `not-running`: a WAL database whose `-wal` file
 * is absent, i.e. no OpenCode has it open (opening it would create `-wal`/`-shm`).
 * `incompatible`: tables or columns this reader needs are missing (another OpenCode version).
 */
export type DbState = 'missing' | 'not-running' | 'incompatible' | 'busy' | 'error' | 'changed' | 'unchanged';

export type ReadResult = { state: 'ok'; records: DbSessionRecord[] } | { state: 'missing' | 'busy' | 'error'; message?: string };

export interface ReadOptions {
  /** Most recently active sessions of the directory to read (their parents come along). */
  maxSessions: number;
}

const REQUIRED_COLUMNS: Record<string, string[]> = {
  session: ['id', 'parent_id', 'directory', 'title', 'cost', 'tokens_input', 'tokens_output', 'tokens_reasoning', 'tokens_cache_read', 'tokens_cache_write', 'agent', 'model', 'time_created', 'time_updated', 'time_archived'],
  message: ['id', 'session_id', 'time_created', 'time_updated', 'data'],
  part: ['id', 'message_id', 'session_id', 'data'],
  todo: ['session_id', 'content', 'status', 'priority', 'position'],
};

// The newest message time comes from the index (session_id, time_created, id): no row reads.
export const DB_QUERIES = {
  dataVersion: 'PRAGMA data_version',
  candidates: `
    SELECT s.id AS id FROM session AS s
    WHERE s.directory = ?
    ORDER BY coalesce((SELECT max(m.time_created) FROM message AS m WHERE m.session_id = s.id), s.time_created) DESC, s.id
    LIMIT ?`,
  session: `
    SELECT id, parent_id, directory, title, cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read,
           tokens_cache_write, agent, model, time_created, time_updated, time_archived
    FROM session WHERE id = ?`,
  lastMessage: `
    SELECT id, time_created, time_updated,
           CASE WHEN json_valid(data) THEN json_extract(data, '$.role') END AS role,
           CASE WHEN json_valid(data) THEN json_extract(data, '$.time.completed') END AS completed,
           CASE WHEN json_valid(data) THEN json_type(data, '$.error') END AS error_type,
           CASE WHEN json_valid(data) THEN json_extract(data, '$.error.name') END AS error_name,
           CASE WHEN json_valid(data) THEN json_extract(data, '$.error.data.message') END AS error_message
    FROM message WHERE session_id = ?
    ORDER BY time_created DESC, id DESC LIMIT 1`,
  runningTools: `
    SELECT id, message_id,
           json_extract(data, '$.tool') AS tool,
           json_extract(data, '$.callID') AS call_id,
           json_extract(data, '$.state.status') AS status,
           json_extract(data, '$.state.input') AS input,
           json_extract(data, '$.state.title') AS title,
           json_extract(data, '$.state.time.start') AS started,
           json_extract(data, '$.state.metadata.sessionId') AS child
    FROM part
    WHERE message_id = ? AND json_valid(data)
      AND json_extract(data, '$.type') = 'tool'
      AND json_extract(data, '$.state.status') IN ('pending', 'running')
    ORDER BY id`,
  todos: 'SELECT content, status, priority FROM todo WHERE session_id = ? ORDER BY position',
} as const;

type SqlName = keyof typeof DB_QUERIES;

export class OpencodeDb {
  readonly path: string;
  private db: SqliteDatabase | undefined;
  private readonly statements = new Map<SqlName, SqliteStatement>();
  private fileId: string | undefined;
  private version: number | undefined;
  /** Why the last poll could not read (for the log). */
  problem: string | undefined;

  constructor(
    readonly dataDir: string,
    private readonly sqlite: SqliteModule,
    private readonly busyTimeoutMs = 100,
  ) {
    this.path = path.join(dataDir, DB_FILE_NAME);
  }

  get isOpen(): boolean {
    return this.db !== undefined;
  }

  /** Opens the DB when needed and tells whether anything was committed since the last poll. */
  poll(): DbState {
    let fileId: string;
    try {
      const st = fs.statSync(this.path);
      if (!st.isFile() || st.size < 100) return this.gone('missing');
      fileId = `${st.dev}:${st.ino}`;
    } catch {
      return this.gone('missing');
    }
    if (this.db && this.fileId !== fileId) this.close(); // replaced (e.g. deleted and recreated)
    if (!this.db) return this.open(fileId);
    try {
      const version = dataVersion(this.statement('dataVersion').get());
      if (version === this.version) return 'unchanged';
      this.version = version;
      return 'changed';
    } catch (error) {
      return this.failed(error);
    }
  }

  /** Sessions of `directory`, newest activity first, in one read transaction (a consistent snapshot). */
  readDirectory(directory: string, options: ReadOptions): ReadResult {
    const db = this.db;
    if (!db) return { state: 'missing' };
    try {
      db.exec('BEGIN');
    } catch (error) {
      const state = this.failed(error);
      return { state: state === 'busy' ? 'busy' : 'error', message: this.problem };
    }
    try {
      return { state: 'ok', records: this.collect(directory, options) };
    } catch (error) {
      const state = this.failed(error);
      return { state: state === 'busy' ? 'busy' : 'error', message: this.problem };
    } finally {
      endTransaction(db);
    }
  }

  close(): void {
    const db = this.db;
    this.db = undefined;
    this.fileId = undefined;
    this.version = undefined;
    this.statements.clear();
    if (!db) return;
    try {
      db.close();
    } catch {
      // already closed
    }
  }

  private collect(directory: string, options: ReadOptions): DbSessionRecord[] {
    const ids = (this.statement('candidates').all(directory, options.maxSessions) as Array<{ id?: unknown }>)
      .map((r) => r.id)
      .filter((id): id is string => typeof id === 'string');
    const records = new Map<string, DbSessionRecord>();
    const queue = [...ids];
    let parents = 0;
    while (queue.length > 0) {
      const id = queue.shift()!;
      if (records.has(id)) continue;
      const row = this.statement('session').get(id) as Record<string, unknown> | undefined;
      if (!row || row.time_archived != null) continue;
      const session = toSession(row);
      const lastMessage = toMessage(this.statement('lastMessage').get(id) as Record<string, unknown> | undefined);
      const tools = isOpenAssistantMessage(lastMessage)
        ? (this.statement('runningTools').all(lastMessage.id) as Array<Record<string, unknown>>).map(toTool).filter(isDefined)
        : [];
      const todos = (this.statement('todos').all(id) as Array<Record<string, unknown>>).map(toTodo);
      records.set(id, { session, ...(lastMessage ? { lastMessage } : {}), tools, todos });
      // An active sub-agent needs its chain of parents, even when they are not among the newest.
      if (session.parentId && !records.has(session.parentId) && parents < options.maxSessions) {
        parents++;
        queue.push(session.parentId);
      }
    }
    return [...records.values()];
  }

  private open(fileId: string): DbState {
    if (wouldCreateWalFiles(this.path)) return 'not-running';
    let db: SqliteDatabase;
    try {
      db = new this.sqlite.DatabaseSync(this.path, { readOnly: true, timeout: this.busyTimeoutMs });
    } catch (error) {
      return this.failed(error, `cannot open ${this.path}`);
    }
    try {
      // Older node:sqlite ignores the `timeout` option; query_only guards against any write.
      db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(this.busyTimeoutMs))}`);
      db.exec('PRAGMA query_only = 1');
      const missing = missingColumns(db);
      if (missing.length > 0) {
        db.close();
        this.problem = `${this.path} lacks ${missing.join(', ')} (unsupported OpenCode version?)`;
        return 'incompatible';
      }
      this.db = db;
      this.fileId = fileId;
      this.version = dataVersion(this.statement('dataVersion').get());
      this.problem = undefined;
      return 'changed';
    } catch (error) {
      this.db = undefined;
      this.statements.clear();
      try {
        db.close();
      } catch {
        // nothing to do
      }
      return this.failed(error, `cannot read ${this.path}`);
    }
  }

  private statement(name: SqlName): SqliteStatement {
    let statement = this.statements.get(name);
    if (!statement) {
      if (!this.db) throw new Error('database is closed');
      statement = this.db.prepare(DB_QUERIES[name]);
      this.statements.set(name, statement);
    }
    return statement;
  }

  private gone(state: 'missing'): DbState {
    this.close();
    return state;
  }

  private failed(error: unknown, context?: string): DbState {
    const text = describeError(error);
    this.problem = context ? `${context}: ${text}` : text;
    if (isBusyError(error)) return 'busy';
    // Anything else (corrupt page, schema change under us): start over with a fresh connection.
    this.close();
    return 'error';
  }
}


function missingColumns(db: SqliteDatabase): string[] {
  const statement = db.prepare('SELECT name FROM pragma_table_info(?)');
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
    const have = new Set((statement.all(table) as Array<{ name?: unknown }>).map((r) => r.name));
    if (have.size === 0) {
      missing.push(`table ${table}`);
      continue;
    }
    for (const column of columns) if (!have.has(column)) missing.push(`${table}.${column}`);
  }
  return missing;
}

function endTransaction(db: SqliteDatabase): void {
  try {
    db.exec('COMMIT');
  } catch {
    try {
      db.exec('ROLLBACK');
    } catch {
      // no transaction left
    }
  }
}

function dataVersion(row: unknown): number {
  const value = (row as { data_version?: unknown } | undefined)?.data_version;
  return typeof value === 'number' ? value : Number(value ?? -1);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'bigint') return Number(value);
  return undefined;
}

function toSession(row: Record<string, unknown>): DbSessionRow {
  const parentId = str(row.parent_id);
  const agent = str(row.agent);
  const modelId = modelIdOf(row.model);
  return {
    id: String(row.id),
    ...(parentId ? { parentId } : {}),
    title: str(row.title) ?? '',
    directory: str(row.directory) ?? '',
    cost: num(row.cost) ?? 0,
    tokens: {
      input: num(row.tokens_input) ?? 0,
      output: num(row.tokens_output) ?? 0,
      reasoning: num(row.tokens_reasoning) ?? 0,
      cacheRead: num(row.tokens_cache_read) ?? 0,
      cacheWrite: num(row.tokens_cache_write) ?? 0,
    },
    ...(agent ? { agent } : {}),
    ...(modelId ? { modelId } : {}),
    createdAt: num(row.time_created) ?? 0,
    updatedAt: num(row.time_updated) ?? 0,
  };
}

/** `session.model` holds JSON: {"id":"…","providerID":"…"}. */
function modelIdOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  try {
    const model = JSON.parse(value) as { id?: unknown; providerID?: unknown; modelID?: unknown };
    const id = str(model.id) ?? str(model.modelID);
    if (!id) return undefined;
    return str(model.providerID) ? `${model.providerID as string}/${id}` : id;
  } catch {
    return undefined;
  }
}

function toMessage(row: Record<string, unknown> | undefined): DbMessageRow | undefined {
  if (!row || typeof row.id !== 'string') return undefined;
  const completedAt = num(row.completed);
  const hasError = row.error_type != null && row.error_type !== 'null';
  const errorMessage = str(row.error_message);
  return {
    id: row.id,
    role: str(row.role) ?? 'unknown',
    createdAt: num(row.time_created) ?? 0,
    updatedAt: num(row.time_updated) ?? 0,
    ...(completedAt !== undefined ? { completedAt } : {}),
    ...(hasError ? { errorName: str(row.error_name) ?? 'error' } : {}),
    ...(hasError && errorMessage ? { errorMessage } : {}),
  };
}

function toTool(row: Record<string, unknown>): DbToolRow | undefined {
  if (typeof row.id !== 'string') return undefined;
  const callID = str(row.call_id);
  const title = str(row.title);
  const startedAt = num(row.started);
  const child = str(row.child);
  const input = parseObject(row.input);
  return {
    partId: row.id,
    messageId: str(row.message_id) ?? '',
    tool: str(row.tool) ?? 'tool',
    ...(callID ? { callID } : {}),
    status: str(row.status) ?? 'running',
    ...(input ? { input } : {}),
    ...(title ? { title } : {}),
    ...(startedAt !== undefined ? { startedAt } : {}),
    ...(child ? { childSessionId: child } : {}),
  };
}

function toTodo(row: Record<string, unknown>): DbTodoRow {
  const priority = str(row.priority);
  return { content: str(row.content) ?? '', status: str(row.status) ?? 'pending', ...(priority ? { priority } : {}) };
}

function parseObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function isDefined<T>(value: T | undefined): value is T {
  return value !== undefined;
}
