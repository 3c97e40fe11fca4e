/**
 * Read-only queries over OpenCode's `opencode.db` for the history views (report, trace, Insights).
 * Never writes: opened `readOnly` with a busy timeout; a WAL database that no OpenCode has open
 * (no `-wal` file) is opened `immutable` so that reading it creates no `-wal`/`-shm` beside it.
 * Every failure is a HistoryError with a one-line reason. Checked against CHECKED_OPENCODE_VERSIONS.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { dataDirFromEnv } from '../discovery/classify';
import { DB_FILE_NAME } from '../db/opencodeDb';
import type { SqliteDatabase, SqliteModule, SqlValue } from '../db/sqlite';
import { isBusyError, loadNodeSqlite, wouldCreateWalFiles } from '../db/sqlite';
import { CHECKED_OPENCODE_VERSIONS, HISTORY_SQL, REQUIRED_COLUMNS } from './queries';
import { HistoryError } from './types';
import type {
  DayUsage,
  GroupUsage,
  HistoryWindow,
  Overview,
  SessionPage,
  SessionQuery,
  SessionSummary,
  TokenCounts,
  ToolCallRow,
  ToolStats,
  Totals,
  Trace,
  TraceNode,
} from './types';

export const MAX_GROUPS = 50;
export const MAX_TOOLS = 50;
export const MAX_PAGE = 200;
export const MAX_TRACE_NODES = 500;
export const MAX_FILES_PER_NODE = 50;
export const DEFAULT_BUSY_TIMEOUT_MS = 2000;

type Row = Record<string, unknown>;

/** `$XDG_DATA_HOME/opencode/opencode.db` or `~/.local/share/opencode/opencode.db`. */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = dataDirFromEnv({ HOME: env.HOME, XDG_DATA_HOME: env.XDG_DATA_HOME }, path.join);
  return dir ? path.join(dir, DB_FILE_NAME) : undefined;
}

export interface OpenOptions {
  busyTimeoutMs?: number;
  sqlite?: SqliteModule;
}

export class HistoryDb {
  private constructor(
    private readonly db: SqliteDatabase,
    readonly file: string,
    /** The newest OpenCode migration id in the DB (for messages), if any. */
    readonly migration: string | undefined,
  ) {}

  /** Opens and checks the schema; throws HistoryError. */
  static open(file: string, options: OpenOptions = {}): HistoryDb {
    const sqlite = options.sqlite ?? loadSqlite();
    checkFile(file);
    let db: SqliteDatabase;
    try {
      const target = wouldCreateWalFiles(file) ? `${pathToFileURL(file).href}?immutable=1` : file;
      // node:sqlite accepts a file: URL object; the type here only says string.
      const where = target.startsWith('file:') ? (new URL(target) as unknown as string) : target;
      db = new sqlite.DatabaseSync(where, { readOnly: true, timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS });
    } catch (error) {
      throw toHistoryError(error, file);
    }
    try {
      const migration = checkSchema(db);
      return new HistoryDb(db, file, migration);
    } catch (error) {
      try {
        db.close();
      } catch {
        // closing a half-open handle
      }
      throw toHistoryError(error, file);
    }
  }

  close(): void {
    try {
      this.db.close();
    } catch {
      // already closed
    }
  }

  totals(window: HistoryWindow): Totals {
    const r = this.one(HISTORY_SQL.totals, since(window));
    const tokens = tokensOf(r);
    return {
      sessions: num(r.sessions),
      rootSessions: num(r.roots),
      messages: num(r.all_messages),
      assistantMessages: num(r.assistant),
      tokens,
      cacheHitRatio: cacheHit(tokens),
      cost: num(r.cost),
    };
  }

  /** Per local day; `utcOffsetMinutes` defaults to this process's offset (now). */
  byDay(window: HistoryWindow, utcOffsetMinutes = -new Date().getTimezoneOffset()): DayUsage[] {
    return this.all(HISTORY_SQL.byDay, since(window), utcOffsetMinutes).map((r) => ({ day: String(r.key), ...usageOf(r) }));
  }

