/**
 * The history reader on small DBs with the real 1.18.33 schema and known rows, and on bad DBs
 * (missing, not SQLite, unknown schema, locked, corrupt), directly and through the worker client.
 * Needs node:sqlite (Node ≥ 22.13: the runner uses Node 24 for files under db/).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNodeSqlite } from '../../../src/core/db/sqlite';
import type { SqliteDatabase } from '../../../src/core/db/sqlite';
import { HistoryClient } from '../../../src/core/history/historyClient';
import { answer } from '../../../src/core/history/historyWorker';
import { HistoryDb } from '../../../src/core/history/historyDb';
import { windowFromSince } from '../../../src/core/history/since';
import { HistoryError } from '../../../src/core/history/types';

const ROOT = path.resolve(__dirname, '../../../..');
const SCHEMA = fs.readFileSync(path.join(ROOT, 'test/fixtures/db/opencode-1.18.33.schema.sql'), 'utf8').replace(/^--.*$/gm, '');
const WORKER = path.join(ROOT, 'out/src/core/history/historyWorker.js');
const sqlite = loadNodeSqlite();
const NOW = Date.now();
const ALL = windowFromSince('all');

type Run = { prepare(sql: string): { run(...p: unknown[]): unknown; get(...p: unknown[]): unknown; all(...p: unknown[]): unknown[] } };

function assistant(cost: number, input: number, output: number, cacheRead: number, agent: string, t: number, model = 'fake-model'): string {
  return JSON.stringify({ role: 'assistant', agent, mode: agent, cost, tokens: { total: 0, input, output, reasoning: 1, cache: { read: cacheRead, write: 2 } }, modelID: model, providerID: 'lab', time: { created: t, completed: t + 1000 } });
}

function tool(tool: string, status: string, start: number, dur: number, filePath?: string): string {
  return JSON.stringify({ type: 'tool', tool, callID: `c_${Math.random()}`, state: { status, input: filePath ? { filePath } : { command: 'ls' }, time: { start, end: start + dur } } });
}

/** root (2 replies, 3 tools, one failed) → child (1 reply, 1 tool) → grandchild; plus an old root (40 days). */
function buildDb(file: string): void {
  const db = new sqlite.sqlite!.DatabaseSync(file) as unknown as Run & Pick<SqliteDatabase, "exec" | "close">;
  db.exec('PRAGMA foreign_keys = OFF');
  db.exec(SCHEMA);
  const ins = (sql: string, ...p: unknown[]): unknown => db.prepare(sql).run(...p);
  ins("INSERT INTO project (id, worktree, time_created, time_updated, sandboxes) VALUES ('p1', '/w/alpha', 0, 0, '[]')");
  const session = (id: string, parent: string | null, agent: string, title: string, t: number): unknown =>
    ins("INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, agent, time_created, time_updated) VALUES (?, 'p1', ?, 's', '/w/alpha', ?, '1.18.33', ?, ?, ?)", id, parent, title, agent, t, t + 5000);
  const message = (id: string, sid: string, t: number, data: string): unknown => ins('INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)', id, sid, t, t + 1, data);
  const part = (id: string, mid: string, sid: string, t: number, data: string): unknown => ins('INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)', id, mid, sid, t, t, data);
  const t0 = NOW - 3_600_000;
  session('ses_root', null, 'build', 'Root <b>task</b>', t0);
  session('ses_child', 'ses_root', 'general', 'Child (@general subagent)', t0 + 1000);
  session('ses_grand', 'ses_child', 'explore', 'Grandchild', t0 + 2000);
  session('ses_old', null, 'plan', 'Old one', NOW - 40 * 86_400_000);
  message('m1', 'ses_root', t0, JSON.stringify({ role: 'user', time: { created: t0 }, agent: 'build' }));
  message('m2', 'ses_root', t0 + 10, assistant(0.25, 1000, 100, 3000, 'build', t0 + 10));
  message('m3', 'ses_root', t0 + 20, assistant(0.5, 2000, 200, 0, 'build', t0 + 20, 'other-model'));
  part('p1', 'm2', 'ses_root', t0, tool('read', 'completed', t0, 100, '/w/alpha/a.ts'));
  part('p2', 'm2', 'ses_root', t0, tool('edit', 'error', t0, 300, '/w/alpha/a.ts'));
  part('p3', 'm3', 'ses_root', t0, tool('read', 'completed', t0, 200, '/w/alpha/b.ts'));
  part('p4', 'm3', 'ses_root', t0, JSON.stringify({ type: 'text', text: 'the word "tool" in a text part' }));
  message('m4', 'ses_child', t0 + 30, assistant(0.125, 500, 50, 500, 'general', t0 + 30));
  part('p5', 'm4', 'ses_child', t0, tool('bash', 'completed', t0, 1000));
  message('m5', 'ses_grand', t0 + 40, assistant(0, 10, 1, 0, 'explore', t0 + 40));
  message('m6', 'ses_old', NOW - 40 * 86_400_000, assistant(1, 1, 1, 0, 'plan', NOW - 40 * 86_400_000));
  // A malformed row (half-written JSON) is skipped, not counted and not fatal.
  message('m7', 'ses_old', NOW - 40 * 86_400_000, '{"role":"assistant","cost":5,"tok');
  part('p7', 'm6', 'ses_old', NOW - 40 * 86_400_000, '{"type":"tool","tool":"read"');
  part('p6', 'm6', 'ses_old', NOW - 40 * 86_400_000, tool('read', 'completed', NOW - 40 * 86_400_000, 900));
  db.close();
}

