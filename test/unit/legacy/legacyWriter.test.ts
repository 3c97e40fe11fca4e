import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { MemoryLogger } from '../../../src/core/log';
import { LegacyWriter } from '../../../src/core/legacy/legacyWriter';
import type { LegacyWriterLock, LegacyWriterOptions } from '../../../src/core/legacy/legacyWriter';
import type { UsageModel } from '../../../src/core/model/model';
import { Emitter } from '../../../src/core/util/events';
import { makeInstance, makeSession, makeSnapshot, v23Session } from '../../fixtures/legacy/snapshots';
import { activeResources, defer, sleep, tempDir } from './support';

class FakeLock implements LegacyWriterLock {
  holder = false;
  private readonly emitter = new Emitter<boolean>();
  readonly onChange = this.emitter.event;
  isHolder(): boolean {
    return this.holder;
  }
  set(holder: boolean): void {
    this.holder = holder;
    this.emitter.fire(holder);
  }
}

const USAGE: UsageModel = {
  fiveHour: { percent: 45.5, resetsAt: '2025-12-26T23:00:00.000000+00:00' },
  sevenDay: { percent: 62, resetsAt: '2025-12-29T00:00:00.000000+00:00' },
  fetchedAt: 1_766_900_000_000,
  stale: false,
  source: 'claude-code',
};

function setup(t: TestContext, over: Partial<LegacyWriterOptions> = {}) {
  const dir = tempDir(t);
  const lock = new FakeLock();
  const logger = new MemoryLogger();
  const notified: number[] = [];
  const writes: string[] = [];
  let now = 1_766_900_000_000;
  const writer = new LegacyWriter({
    statePath: path.join(dir, 'opencode-state.json'),
    usagePath: path.join(dir, 'opencode-usage.json'),
    lock,
    logger,
    refresher: { notify: (p) => void notified.push(p) },
    now: () => now,
    legacyDaemonLocks: [],
    ...over,
  });
  writer.onDidWrite((kind) => writes.push(kind));
  defer(t, () => writer.dispose());
  const read = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
  return {
    dir,
    lock,
    logger,
    writer,
    notified,
    writes,
    advance: (ms: number) => void (now += ms),
    state: () => read(writer.statePath),
    usage: () => read(writer.usagePath),
  };
}

const busy = () => makeSnapshot([makeInstance()], [makeSession()], USAGE);

test('writes nothing without the lock; on becoming holder writes state and usage at once', (t) => {
  const s = setup(t);
  s.writer.update(busy());
  assert.deepEqual(fs.readdirSync(s.dir), []);
  s.lock.set(true);
  assert.deepEqual(s.writes, ['state', 'usage']);
  assert.equal(s.state().busy_count, 1);
  assert.deepEqual(s.usage(), { five_hour: { utilization: 45, resets_at: USAGE.fiveHour?.resetsAt }, seven_day: { utilization: 62, resets_at: USAGE.sevenDay?.resetsAt }, updated: 1_766_900_000, error: null });
  for (const f of [s.writer.statePath, s.writer.usagePath]) assert.equal(fs.statSync(f).mode & 0o777, 0o600);
  assert.deepEqual(s.notified, [0]);
});

test('rewrites only when the content other than `updated` changed', (t) => {
  const s = setup(t);
  s.lock.set(true);
  s.writer.update(busy());
  const inode = fs.statSync(s.writer.statePath).ino;
  for (let i = 0; i < 5; i++) {
    s.advance(1500);
    s.writer.update(busy()); // same content, later time, new object
  }
  assert.deepEqual(s.writes, ['state', 'usage']);
  assert.equal(fs.statSync(s.writer.statePath).ino, inode);
  assert.equal(s.state().updated, 1_766_900_000);

  s.writer.update(makeSnapshot([makeInstance()], [v23Session()], USAGE));
  assert.deepEqual(s.writes, ['state', 'usage', 'state']);
  assert.equal(s.state().updated, 1_766_900_007);
  assert.equal(s.state().permissions_pending, 1);
  assert.deepEqual(s.notified, [0, 1]);

  s.writer.update(makeSnapshot([makeInstance()], [v23Session()], { ...USAGE, fiveHour: { percent: 46.2 } }));
  assert.deepEqual(s.writes, ['state', 'usage', 'state', 'usage']);
  assert.deepEqual(s.notified, [0, 1, 1]);
});

test('leaves the usage file alone while usage is absent', (t) => {
  const s = setup(t);
  s.lock.set(true);
  s.writer.update(makeSnapshot([makeInstance()], [makeSession()]));
  assert.ok(fs.existsSync(s.writer.statePath));
  assert.ok(!fs.existsSync(s.writer.usagePath));
  s.writer.update(makeSnapshot([], [], { stale: false, error: 'token_expired', errorMessage: 'HTTP 401' }));
  assert.deepEqual(s.usage(), { error: 'token_expired', updated: 1_766_900_000 });
});