  byModel(window: HistoryWindow): GroupUsage[] {
    return this.groups(HISTORY_SQL.byModel, window);
  }

  byAgent(window: HistoryWindow): GroupUsage[] {
    return this.groups(HISTORY_SQL.byAgent, window);
  }

  byProject(window: HistoryWindow): GroupUsage[] {
    return this.groups(HISTORY_SQL.byProject, window);
  }

  tools(window: HistoryWindow): ToolStats[] {
    return this.all(window.since === null ? HISTORY_SQL.toolsAll : HISTORY_SQL.tools, since(window), MAX_TOOLS).map((r) => {
      const errors = num(r.errors);
      const finished = num(r.finished);
      return {
        tool: String(r.tool),
        calls: num(r.calls),
        errors,
        failureRate: finished > 0 ? errors / finished : 0,
        medianMs: r.median === null || r.median === undefined ? null : Math.round(num(r.median)),
      };
    });
  }

  /**
   * Every view of the Overview in one read transaction (one consistent snapshot). `withTools:
   * false` leaves `tools` empty (the slowest view on long windows; ask `tools()` separately).
   */
  overview(window: HistoryWindow, options: { withTools?: boolean; utcOffsetMinutes?: number } = {}): Overview {
    return this.snapshot(() => ({
      window,
      totals: this.totals(window),
      byDay: this.byDay(window, options.utcOffsetMinutes),
      byModel: this.byModel(window),
      byAgent: this.byAgent(window),
      byProject: this.byProject(window),
      tools: options.withTools === false ? [] : this.tools(window),
    }));
  }

  /** Root sessions active in the window, newest first, paged (limit ≤ MAX_PAGE). */
  sessions(query: SessionQuery): SessionPage {
    const needle = query.search?.trim().toLowerCase() || null;
    const limit = Math.max(1, Math.min(MAX_PAGE, Math.floor(query.limit ?? 50)));
    const offset = Math.max(0, Math.floor(query.offset ?? 0));
    const from = since(query.window);
    return this.snapshot(() => {
      const total = num(this.one(HISTORY_SQL.sessionCount, from, needle, needle, needle).n);
      const items = this.all(HISTORY_SQL.sessionPage, from, needle, needle, needle, limit, offset).map(toSummary);
      return { total, offset, items };
    });
  }

  /** The delegation tree below `sessionId` (children via parent_id, recursively). */
  trace(sessionId: string): Trace {
    return this.snapshot(() => {
      const rows = this.all(HISTORY_SQL.traceNodes, sessionId, MAX_TRACE_NODES + 1);
      if (rows.length === 0) throw new HistoryError('not-found', `no session ${JSON.stringify(sessionId)} in ${this.file}`);
      const truncated = rows.length > MAX_TRACE_NODES;
      const nodes = new Map<string, TraceNode>();
      for (const r of rows.slice(0, MAX_TRACE_NODES)) {
        const node = this.traceNode(r);
        nodes.set(node.id, node);
        const parent = node.parentId === null ? undefined : nodes.get(node.parentId);
        if (parent && node.id !== sessionId) parent.children.push(node);
      }
      const root = nodes.get(sessionId)!;
      return { root, nodes: nodes.size, truncated };
    });
  }

  /** Tool calls with a command, file or URL in the window, oldest first (for the audit). */
  toolCalls(window: HistoryWindow, limit: number): { calls: ToolCallRow[]; parents: Map<string, string> } {
    return this.snapshot(() => {
      const calls = this.all(HISTORY_SQL.auditCalls, since(window), limit).map((r) => ({
        partId: String(r.id),
        sessionId: String(r.session_id),
        parentId: typeof r.parent_id === 'string' ? r.parent_id : null,
        directory: typeof r.directory === 'string' ? r.directory : '',
        title: String(r.title ?? ''),
        tool: String(r.tool ?? ''),
        status: typeof r.status === 'string' ? r.status : 'unknown',
        input: parseObject(r.input),
        time: num(r.t),
      }));
      const parents = new Map(this.all(HISTORY_SQL.parents).map((r) => [String(r.id), String(r.parent_id)] as const));
      return { calls, parents };
    });
  }