describe('history reader (opencode.db, 1.18.33 schema)', () => {
  if (!sqlite.sqlite) {
    it('without node:sqlite says why, in one line', () => {
      assert.throws(() => HistoryDb.open('/nonexistent'), (e: unknown) => e instanceof HistoryError && e.kind === 'unavailable' && /node:sqlite needs Node/.test(e.message));
    });
    return;
  }
  let dir: string;
  let file: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-history-'));
    file = path.join(dir, 'opencode.db');
    buildDb(file);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('totals, groups and tools agree with the rows', () => {
    const db = HistoryDb.open(file);
    try {
      const all = db.totals(ALL);
      assert.equal(all.sessions, 4);
      assert.equal(all.rootSessions, 2);
      assert.equal(all.messages, 6, 'the malformed message is skipped');
      assert.equal(all.assistantMessages, 5);
      assert.deepEqual(all.tokens, { input: 3511, output: 352, reasoning: 5, cacheRead: 3500, cacheWrite: 10 });
      assert.equal(all.cost, 1.875);
      assert.equal(all.cacheHitRatio, 3500 / (3511 + 3500));
      const week = db.totals(windowFromSince('7d'));
      assert.equal(week.sessions, 3);
      assert.equal(week.cost, 0.875);
      assert.deepEqual(db.byModel(windowFromSince('7d')).map((g) => [g.key, g.messages, g.cost]), [['lab/other-model', 1, 0.5], ['lab/fake-model', 3, 0.375]]);
      assert.deepEqual(db.byAgent(windowFromSince('7d')).map((g) => [g.key, g.sessions, g.cost]), [['build', 1, 0.75], ['general', 1, 0.125], ['explore', 1, 0]]);
      assert.deepEqual(db.byProject(ALL).map((g) => [g.key, g.sessions, g.cost]), [['/w/alpha', 4, 1.875]]);
      assert.equal(db.byDay(ALL, 0).reduce((s, d) => s + d.cost, 0), 1.875);
      const tools = db.tools(windowFromSince('7d'));
      assert.deepEqual(tools.map((x) => [x.tool, x.calls, x.errors, x.medianMs]), [['read', 2, 0, 150], ['bash', 1, 0, 1000], ['edit', 1, 1, 300]]);
      assert.equal(tools.find((x) => x.tool === 'edit')!.failureRate, 1);
      assert.deepEqual(db.tools(ALL).map((x) => [x.tool, x.calls, x.medianMs]), [['read', 3, 200], ['bash', 1, 1000], ['edit', 1, 300]]);
    } finally {
      db.close();
    }
  });

  it('sessions: root only, windowed, searchable, paged and bounded', () => {
    const db = HistoryDb.open(file);
    try {
      const page = db.sessions({ window: ALL });
      assert.deepEqual(page.items.map((s) => [s.id, s.children]), [['ses_root', 1], ['ses_old', 0]]);
      assert.equal(db.sessions({ window: windowFromSince('7d') }).total, 1);
      assert.deepEqual(db.sessions({ window: ALL, search: 'OLD' }).items.map((s) => s.id), ['ses_old']);
      assert.deepEqual(db.sessions({ window: ALL, search: '%' }).items, []);
      const second = db.sessions({ window: ALL, limit: 1, offset: 1 });
      assert.deepEqual([second.total, second.items.map((s) => s.id)], [2, ['ses_old']]);
      assert.equal(db.sessions({ window: ALL, limit: 10_000 }).items.length, 2);
    } finally {
      db.close();
    }
  });

  it('trace: the delegation tree with tokens, cost, tools and files per node', () => {
    const db = HistoryDb.open(file);
    try {
      const trace = db.trace('ses_root');
      assert.equal(trace.nodes, 3);
      const root = trace.root;
      assert.deepEqual([root.agent, root.title, root.messages, root.cost, root.toolCalls, root.toolErrors], ['build', 'Root <b>task</b>', 3, 0.75, 3, 1]);
      assert.deepEqual(root.toolStates, { completed: 2, error: 1 });
      assert.deepEqual(root.files.sort(), ['/w/alpha/a.ts', '/w/alpha/b.ts']);
      assert.equal(root.children.length, 1);
      const child = root.children[0]!;
      assert.deepEqual([child.id, child.depth, child.agent, child.cost, child.toolCalls, child.tokens.input], ['ses_child', 1, 'general', 0.125, 1, 500]);
      assert.deepEqual(child.children.map((c) => [c.id, c.depth]), [['ses_grand', 2]]);
      assert.ok(root.durationMs >= 5000);
      assert.throws(() => db.trace('ses_nope'), (e: unknown) => e instanceof HistoryError && e.kind === 'not-found');
    } finally {
      db.close();
    }
  });

  it('bad DBs: one-line typed reasons', () => {
    const kind = (f: string, k: string, re: RegExp, busyTimeoutMs?: number): void => {
      assert.throws(() => HistoryDb.open(f, { busyTimeoutMs }).totals(ALL), (e: unknown) => e instanceof HistoryError && e.kind === k && re.test(e.message) && !e.message.includes('\n'), k);
    };
    kind(path.join(dir, 'none.db'), 'missing', /no OpenCode database at/);
    const text = path.join(dir, 'text.db');
    fs.writeFileSync(text, 'this is not a database at all, just some text that is long enough'.repeat(10));
    kind(text, 'not-sqlite', /is not an SQLite database/);
    const other = path.join(dir, 'other.db');
    const o = new sqlite.sqlite!.DatabaseSync(other);
    o.exec('CREATE TABLE session (id TEXT); CREATE TABLE message (id TEXT, data TEXT)');
    o.close();
    kind(other, 'unknown-schema', /unknown schema: missing session\.parent_id.*checked against OpenCode 1\.18\.33/);
    const shape = path.join(dir, 'shape.db');
    const s = new sqlite.sqlite!.DatabaseSync(shape);
    s.exec('PRAGMA foreign_keys = OFF');
    s.exec(SCHEMA);
    s.exec(`INSERT INTO message VALUES ('m', 's', 1, 1, '{"role":"assistant","usage":{"in":1}}')`);
    s.close();
    kind(shape, 'unknown-schema', /no tokens\/cost object/);
    const corrupt = path.join(dir, 'corrupt.db');
    fs.copyFileSync(file, corrupt);
    const bytes = fs.readFileSync(corrupt);
    bytes.fill(0xa5, 4096); // every page after the first: headers and cells garbage
    fs.writeFileSync(corrupt, bytes);
    kind(corrupt, 'corrupt', /is damaged/);
  });

  it('a locked DB gives "locked" after the busy timeout, not a hang', () => {
    const locked = path.join(dir, 'locked.db');
    fs.copyFileSync(file, locked); // rollback journal mode: an exclusive lock blocks readers
    const holder = new sqlite.sqlite!.DatabaseSync(locked);
    holder.exec('BEGIN EXCLUSIVE');
    try {
      const t0 = Date.now();
      assert.throws(() => HistoryDb.open(locked, { busyTimeoutMs: 200 }).totals(ALL), (e: unknown) => e instanceof HistoryError && e.kind === 'locked' && /is locked/.test(e.message));
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
  });

  it('a WAL DB nobody has open is read without creating -wal/-shm', () => {
    const wal = path.join(dir, 'wal', 'opencode.db');
    fs.mkdirSync(path.dirname(wal));
    fs.copyFileSync(file, wal);
    const w = new sqlite.sqlite!.DatabaseSync(wal);
    w.exec('PRAGMA journal_mode = WAL');
    w.close();
    assert.deepEqual(fs.readdirSync(path.dirname(wal)), ['opencode.db']);
    const db = HistoryDb.open(wal);
    assert.equal(db.totals(ALL).sessions, 4);
    db.close();
    assert.deepEqual(fs.readdirSync(path.dirname(wal)), ['opencode.db']);
  });

  it('worker answers are reused only while the DB is unchanged', () => {
    const copy = path.join(dir, 'cached.db');
    fs.copyFileSync(file, copy);
    const ask = (id: number) => answer({ id, file: copy, op: 'tools', args: { window: ALL } });
    const first = ask(1);
    const second = ask(2);
    assert.ok(first.ok && second.ok);
    assert.equal(first.cached, undefined);
    assert.equal(second.cached, true);
    assert.deepEqual(second.result, first.result);
    const w = new sqlite.sqlite!.DatabaseSync(copy) as unknown as Run & Pick<SqliteDatabase, 'exec' | 'close'>;
    w.exec('PRAGMA foreign_keys = OFF');
    w.prepare('INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)').run('p9', 'm2', 'ses_root', NOW, NOW, tool('grep', 'error', NOW, 5));
    w.close();
    const third = ask(3);
    assert.ok(third.ok && !third.cached);
    assert.ok((third.result as { tool: string }[]).some((x) => x.tool === 'grep'));
  });

  it('worker client: answers off the main thread, typed errors, timeout terminates', async () => {
    const client = new HistoryClient({ file, workerFile: WORKER, timeoutMs: 30_000 });
    try {
      const [overview, trace] = await Promise.all([client.request('overview', { window: ALL }), client.request('trace', { sessionId: 'ses_root' })]);
      assert.equal(overview.totals.cost, 1.875);
      assert.equal(trace.nodes, 3);
      const [light, tools] = await Promise.all([client.request('overview', { window: ALL, withTools: false }), client.request('tools', { window: ALL })]);
      assert.deepEqual([light.tools, light.totals.cost], [[], 1.875]);
      assert.deepEqual(tools, overview.tools);
      await assert.rejects(client.request('trace', { sessionId: 'ses_nope' }), (e: unknown) => e instanceof HistoryError && e.kind === 'not-found');
    } finally {
      await client.close();
    }
    const silent = path.join(dir, 'silentWorker.js');
    fs.writeFileSync(silent, "require('node:worker_threads').parentPort.on('message', () => {});\n");
    const stuck = new HistoryClient({ file, workerFile: silent, timeoutMs: 300 });
    await assert.rejects(stuck.request('overview', { window: ALL }), (e: unknown) => e instanceof HistoryError && e.kind === 'timeout');
    await stuck.close();
    const missing = new HistoryClient({ file: path.join(dir, 'nope.db'), workerFile: WORKER });
    await assert.rejects(missing.request('overview', { window: ALL }), (e: unknown) => e instanceof HistoryError && e.kind === 'missing');
    await missing.close();
  });
});
