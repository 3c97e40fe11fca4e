import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DB_QUERIES, OpencodeDb } from '../../../src/core/db/opencodeDb';
import type { SqliteModule } from '../../../src/core/db/sqlite';
import { DbWriter, openFilesUnder, sqliteForTests, tempDir } from './support';

const { sqlite, reason } = sqliteForTests();
const T0 = 1_795_290_421_000;
const ALPHA = '/home/dev/lab/projects/alpha';
const BETA = '/home/dev/lab/projects/beta';
const roots: string[] = [];

after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

/** Runs the body with node:sqlite, or skips saying why (Node < 22.13 has none). */
function withSqlite(body: (t: TestContext, sqlite: SqliteModule) => void | Promise<void>) {
  return async (t: TestContext) => {
    if (!sqlite) return t.skip(reason);
    await body(t, sqlite);
  };
}

function setup(s: SqliteModule): { dataDir: string; writer: DbWriter; reader: OpencodeDb } {
  const root = tempDir();
  roots.push(root);
  const dataDir = path.join(root, 'data');
  const writer = new DbWriter(s, dataDir);
  return { dataDir, writer, reader: new OpencodeDb(dataDir, s) };
}

function seed(w: DbWriter): void {
  // Idle session in alpha, finished with an error.
  w.session({ id: 'ses_idle', directory: ALPHA, created: T0, cost: 0.5, tokens: { input: 10, output: 2 } })
    .message({ id: 'msg_001', sessionId: 'ses_idle', role: 'user', created: T0 + 1 })
    .message({ id: 'msg_002', sessionId: 'ses_idle', role: 'assistant', created: T0 + 2, completed: T0 + 3, error: { name: 'APIError', message: 'bad' } });
  // Busy session in alpha: an older message left a "running" part behind (ignored), the newest runs sleep 90.
  w.session({ id: 'ses_busy', directory: ALPHA, created: T0 + 10, title: 'Lab TUI task. scenario:todos+sleep 90' })
    .message({ id: 'msg_010', sessionId: 'ses_busy', role: 'user', created: T0 + 11 })
    .message({ id: 'msg_011', sessionId: 'ses_busy', role: 'assistant', created: T0 + 12, completed: T0 + 13 })
    .tool({ id: 'prt_old', messageId: 'msg_011', sessionId: 'ses_busy', tool: 'bash', status: 'running', input: { command: 'old' }, start: T0 + 12 })
    .message({ id: 'msg_012', sessionId: 'ses_busy', role: 'assistant', created: T0 + 20 })
    .text('prt_text', 'msg_012', 'ses_busy', 'Sleeping 90 seconds. ')
    .tool({ id: 'prt_todo', messageId: 'msg_012', sessionId: 'ses_busy', tool: 'todowrite', status: 'completed', start: T0 + 21, end: T0 + 22 })
    .tool({ id: 'prt_sleep', messageId: 'msg_012', sessionId: 'ses_busy', tool: 'bash', status: 'running', input: { command: 'sleep 90', description: 'Sleep' }, start: T0 + 23 })
    .todos('ses_busy', [
      { content: 'Read the existing code', status: 'completed', priority: 'high' },
      { content: 'Implement the fake feature', status: 'in_progress', priority: 'high' },
      { content: 'Write tests', status: 'pending' },
    ]);
  // Another folder.
  w.session({ id: 'ses_beta', directory: BETA, created: T0 + 30 }).message({ id: 'msg_030', sessionId: 'ses_beta', role: 'assistant', created: T0 + 31 });
}