  private traceNode(r: Row): TraceNode {
    const id = String(r.id);
    const m = this.one(HISTORY_SQL.traceMessages, id);
    const states: Record<string, number> = {};
    let calls = 0;
    for (const t of this.all(HISTORY_SQL.traceTools, id)) {
      const n = num(t.n);
      states[typeof t.status === 'string' ? t.status : 'unknown'] = n;
      calls += n;
    }
    const files = this.all(HISTORY_SQL.traceFiles, id, MAX_FILES_PER_NODE).map((f) => String(f.file));
    const start = num(r.time_created);
    const end = Math.max(num(r.time_updated), num(m.last));
    return {
      id,
      parentId: typeof r.parent_id === 'string' ? r.parent_id : null,
      depth: num(r.depth),
      agent: typeof r.agent === 'string' ? r.agent : null,
      title: String(r.title ?? ''),
      start,
      end,
      durationMs: Math.max(0, end - start),
      messages: num(m.messages),
      tokens: tokensOf(m),
      cost: num(m.cost),
      toolCalls: calls,
      toolErrors: states.error ?? 0,
      toolStates: states,
      files,
      children: [],
    };
  }

  private groups(sql: string, window: HistoryWindow): GroupUsage[] {
    return this.all(sql, since(window), MAX_GROUPS).map((r) => ({ key: String(r.key), sessions: num(r.sessions), ...usageOf(r) }));
  }

  private snapshot<T>(read: () => T): T {
    this.run(() => this.db.exec('BEGIN'));
    try {
      return read();
    } finally {
      try {
        this.db.exec('COMMIT');
      } catch {
        // nothing to end
      }
    }
  }

  private one(sql: string, ...params: SqlValue[]): Row {
    return (this.guarded(sql, (text) => this.db.prepare(text).get(...params)) as Row | undefined) ?? {};
  }

  private all(sql: string, ...params: SqlValue[]): Row[] {
    return this.guarded(sql, (text) => this.db.prepare(text).all(...params)) as Row[];
  }

  /**
   * Runs the query without its `json_valid` guards first (parsing each row once instead of twice:
   * ~30 % faster on large windows); only when a row's JSON is malformed does it rerun with the
   * guards, which skip such rows. Same answer either way.
   */
  private guarded<T>(sql: string, query: (text: string) => T): T {
    const fast = withoutJsonGuards(sql);
    if (fast === sql) return this.run(() => query(sql));
    try {
      return query(fast);
    } catch (error) {
      if (!/malformed JSON/i.test(String((error as Error)?.message))) throw toHistoryError(error, this.file);
      return this.run(() => query(sql));
    }
  }

  private run<T>(fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toHistoryError(error, this.file);
    }
  }
}

export function withoutJsonGuards(sql: string): string {
  return sql.replace(/json_valid\((?:\w+\.)?data\) AND | AND json_valid\((?:\w+\.)?data\)/g, '');
}

