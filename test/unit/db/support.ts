/**
 * Builds OpenCode-shaped databases for tests: the real 1.18.33 schema (test/fixtures/db) and rows
 * written the way OpenCode writes them (JSON `data` columns as captured from a real TUI).
 * Needs node:sqlite (Node ≥ 22.13); `sqliteForTests()` says why not otherwise.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNodeSqlite, type SqliteDatabase, type SqliteModule } from '../../../src/core/db/sqlite';

export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const SCHEMA_SQL = path.join(REPO_ROOT, 'test/fixtures/db/opencode-1.18.33.schema.sql');

export function sqliteForTests(): { sqlite?: SqliteModule; reason?: string } {
  const loaded = loadNodeSqlite();
  return loaded.sqlite ? { sqlite: loaded.sqlite } : { reason: `${loaded.reason} (run with Node ≥ 22.13, e.g. .cache/node24)` };
}

export function tempDir(prefix = 'ocm-db-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface SessionInput {
  id: string;
  directory: string;
  title?: string;
  parentId?: string;
  created: number;
  updated?: number;
  cost?: number;
  tokens?: { input?: number; output?: number; reasoning?: number; cacheRead?: number; cacheWrite?: number };
  agent?: string;
  model?: { id: string; providerID: string };
  archived?: number;
}

export interface MessageInput {
  id: string;
  sessionId: string;
  role: 'user' | 'assistant';
  created: number;
  completed?: number;
  error?: { name: string; message?: string };
}

export interface ToolPartInput {
  id: string;
  messageId: string;
  sessionId: string;
  tool: string;
  status: 'pending' | 'running' | 'completed' | 'error';
  input?: Record<string, unknown>;
  start?: number;
  end?: number;
  title?: string;
  metadata?: Record<string, unknown>;
  callID?: string;
}

/** A writable connection standing in for OpenCode (the code under test only reads). */
export class DbWriter {
  readonly path: string;
  readonly db: SqliteDatabase;

  constructor(
    sqlite: SqliteModule,
    readonly dataDir: string,
    options: { schema?: string; wal?: boolean } = {},
  ) {
    fs.mkdirSync(dataDir, { recursive: true });
    this.path = path.join(dataDir, 'opencode.db');
    this.db = new sqlite.DatabaseSync(this.path);
    this.db.exec(`PRAGMA journal_mode = ${options.wal === false ? 'DELETE' : 'WAL'}`);
    this.db.exec(options.schema ?? fs.readFileSync(SCHEMA_SQL, 'utf8'));
    this.db
      .prepare("INSERT OR IGNORE INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES ('global', '/', 'git', 0, 0, '[]')")
      .all();
  }

  session(s: SessionInput): this {
    this.db
      .prepare(
        `INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, cost, tokens_input, tokens_output,
           tokens_reasoning, tokens_cache_read, tokens_cache_write, agent, model, time_created, time_updated, time_archived)
         VALUES (?, 'global', ?, 'slug', ?, ?, '1.18.33', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .all(
        s.id,
        s.parentId ?? null,
        s.directory,
        s.title ?? `title of ${s.id}`,
        s.cost ?? 0,
        s.tokens?.input ?? 0,
        s.tokens?.output ?? 0,
        s.tokens?.reasoning ?? 0,
        s.tokens?.cacheRead ?? 0,
        s.tokens?.cacheWrite ?? 0,
        s.agent ?? 'build',
        JSON.stringify(s.model ?? { id: 'fake-model', providerID: 'lab' }),
        s.created,
        s.updated ?? s.created,
        s.archived ?? null,
      );
    return this;
  }

  message(m: MessageInput): this {
    const data: Record<string, unknown> =
      m.role === 'user'
        ? { role: 'user', time: { created: m.created }, agent: 'build', model: { providerID: 'lab', modelID: 'fake-model' } }
        : {
            parentID: 'msg_parent',
            role: 'assistant',
            mode: 'build',
            agent: 'build',
            cost: 0,
            tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } },
            modelID: 'fake-model',
            providerID: 'lab',
            time: { created: m.created, ...(m.completed !== undefined ? { completed: m.completed } : {}) },
            ...(m.error ? { error: { name: m.error.name, data: { message: m.error.message ?? '' } } } : {}),
          };
    this.db
      .prepare('INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)')
      .all(m.id, m.sessionId, m.created, m.completed ?? m.created, JSON.stringify(data));
    return this;
  }

  completeMessage(id: string, at: number, error?: { name: string; message?: string }): this {
    const row = this.db.prepare('SELECT data FROM message WHERE id = ?').get(id) as { data: string };
    const data = JSON.parse(row.data) as { time: Record<string, number>; error?: unknown; finish?: string };
    data.time.completed = at;
    data.finish = 'stop';
    if (error) data.error = { name: error.name, data: { message: error.message ?? '' } };
    this.db.prepare('UPDATE message SET data = ?, time_updated = ? WHERE id = ?').all(JSON.stringify(data), at, id);
    return this;
  }

  text(id: string, messageId: string, sessionId: string, text: string, at = 0): this {
    this.db
      .prepare('INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)')
      .all(id, messageId, sessionId, at, at, JSON.stringify({ type: 'text', text }));
    return this;
  }

  tool(p: ToolPartInput): this {
    const state: Record<string, unknown> = { status: p.status, input: p.input ?? {} };
    if (p.status === 'running' || p.status === 'completed') state.time = { start: p.start ?? 0, ...(p.end ? { end: p.end } : {}) };
    if (p.title) state.title = p.title;
    if (p.metadata) state.metadata = p.metadata;
    if (p.status === 'completed') state.output = '(no output)';
    const data = { type: 'tool', tool: p.tool, callID: p.callID ?? `call_${p.id}`, state };
    this.db
      .prepare(
        `INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET data = excluded.data, time_updated = excluded.time_updated`,
      )
      .all(p.id, p.messageId, p.sessionId, p.start ?? 0, p.end ?? p.start ?? 0, JSON.stringify(data));
    return this;
  }

  todos(sessionId: string, items: Array<{ content: string; status: string; priority?: string }>): this {
    this.db.prepare('DELETE FROM todo WHERE session_id = ?').all(sessionId);
    items.forEach((t, i) => {
      this.db
        .prepare('INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?, ?, ?, ?, ?, 0, 0)')
        .all(sessionId, t.content, t.status, t.priority ?? 'medium', i);
    });
    return this;
  }

  close(): void {
    this.db.close();
  }
}

/** Paths this process holds open under `dir` (Linux; [] elsewhere). */
export function openFilesUnder(dir: string): string[] {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = fs.readdirSync('/proc/self/fd');
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}
