import { after, describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DbSessionSource, type DbSessionSourceOptions } from '../../../src/core/db/dbSessionSource';
import { loadNodeSqlite, unavailableReason, type SqliteModule } from '../../../src/core/db/sqlite';
import { MemoryLogger } from '../../../src/core/log';
import type { InstanceModel } from '../../../src/core/model/model';
import { DbWriter, openFilesUnder, sqliteForTests, tempDir } from './support';

const { sqlite, reason } = sqliteForTests();
const ALPHA = '/home/dev/lab/projects/alpha';
const BETA = '/home/dev/lab/projects/beta';
const roots: string[] = [];
const sources: DbSessionSource[] = [];

after(() => {
  for (const s of sources) s.dispose();
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function withSqlite(body: (t: TestContext, sqlite: SqliteModule) => void | Promise<void>) {
  return async (t: TestContext) => {
    if (!sqlite) return t.skip(reason);
    await body(t, sqlite);
  };
}

function instance(pid: number, dataDir: string, cwd = ALPHA, over: Partial<InstanceModel> = {}): InstanceModel {
  return { id: `pid:${pid}`, agent: 'opencode', kind: 'tui', pid, cwd, dataDir, connection: 'limited', sessionIds: [], firstSeen: 0, ...over };
}

interface Harness {
  source: DbSessionSource;
  logger: MemoryLogger;
  clock: { now: number };
  alive: Set<number>;
  toolChild: Map<number, boolean | undefined>;
  startTimes: Map<number, number>;
  dataDir: string;
  writer: DbWriter;
}

function harness(s: SqliteModule, over: Partial<DbSessionSourceOptions> = {}): Harness {
  const root = tempDir();
  roots.push(root);
  const dataDir = path.join(root, 'data');
  const writer = new DbWriter(s, dataDir);
  const logger = new MemoryLogger();
  const clock = { now: 1_795_290_500_000 };
  const alive = new Set<number>([100, 200, 300]);
  const toolChild = new Map<number, boolean | undefined>();
  const startTimes = new Map<number, number>();
  const source = new DbSessionSource({
    logger,
    pollMs: 60_000, // the tests drive polls by hand
    now: () => clock.now,
    hasToolChild: (pid) => (toolChild.has(pid) ? toolChild.get(pid) : false),
    processProbe: { isAlive: (pid) => alive.has(pid), startTime: (pid) => startTimes.get(pid) ?? 1_795_286_900_000 },
    ...over,
  });
  sources.push(source);
  return { source, logger, clock, alive, toolChild, startTimes, dataDir, writer };
}

function seedBusy(w: DbWriter, at: number, command = 'sleep 90'): void {
  w.session({ id: 'ses_busy', directory: ALPHA, created: at - 5_000, title: 'Lab TUI task. scenario:sleep 90', cost: 0.01, tokens: { input: 1200, output: 42 } })
    .message({ id: 'msg_1', sessionId: 'ses_busy', role: 'user', created: at - 4_000 })
    .message({ id: 'msg_2', sessionId: 'ses_busy', role: 'assistant', created: at - 3_000 })
    .tool({ id: 'prt_bash', messageId: 'msg_2', sessionId: 'ses_busy', tool: 'bash', status: 'running', input: { command }, start: at - 2_000 });
  w.session({ id: 'ses_beta', directory: BETA, created: at - 5_000 }).message({ id: 'msg_b', sessionId: 'ses_beta', role: 'assistant', created: at - 4_000 });
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('DbSessionSource without node:sqlite', () => {
  it('says why (Node < 22.13) and logs it once; answers nothing', () => {
    const logger = new MemoryLogger();
    const source = new DbSessionSource({ logger, loadSqlite: () => ({ reason: unavailableReason('20.20.2') }) });
    sources.push(source);
    assert.equal(source.unavailableReason, 'node:sqlite needs Node ≥ 22.13; this is Node 20.20.2');
    const tui = instance(100, '/nonexistent/data');
    assert.deepEqual(source.sessionsFor(tui), []);
    assert.deepEqual(source.sessionsFor(tui), []);
    assert.deepEqual(source.sessionsFor(instance(200, '/other')), []);
    const warnings = logger.records.filter((r) => r.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /port-less OpenCode TUIs cannot be read: node:sqlite needs Node ≥ 22\.13; this is Node 20\.20\.2/);
    assert.equal(source.stats().watches, 0);
    source.dispose();
  });

  it('this Node: the real loader agrees with the version', () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
    const loaded = loadNodeSqlite();
    if (major > 22 || (major === 22 && minor >= 13)) {
      assert.equal(typeof loaded.sqlite?.DatabaseSync, 'function');
      assert.equal(new DbSessionSource({ logger: new MemoryLogger() }).unavailableReason, undefined);
    } else {
      assert.equal(loaded.reason, `node:sqlite needs Node ≥ 22.13; this is Node ${process.versions.node}`);
      const source = new DbSessionSource({ logger: new MemoryLogger() });
      assert.equal(source.unavailableReason, loaded.reason);
      source.dispose();
    }
    assert.match(unavailableReason('24.21.0', new Error('boom')), /could not be loaded on Node 24\.21\.0 \(boom\)/);
    assert.match(unavailableReason('22.12.0'), /needs Node ≥ 22\.13/);
  });
});

describe('DbSessionSource', () => {
  it(
    'answers the folder’s sessions for a limited TUI (busy, running tool, cost, tokens) and nothing for others',
    withSqlite((_t, s) => {
      const h = harness(s);
      seedBusy(h.writer, h.clock.now);
      const tui = instance(100, h.dataDir);
      const sessions = h.source.sessionsFor(tui);
      assert.deepEqual(
        sessions.map((x) => [x.id, x.status, x.instanceId, x.source]),
        [['ses_busy', 'busy', 'pid:100', 'db']],
      );
      const [busy] = sessions;
      assert.deepEqual(busy!.runningTools.map((t) => `${t.name}: ${t.arg}`), ['bash: sleep 90']);
      assert.equal(busy!.cost, 0.01);
      assert.equal(busy!.tokens.input, 1200);
      assert.equal(busy!.needsAttention, false, 'one sighting without a tool child is not yet a permission');
      assert.deepEqual(h.source.sessionsFor({ ...tui, connection: 'connected' }), []);
      assert.deepEqual(h.source.sessionsFor({ ...tui, dataDir: undefined }), []);
      assert.deepEqual(h.source.sessionsFor(instance(200, h.dataDir, BETA)).map((x) => x.id), ['ses_beta']);
      h.writer.close();
    }),
  );

  it(
    'an unchanged DB is not read again; a change is read and reported once',
    withSqlite(async (_t, s) => {
      const h = harness(s);
      seedBusy(h.writer, h.clock.now);
      h.toolChild.set(100, true);
      const tui = instance(100, h.dataDir);
      h.source.sessionsFor(tui);
      let fired = 0;
      h.source.onChange(() => fired++);
      const reads = h.source.stats().reads;
      for (let i = 0; i < 5; i++) {
        h.clock.now += 1_000;
        h.source.pollNow();
      }
      await nextTurn();
      assert.equal(h.source.stats().reads, reads, 'no reads while data_version stays');
      assert.equal(fired, 0);
      h.writer.completeMessage('msg_2', h.clock.now);
      h.source.pollNow();
      h.source.pollNow();
      await nextTurn();
      assert.equal(h.source.stats().reads, reads + 1);
      assert.equal(fired, 1);
      const [idle] = h.source.sessionsFor(tui);
      assert.equal(idle!.status, 'idle');
      assert.deepEqual(idle!.runningTools, []);
      h.writer.close();
    }),
  );

  it(
    'a running bash whose TUI has no tool child for a while = permission; the child appearing clears it',
    withSqlite(async (_t, s) => {
      const h = harness(s);
      seedBusy(h.writer, h.clock.now, 'rm -f lab-permission-probe.txt');
      const tui = instance(100, h.dataDir);
      let fired = 0;
      h.source.onChange(() => fired++);
      assert.equal(h.source.sessionsFor(tui)[0]!.needsAttention, false);
      h.clock.now += 1_000;
      h.source.pollNow();
      await nextTurn();
      const [waiting] = h.source.sessionsFor(tui);
      assert.equal(waiting!.attentionReason, 'permission');
      assert.equal(waiting!.permissions[0]!.command, 'rm -f lab-permission-probe.txt');
      assert.equal(fired, 1, 'the monitor hears about it without any DB change');
      h.toolChild.set(100, true); // approved: the command runs
      h.clock.now += 1_000;
      h.source.pollNow();
      await nextTurn();
      assert.equal(h.source.sessionsFor(tui)[0]!.needsAttention, false);
      assert.equal(fired, 2);
      h.writer.close();
    }),
  );

  it(
    'several TUIs in one folder: the sessions go to the lowest pid only, and that is logged once',
    withSqlite(async (_t, s) => {
      const h = harness(s);
      seedBusy(h.writer, h.clock.now);
      let fired = 0;
      h.source.onChange(() => fired++);
      assert.equal(h.source.sessionsFor(instance(200, h.dataDir)).length, 1);
      assert.equal(h.source.sessionsFor(instance(100, h.dataDir)).length, 1);
      await nextTurn();
      assert.equal(fired, 1, 'the earlier answer for pid 200 is now wrong: ask again');
      assert.equal(h.source.sessionsFor(instance(200, h.dataDir)).length, 0);
      assert.equal(h.source.sessionsFor(instance(100, h.dataDir)).length, 1);
      assert.equal(h.source.sessionsFor(instance(300, h.dataDir)).length, 0);
      const notes = h.logger.records.filter((r) => /share/.test(r.message));
      assert.equal(notes.length, 2, 'once per distinct set (100,200 then 100,200,300)');
      assert.match(notes[1]!.message, /TUIs 100, 200, 300 share \/home\/dev\/lab\/projects\/alpha.*shown under 100/);
      // The owner dies: the next one takes over.
      h.alive.delete(100);
      assert.deepEqual(h.source.sessionsFor(instance(100, h.dataDir)), [], 'a dead process gets nothing');
      h.source.pollNow();
      assert.equal(h.source.sessionsFor(instance(200, h.dataDir)).length, 1);
      h.writer.close();
    }),
  );

  it(
    'after its process dies (kill -9), nothing is answered and the DB is closed',
    withSqlite(async (_t, s) => {
      const h = harness(s);
      seedBusy(h.writer, h.clock.now);
      const tui = instance(100, h.dataDir);
      assert.equal(h.source.sessionsFor(tui).length, 1);
      assert.equal(h.source.stats().openDatabases, 1);
      h.alive.delete(100);
      assert.deepEqual(h.source.sessionsFor(tui), []);
      h.source.pollNow();
      assert.equal(h.source.stats().watches, 0);
      assert.equal(h.source.stats().openDatabases, 0);
      h.writer.close();
      if (process.platform === 'linux') assert.deepEqual(openFilesUnder(h.dataDir), []);
    }),
  );

  it(
    'a pid reused by another process is not the same TUI',
    withSqlite((_t, s) => {
      const h = harness(s);
      seedBusy(h.writer, h.clock.now);
      h.source.sessionsFor(instance(100, h.dataDir));
      h.startTimes.set(100, h.clock.now); // pid 100 died and a new process got it
      h.source.pollNow();
      assert.equal(h.source.stats().watches, 0);
      h.writer.close();
    }),
  );

  it(
    'an open message older than the TUI process is not trusted (left by an earlier, killed TUI)',
    withSqlite((_t, s) => {
      const h = harness(s, {});
      seedBusy(h.writer, h.clock.now);
      const source = new DbSessionSource({
        logger: h.logger,
        pollMs: 60_000,
        now: () => h.clock.now,
        hasToolChild: () => true,
        processProbe: { isAlive: () => true, startTime: () => h.clock.now },
      });
      sources.push(source);
      const [stale] = source.sessionsFor(instance(100, h.dataDir));
      assert.equal(stale!.status, 'idle');
      assert.match(stale!.lastError ?? '', /interrupted/);
      h.writer.close();
    }),
  );

  it(
    'keeps watching a live TUI nobody asked about for a while; re-confirms after reconfirmAfterMs, then drops',
    withSqlite(async (_t, s) => {
      const h = harness(s, { dropAfterMs: 10_000, reconfirmAfterMs: 60_000 });
      seedBusy(h.writer, h.clock.now);
      const tui = instance(100, h.dataDir);
      h.source.sessionsFor(tui);
      let fired = 0;
      h.source.onChange(() => fired++);
      h.clock.now += 30_000;
      h.source.pollNow();
      assert.equal(h.source.stats().watches, 1, 'alive: still watched after 30 s without a question');
      h.clock.now += 31_000;
      h.source.pollNow();
      await nextTurn();
      assert.equal(fired, 1, 'asks the monitor to ask again');
      h.clock.now += 11_000;
      h.source.pollNow();
      assert.equal(h.source.stats().watches, 0, 'nobody asked again: dropped');
      assert.equal(h.source.stats().openDatabases, 0);
      h.writer.close();
    }),
  );

  it(
    'missing DB: nothing, no warning, nothing created',
    withSqlite((_t, _s) => {
      const root = tempDir();
      roots.push(root);
      const logger = new MemoryLogger();
      const source = new DbSessionSource({ logger, processProbe: { isAlive: () => true, startTime: () => undefined } });
      sources.push(source);
      assert.deepEqual(source.sessionsFor(instance(100, path.join(root, 'data'))), []);
      source.pollNow();
      assert.deepEqual(fs.readdirSync(root), []);
      assert.deepEqual(logger.records.filter((r) => r.level !== 'debug' && r.level !== 'trace'), []);
      source.dispose();
    }),
  );

  it(
    'dispose clears timers and closes every DB handle',
    withSqlite(async (_t, s) => {
      const h = harness(s, { pollMs: 20 });
      seedBusy(h.writer, h.clock.now);
      h.source.sessionsFor(instance(100, h.dataDir));
      h.source.sessionsFor(instance(200, h.dataDir, BETA));
      await new Promise((r) => setTimeout(r, 100));
      assert.ok(h.source.stats().ticks >= 2, 'the timer polls');
      h.writer.close(); // only the source's handles remain
      if (process.platform === 'linux') assert.ok(openFilesUnder(h.dataDir).length > 0);
      h.source.dispose();
      const ticks = h.source.stats().ticks;
      assert.equal(h.source.stats().openDatabases, 0);
      if (process.platform === 'linux') assert.deepEqual(openFilesUnder(h.dataDir), []);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(h.source.stats().ticks, ticks, 'no tick after dispose');
      assert.deepEqual(h.source.sessionsFor(instance(100, h.dataDir)), []);
    }),
  );
});