function loadSqlite(): SqliteModule {
  const loaded = loadNodeSqlite();
  if (!loaded.sqlite) throw new HistoryError('unavailable', loaded.reason);
  return loaded.sqlite;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

function checkFile(file: string): void {
  let fd: number | undefined;
  try {
    const st = fs.statSync(file);
    if (!st.isFile()) throw new HistoryError('missing', `${file} is not a file`);
    if (st.size === 0) throw new HistoryError('missing', `${file} is empty (OpenCode has not created its database yet)`);
    fd = fs.openSync(file, 'r');
    const header = Buffer.alloc(16);
    const n = fs.readSync(fd, header, 0, 16, 0);
    if (n < 16 || header.toString('latin1') !== SQLITE_MAGIC) throw new HistoryError('not-sqlite', `${file} is not an SQLite database`);
  } catch (error) {
    if (error instanceof HistoryError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new HistoryError('missing', `no OpenCode database at ${file}`);
    throw new HistoryError('error', `cannot read ${file}: ${code ?? (error as Error).message}`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Returns the newest migration id; throws `unknown-schema` when something the queries read is missing. */
function checkSchema(db: SqliteDatabase): string | undefined {
  const missing: string[] = [];
  for (const [table, columns] of Object.entries(REQUIRED_COLUMNS)) {
    const have = new Set((db.prepare(`PRAGMA table_info(${table})`).all() as Row[]).map((c) => String(c.name)));
    if (have.size === 0) {
      missing.push(`table ${table}`);
      continue;
    }
    for (const c of columns) if (!have.has(c)) missing.push(`${table}.${c}`);
  }
  const checked = `checked against OpenCode ${CHECKED_OPENCODE_VERSIONS.join(', ')}`;
  if (missing.length > 0) throw new HistoryError('unknown-schema', `unknown schema: missing ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''} (${checked})`);
  const probe = db.prepare(HISTORY_SQL.probeAssistant).get() as Row | undefined;
  if (probe && (probe.tokens !== 'object' || (probe.cost !== 'real' && probe.cost !== 'integer')))
    throw new HistoryError('unknown-schema', `unknown schema: assistant messages carry no tokens/cost object (${checked})`);
  try {
    const m = db.prepare(HISTORY_SQL.latestMigration).get() as Row | undefined;
    return typeof m?.id === 'string' ? m.id : undefined;
  } catch {
    return undefined;
  }
}

/** SQLite primary result codes: 5 BUSY, 6 LOCKED, 11 CORRUPT, 26 NOTADB. */
export function toHistoryError(error: unknown, file: string): HistoryError {
  if (error instanceof HistoryError) return error;
  const message = oneLine(error instanceof Error ? error.message : String(error));
  if (isBusyError(error)) return new HistoryError('locked', `${file} is locked by another process (${message})`);
  const code = (error as { errcode?: unknown }).errcode;
  const primary = typeof code === 'number' ? code & 0xff : undefined;
  if (primary === 11 || /malformed|corrupt/i.test(message)) return new HistoryError('corrupt', `${file} is damaged (${message})`);
  if (primary === 26 || /not a database/i.test(message)) return new HistoryError('not-sqlite', `${file} is not an SQLite database`);
  if (primary === 14 || /unable to open/i.test(message)) return new HistoryError('missing', `cannot open ${file} (${message})`);
  return new HistoryError('error', `${file}: ${message}`);
}

function oneLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function since(window: HistoryWindow): number {
  return window.since ?? 0;
}

function num(value: unknown): number {
  if (typeof value === 'number') return Number.isFinite(value) ? value : 0;
  if (typeof value === 'bigint') return Number(value);
  return 0;
}

function tokensOf(r: Row): TokenCounts {
  return { input: num(r.ti), output: num(r.tout), reasoning: num(r.tr), cacheRead: num(r.tcr), cacheWrite: num(r.tcw) };
}

function usageOf(r: Row): { messages: number; tokens: TokenCounts; cost: number } {
  return { messages: num(r.messages), tokens: tokensOf(r), cost: num(r.cost) };
}

export function cacheHit(t: TokenCounts): number {
  const denominator = t.input + t.cacheRead;
  return denominator > 0 ? t.cacheRead / denominator : 0;
}

function parseObject(value: unknown): Record<string, unknown> | undefined {
  if (typeof value !== 'string') return undefined;
  try {
    const v = JSON.parse(value) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function toSummary(r: Row): SessionSummary {
  return {
    id: String(r.id),
    title: String(r.title ?? ''),
    directory: String(r.directory ?? ''),
    agent: typeof r.agent === 'string' ? r.agent : null,
    model: modelName(r.model),
    start: num(r.time_created),
    end: num(r.time_updated),
    children: num(r.children),
    tokens: { input: num(r.tokens_input), output: num(r.tokens_output), reasoning: num(r.tokens_reasoning), cacheRead: num(r.tokens_cache_read), cacheWrite: num(r.tokens_cache_write) },
    cost: num(r.cost),
  };
}

/** session.model is JSON `{id, providerID, variant}` in 1.18.33. */
function modelName(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const m = JSON.parse(value) as { id?: unknown; providerID?: unknown };
    if (typeof m.id === 'string') return typeof m.providerID === 'string' ? `${m.providerID}/${m.id}` : m.id;
  } catch {
    // not JSON: show as is
  }
  return value;
}