describe('OpencodeDb (read-only reader)', () => {
  it(
    'reads only the folder’s sessions, newest activity first, with running tools of the newest message and todos in order',
    withSqlite((_t, s) => {
      const { writer, reader } = setup(s);
      seed(writer);
      assert.equal(reader.poll(), 'changed');
      const result = reader.readDirectory(ALPHA, { maxSessions: 10 });
      assert.equal(result.state, 'ok');
      if (result.state !== 'ok') return;
      assert.deepEqual(
        result.records.map((r) => r.session.id),
        ['ses_busy', 'ses_idle'],
      );
      const [busy, idle] = result.records;
      assert.deepEqual(
        busy!.tools.map((t) => [t.partId, t.tool, t.status, t.input?.command, t.startedAt]),
        [['prt_sleep', 'bash', 'running', 'sleep 90', T0 + 23]],
      );
      assert.deepEqual(
        busy!.todos.map((t) => t.content),
        ['Read the existing code', 'Implement the fake feature', 'Write tests'],
      );
      assert.equal(busy!.lastMessage?.id, 'msg_012');
      assert.equal(busy!.lastMessage?.completedAt, undefined);
      assert.equal(idle!.lastMessage?.errorName, 'APIError');
      assert.equal(idle!.lastMessage?.errorMessage, 'bad');
      assert.deepEqual(idle!.tools, [], 'tools are read only for open messages');
      assert.equal(idle!.session.cost, 0.5);
      assert.deepEqual(idle!.session.tokens, { input: 10, output: 2, reasoning: 0, cacheRead: 0, cacheWrite: 0 });
      assert.equal(idle!.session.modelId, 'lab/fake-model');
      reader.close();
      writer.close();
    }),
  );

  it(
    'limits to the newest sessions but brings parents of sub-agents along; skips archived ones',
    withSqlite((_t, s) => {
      const { writer, reader } = setup(s);
      writer.session({ id: 'ses_parent', directory: ALPHA, created: T0 }).message({ id: 'msg_p1', sessionId: 'ses_parent', role: 'assistant', created: T0 + 1 });
      for (let i = 0; i < 5; i++) {
        writer.session({ id: `ses_other${i}`, directory: ALPHA, created: T0 + 100 + i }).message({ id: `msg_o${i}`, sessionId: `ses_other${i}`, role: 'user', created: T0 + 100 + i });
      }
      writer.session({ id: 'ses_child', parentId: 'ses_parent', directory: ALPHA, created: T0 + 200 }).message({ id: 'msg_c1', sessionId: 'ses_child', role: 'assistant', created: T0 + 201 });
      writer.session({ id: 'ses_archived', directory: ALPHA, created: T0 + 300, archived: T0 + 400 }).message({ id: 'msg_a1', sessionId: 'ses_archived', role: 'user', created: T0 + 301 });
      writer.session({ id: 'ses_empty', directory: ALPHA, created: T0 + 50 });
      reader.poll();
      const result = reader.readDirectory(ALPHA, { maxSessions: 3 });
      assert.equal(result.state, 'ok');
      if (result.state !== 'ok') return;
      assert.deepEqual(
        result.records.map((r) => r.session.id),
        ['ses_child', 'ses_other4', 'ses_parent'],
      );
      const all = reader.readDirectory(ALPHA, { maxSessions: 100 });
      assert.ok(all.state === 'ok' && all.records.some((r) => r.session.id === 'ses_empty' && r.lastMessage === undefined));
      reader.close();
      writer.close();
    }),
  );

  it(
    'an unchanged DB costs one PRAGMA; any commit (todos too) shows up as a change',
    withSqlite((_t, s) => {
      const { writer, reader } = setup(s);
      seed(writer);
      assert.equal(reader.poll(), 'changed');
      assert.equal(reader.poll(), 'unchanged');
      assert.equal(reader.poll(), 'unchanged');
      writer.todos('ses_busy', [{ content: 'Only this', status: 'in_progress' }]);
      assert.equal(reader.poll(), 'changed');
      assert.equal(reader.poll(), 'unchanged');
      writer.completeMessage('msg_012', T0 + 99);
      assert.equal(reader.poll(), 'changed');
      reader.close();
      writer.close();
    }),
  );

  it(
    'holds no read transaction between polls (OpenCode can still checkpoint) and never writes',
    withSqlite((_t, s) => {
      const { writer, reader } = setup(s);
      seed(writer);
      writer.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      const before = fs.statSync(writer.path);
      reader.poll();
      assert.equal(reader.readDirectory(ALPHA, { maxSessions: 10 }).state, 'ok');
      reader.poll();
      const after = fs.statSync(writer.path);
      assert.equal(after.mtimeMs, before.mtimeMs);
      assert.equal(after.size, before.size);
      writer.todos('ses_busy', []);
      const checkpoint = writer.db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get() as { busy: number };
      assert.equal(checkpoint.busy, 0, 'a lingering reader snapshot would block the checkpoint');
      reader.close();
      writer.close();
    }),
  );

  it(
    'missing file: nothing, quietly, and nothing is created',
    withSqlite((_t, s) => {
      const root = tempDir();
      roots.push(root);
      const reader = new OpencodeDb(path.join(root, 'nope'), s);
      assert.equal(reader.poll(), 'missing');
      assert.deepEqual(reader.readDirectory(ALPHA, { maxSessions: 5 }), { state: 'missing' });
      assert.equal(fs.existsSync(path.join(root, 'nope')), false);
      const reader2 = new OpencodeDb(root, s);
      assert.equal(reader2.poll(), 'missing');
      assert.deepEqual(fs.readdirSync(root), []);
    }),
  );

  it(
    'a WAL DB no OpenCode has open is not opened (opening would create -wal/-shm)',
    withSqlite((_t, s) => {
      const { dataDir, writer, reader } = setup(s);
      seed(writer);
      writer.close(); // the last connection removes -wal and -shm
      const files = fs.readdirSync(dataDir).sort();
      assert.deepEqual(files, ['opencode.db']);
      assert.equal(reader.poll(), 'not-running');
      assert.deepEqual(fs.readdirSync(dataDir).sort(), files);
      assert.equal(reader.isOpen, false);
    }),
  );

  it(
    'a DB replaced under it is reopened; an unknown schema is reported, not thrown',
    withSqlite((_t, s) => {
      const { dataDir, writer, reader } = setup(s);
      seed(writer);
      assert.equal(reader.poll(), 'changed');
      writer.close();
      fs.rmSync(path.join(dataDir, 'opencode.db'));
      for (const f of fs.readdirSync(dataDir)) fs.rmSync(path.join(dataDir, f));
      const other = new DbWriter(s, dataDir, { schema: 'CREATE TABLE project (id text, worktree text, vcs text, time_created int, time_updated int, sandboxes text); CREATE TABLE session (id text);' });
      assert.equal(reader.poll(), 'incompatible');
      assert.match(reader.problem ?? '', /lacks session\.parent_id.*table message/);
      assert.equal(reader.isOpen, false);
      other.close();
    }),
  );

  it(
    'SQLITE_BUSY (a writer holding an exclusive lock) is reported as busy, quickly, and recovers',
    withSqlite((_t, s) => {
      // A WAL reader is practically never blocked; a rollback-journal writer in EXCLUSIVE blocks it for sure.
      const root = tempDir();
      roots.push(root);
      const writer = new DbWriter(s, root, { wal: false });
      const reader = new OpencodeDb(root, s, 50);
      seed(writer);
      assert.equal(reader.poll(), 'changed');
      writer.db.exec('BEGIN EXCLUSIVE');
      writer.todos('ses_busy', [{ content: 'locked', status: 'pending' }]);
      const started = Date.now();
      const state = reader.poll();
      const read = reader.readDirectory(ALPHA, { maxSessions: 5 });
      assert.ok(Date.now() - started < 2_000);
      assert.ok(state === 'busy' || read.state === 'busy', `poll=${state} read=${read.state}`);
      assert.equal(reader.isOpen, true, 'busy keeps the connection');
      writer.db.exec('COMMIT');
      assert.notEqual(reader.poll(), 'busy');
      const again = reader.readDirectory(ALPHA, { maxSessions: 5 });
      assert.equal(again.state, 'ok');
      assert.ok(again.state === 'ok' && again.records[0]!.todos[0]!.content === 'locked');
      reader.close();
      writer.close();
    }),
  );

  it(
    'uses the indexes for per-session lookups (cheap enough for every second)',
    withSqlite((_t, s) => {
      const { writer } = setup(s);
      const plan = (sql: string) =>
        (writer.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...Array.from({ length: (sql.match(/\?/g) ?? []).length }, () => 'x')) as Array<{ detail: string }>)
          .map((r) => r.detail)
          .join(' | ');
      assert.match(plan(DB_QUERIES.lastMessage), /USING (COVERING )?INDEX message_session_time_created_id_idx/);
      assert.match(plan(DB_QUERIES.runningTools), /USING INDEX part_message_id_id_idx/);
      assert.match(plan(DB_QUERIES.todos), /USING INDEX (sqlite_autoindex_todo_1|todo_session_idx)/);
      assert.match(plan(DB_QUERIES.session), /USING INDEX sqlite_autoindex_session_1/);
      assert.match(plan(DB_QUERIES.candidates), /SCAN s.*CORRELATED SCALAR SUBQUERY.*COVERING INDEX message_session_time_created_id_idx/);
      writer.close();
    }),
  );

  it(
    'close() leaves no file handle behind',
    withSqlite((_t, s) => {
      const { dataDir, writer, reader } = setup(s);
      seed(writer);
      writer.close();
      const w2 = new DbWriter(s, dataDir, { schema: 'SELECT 1' }); // an "OpenCode" keeps it open (WAL present)
      reader.poll();
      assert.equal(reader.readDirectory(ALPHA, { maxSessions: 5 }).state, 'ok');
      w2.close();
      assert.ok(openFilesUnder(dataDir).length > 0 || process.platform !== 'linux');
      reader.close();
      assert.deepEqual(openFilesUnder(dataDir), []);
    }),
  );
});