test('stops writing when the lock is lost; rewrites at once on regaining it, even unchanged content', (t) => {
  const s = setup(t);
  s.lock.set(true);
  s.writer.update(busy());
  s.lock.set(false);
  s.writer.update(makeSnapshot([], []));
  assert.equal(s.state().connected, true, 'not written while another process holds the lock');
  // Meanwhile the other writer wrote something else.
  fs.writeFileSync(s.writer.statePath, '{"connected":false}');
  s.writer.update(busy());
  s.lock.set(true);
  assert.equal(s.state().connected, true);
  assert.deepEqual(s.writes, ['state', 'usage', 'state', 'usage']);
});

test('dispose while holder leaves the disconnected state behind; not when another process writes', (t) => {
  const s = setup(t);
  s.lock.set(true);
  s.writer.update(busy());
  s.writer.dispose();
  assert.deepEqual(s.state(), {
    instances: [],
    instance_count: 0,
    agent_count: 0,
    busy_count: 0,
    todos: { pending: 0, in_progress: 0 },
    permissions_pending: 0,
    tools_running: [],
    updated: 1_766_900_000,
    connected: false,
  });
  s.writer.update(busy());
  assert.equal(s.state().connected, false, 'nothing written after dispose');

  const o = setup(t);
  o.lock.set(true);
  o.writer.update(busy());
  o.lock.set(false);
  fs.writeFileSync(o.writer.statePath, 'other writer');
  o.writer.dispose();
  assert.equal(fs.readFileSync(o.writer.statePath, 'utf8'), 'other writer');
});

test('write errors are logged once per kind, never thrown, and recovery is logged', (t) => {
  const dir = tempDir(t);
  const blocker = path.join(dir, 'blocked');
  fs.writeFileSync(blocker, '');
  const s = setup(t, { statePath: path.join(blocker, 'state.json') });
  s.lock.set(true);
  for (let i = 0; i < 5; i++) s.writer.update(makeSnapshot([makeInstance()], [makeSession({ title: `t${i}` })], USAGE));
  const warnings = s.logger.records.filter((r) => r.level === 'warn');
  assert.equal(warnings.length, 1, s.logger.text());
  assert.match(warnings[0]?.message ?? '', /legacy state file: (cannot (write|create the folder of) |not writing ).*blocked/);
  assert.deepEqual(s.writes, ['usage'], 'the usage file is independent');

  fs.rmSync(blocker);
  fs.mkdirSync(blocker); // folders are never created for the file (issue 11)
  s.writer.update(makeSnapshot([makeInstance()], [makeSession({ title: 'ok' })], USAGE));
  assert.equal(JSON.parse(fs.readFileSync(path.join(blocker, 'state.json'), 'utf8')).instances[0].agents[0].title, 'ok');
  assert.match(s.logger.text(), /legacy state file: written again/);
});

test('a listener that throws does not break writing', (t) => {
  const s = setup(t);
  s.writer.onDidWrite(() => {
    throw new Error('boom');
  });
  s.lock.set(true);
  s.writer.update(busy());
  assert.deepEqual(s.writes, ['state', 'usage']);
  assert.match(s.logger.text(), /listener failed: Error: boom/);
});

test('warns once when an old legacy daemon still runs', (t) => {
  const dir = tempDir(t);
  const eventd = path.join(dir, 'opencode-eventd.lock');
  fs.mkdirSync(eventd);
  fs.writeFileSync(path.join(eventd, 'pid'), `${process.ppid}\n`); // a live process that is not us
  const monitord = path.join(dir, 'opencode-monitor.lock');
  fs.writeFileSync(monitord, '4000000'); // dead
  const s = setup(t, { legacyDaemonLocks: [eventd, monitord, path.join(dir, 'missing.lock')] });
  s.lock.set(true);
  s.lock.set(false);
  s.lock.set(true);
  const warnings = s.logger.records.filter((r) => r.message.includes('old opencode-monitor daemon'));
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]?.message ?? '', new RegExp(`pid ${process.ppid}`));
});

test('the default refresher is owned and disposed by the writer; no timers are left', async (t) => {
  await sleep(0);
  const before = activeResources();
  const dir = tempDir(t);
  const lock = new FakeLock();
  const writer = new LegacyWriter({ statePath: path.join(dir, 's.json'), usagePath: path.join(dir, 'u.json'), lock, logger: new MemoryLogger(), legacyDaemonLocks: [] });
  lock.set(true);
  writer.update(busy());
  writer.dispose();
  await sleep(0);
  assert.equal(activeResources().Timeout ?? 0, before.Timeout ?? 0);
});

test('malformed snapshot data is logged once and never thrown to the monitor', (t) => {
  const s = setup(t);
  s.lock.set(true);
  const broken = makeSnapshot([makeInstance()], [{ ...makeSession(), runningTools: undefined as unknown as [] }]);
  assert.doesNotThrow(() => {
    s.writer.update(broken);
    s.writer.update(broken);
  });
  assert.equal(s.logger.records.filter((r) => r.message.includes('cannot map the snapshot')).length, 1);
  s.writer.update(busy());
  assert.equal(s.state().busy_count, 1);
});
