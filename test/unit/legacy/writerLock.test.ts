import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { MemoryLogger } from '../../../src/core/log';
import { WriterLock } from '../../../src/core/os/writerLock';
import type { WriterLockOptions } from '../../../src/core/os/writerLock';
import { readLockFile, readWriterLock, refreshOwnLock, replaceStaleLock } from '../../../src/core/os/lockFile';
import type { LockRecord } from '../../../src/core/os/lockFile';
import { activeResources, defer, sleep, tempDir } from './support';

function makeLock(t: TestContext, lockPath: string, over: Partial<WriterLockOptions> = {}) {
  const logger = new MemoryLogger();
  const lock = new WriterLock({ path: lockPath, ownerLabel: 'test', logger, heartbeatMs: 100, staleMs: 300, ...over });
  const changes: boolean[] = [];
  lock.onChange((h) => changes.push(h));
  defer(t, () => lock.dispose());
  return { lock, logger, changes };
}

function writeRecord(file: string, over: Partial<LockRecord>): string {
  const raw = JSON.stringify({ pid: 999_999, hostname: 'elsewhere', owner: 'x', heartbeat: Date.now(), token: 'other', acquiredAt: 0, ...over }) + '\n';
  fs.writeFileSync(file, raw);
  return raw;
}

async function until(cond: () => boolean, timeoutMs: number): Promise<number> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
  return Date.now() - start;
}

test('acquires a free lock at start and records pid, hostname, owner, heartbeat', (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  const { lock, changes } = makeLock(t, file, { ownerLabel: 'VS Code window' });
  assert.equal(lock.isHolder(), false);
  lock.start();
  assert.equal(lock.isHolder(), true);
  assert.deepEqual(changes, [true]);
  const record = readWriterLock(file);
  assert.ok(record);
  assert.equal(record.pid, process.pid);
  assert.equal(record.hostname, os.hostname());
  assert.equal(record.owner, 'VS Code window');
  assert.ok(Math.abs(record.heartbeat - Date.now()) < 1000);
  assert.deepEqual(Object.keys(record), ['pid', 'hostname', 'owner', 'heartbeat', 'token', 'acquiredAt']);
});

test('the holder refreshes its heartbeat; a second contender waits, then takes over at once on release', async (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  const a = makeLock(t, file);
  const b = makeLock(t, file);
  a.lock.start();
  b.lock.start();
  assert.equal(a.lock.isHolder(), true);
  assert.equal(b.lock.isHolder(), false);
  const first = readWriterLock(file)?.heartbeat ?? 0;
  await sleep(350); // longer than staleMs: only the heartbeat keeps A in place
  assert.ok((readWriterLock(file)?.heartbeat ?? 0) > first, 'heartbeat refreshed');
  assert.equal(a.lock.isHolder(), true);
  assert.equal(b.lock.isHolder(), false);
  assert.match(b.logger.text(), /held by pid \d+ \(test\)/);

  const released = Date.now();
  a.lock.dispose();
  assert.deepEqual(a.changes, [true, false]);
  const waited = await until(() => b.lock.isHolder(), 1000);
  console.log(`in-process takeover after release: ${Date.now() - released} ms (heartbeat 100 ms)`);
  assert.ok(waited < 100, `took ${waited} ms`);
  assert.equal(readWriterLock(file)?.pid, process.pid);
});

test('takes over a lock whose PID is gone (same host), at start', (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  writeRecord(file, { hostname: os.hostname(), pid: 4_000_000 });
  const { lock, logger } = makeLock(t, file, { isProcessAlive: () => false });
  lock.start();
  assert.equal(lock.isHolder(), true);
  assert.match(logger.text(), /took over from pid 4000000 \(x\): pid 4000000 is gone/);
});

test('PIDs of another host are not checked; its heartbeat decides', (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  writeRecord(file, { hostname: 'elsewhere', heartbeat: Date.now() });
  const fresh = makeLock(t, file, { isProcessAlive: () => false });
  fresh.lock.start();
  assert.equal(fresh.lock.isHolder(), false);
  fresh.lock.dispose();

  writeRecord(file, { hostname: 'elsewhere', heartbeat: Date.now() - 5000 });
  const old = makeLock(t, file, { isProcessAlive: () => true });
  old.lock.start();
  assert.equal(old.lock.isHolder(), true);
  assert.match(old.logger.text(), /no heartbeat for \d+ ms/);
});

test('an unreadable lock is respected while recent, taken over once old', (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  fs.writeFileSync(file, '');
  const a = makeLock(t, file);
  a.lock.start();
  assert.equal(a.lock.isHolder(), false);
  a.lock.dispose();
  const past = new Date(Date.now() - 10_000);
  fs.utimesSync(file, past, past);
  const b = makeLock(t, file);
  b.lock.start();
  assert.equal(b.lock.isHolder(), true);
});

test('replaceStaleLock removes exactly the lock judged stale, never a fresh one that replaced it', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'w.lock');
  const isStale = () => false;

  const staleRaw = writeRecord(file, { token: 'stale', heartbeat: 1 });
  assert.equal(replaceStaleLock(file, staleRaw, 'me', isStale), 'removed');
  assert.equal(fs.existsSync(file), false);

  // Another contender already removed it: nothing to do but try to create.
  assert.equal(replaceStaleLock(file, staleRaw, 'me', isStale), 'gone');

  // The race: we judged `stale`, but a faster contender replaced it with its fresh lock.
  const freshRaw = writeRecord(file, { token: 'fresh' });
  assert.equal(replaceStaleLock(file, staleRaw, 'me', isStale), 'restored');
  assert.equal(readLockFile(file)?.raw, freshRaw);
  assert.deepEqual(fs.readdirSync(dir), ['w.lock'], 'no grave or temp left');
});

test('two contenders racing on the same stale lock: exactly one holds it', (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  for (let round = 0; round < 50; round++) {
    writeRecord(file, { hostname: os.hostname(), pid: 4_000_000, token: `dead-${round}` });
    // Interleave by hand: both judge the same stale lock before either acts.
    const judged = readLockFile(file);
    assert.ok(judged);
    const a = makeLock(t, file, { isProcessAlive: (pid) => pid !== 4_000_000 });
    const b = makeLock(t, file, { isProcessAlive: (pid) => pid !== 4_000_000 });
    // A wins the whole takeover first…
    a.lock.start();
    assert.equal(a.lock.isHolder(), true);
    // …then B acts on its stale judgment: it must put A's lock back, not delete it.
    assert.equal(replaceStaleLock(file, judged.raw, 'b-token', () => false), 'restored');
    b.lock.start();
    assert.equal(b.lock.isHolder(), false);
    assert.equal([a, b].filter((x) => x.lock.isHolder()).length, 1);
    a.lock.dispose();
    b.lock.dispose();
    fs.rmSync(file, { force: true });
  }
});

test('a holder whose lock was taken over steps down on its next heartbeat', async (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  const { lock, changes, logger } = makeLock(t, file);
  lock.start();
  writeRecord(file, { hostname: os.hostname(), pid: process.ppid, token: 'thief' });
  await until(() => !lock.isHolder(), 1000);
  assert.deepEqual(changes, [true, false]);
  assert.match(logger.text(), /no longer holder \(taken over by pid/);
  assert.equal(readLockFile(file)?.record?.token, 'thief', 'the new holder is left alone');
});

test('a holder stops claiming the lock before others may take it (paused process), then re-acquires safely', async (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  let skew = 0; // simulated time the process spent paused
  const { lock, changes } = makeLock(t, file, { now: () => Date.now() + skew, heartbeatMs: 100, staleMs: 300 });
  lock.start();
  assert.equal(lock.isHolder(), true);
  // Claim deadline = staleMs - min(500, (staleMs - heartbeatMs) / 2) = 200 ms after the last heartbeat.
  skew = 250; // past the deadline, before staleMs: others may take over any moment now
  assert.equal(lock.isHolder(), false, 'no write may start this close to a possible takeover');
  // Nobody took it: the next heartbeat re-acquires through the exclusive path.
  await until(() => lock.isHolder(), 1000);
  assert.deepEqual(changes, [true, false, true]);
});

test('recreates its lock file if it disappears while holding', async (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  const { lock, changes } = makeLock(t, file);
  lock.start();
  fs.rmSync(file);
  await until(() => fs.existsSync(file), 1000);
  assert.equal(lock.isHolder(), true);
  assert.deepEqual(changes, [true]);
});

test('creates the lock folder; rejects staleMs <= heartbeatMs', (t) => {
  const file = path.join(tempDir(t), 'nested', 'dir', 'w.lock');
  const { lock } = makeLock(t, file);
  lock.start();
  assert.equal(lock.isHolder(), true);
  assert.throws(() => new WriterLock({ path: file, ownerLabel: 'x', logger: new MemoryLogger(), heartbeatMs: 1000, staleMs: 1000 }), /staleMs/);
});

test('errors are logged once per kind, never thrown', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'file'), '');
  const { lock, logger } = makeLock(t, path.join(dir, 'file', 'w.lock'));
  lock.start();
  await sleep(350);
  assert.equal(lock.isHolder(), false);
  const warnings = logger.records.filter((r) => r.level === 'warn' && r.message.includes('cannot acquire'));
  assert.equal(warnings.length, 1, logger.text());
});

test('dispose leaves no timer or watcher running and removes the lock', async (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  await sleep(0);
  const before = activeResources();
  const a = makeLock(t, file);
  const b = makeLock(t, file);
  a.lock.start();
  b.lock.start();
  const during = activeResources();
  assert.ok((during.Timeout ?? 0) >= (before.Timeout ?? 0) + 2);
  assert.ok((during.FSEventWrap ?? 0) >= (before.FSEventWrap ?? 0) + 2);
  b.lock.dispose();
  a.lock.dispose();
  await sleep(20);
  const after = activeResources();
  assert.equal(after.Timeout ?? 0, before.Timeout ?? 0, JSON.stringify(after));
  assert.equal(after.FSEventWrap ?? 0, before.FSEventWrap ?? 0, JSON.stringify(after));
  assert.equal(fs.existsSync(file), false);
  assert.deepEqual(fs.readdirSync(path.dirname(file)), []);
});

test('heartbeats rewrite the same file in place: no rename, no temp file, the holder record stays whole', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'w.lock');
  const { lock } = makeLock(t, file, { heartbeatMs: 50, staleMs: 300 });
  lock.start();
  const ino = fs.statSync(file).ino;
  const first = readWriterLock(file)?.heartbeat ?? 0;
  await until(() => (readWriterLock(file)?.heartbeat ?? 0) > first + 100, 2000);
  assert.equal(fs.statSync(file).ino, ino, 'same inode after several beats');
  assert.deepEqual(fs.readdirSync(dir), ['w.lock']);
  assert.equal(lock.isHolder(), true);
});

test('refreshOwnLock writes only over our own token; a longer old content is cut to the new record', (t) => {
  const file = path.join(tempDir(t), 'w.lock');
  assert.deepEqual(refreshOwnLock(file, 'mine', '{}'), { written: false }, 'no file: nothing created');
  assert.equal(fs.existsSync(file), false);
  const foreign = writeRecord(file, { token: 'other' });
  const r = refreshOwnLock(file, 'mine', 'x');
  assert.equal(r.written, false);
  assert.equal(r.found?.record?.token, 'other');
  assert.equal(fs.readFileSync(file, 'utf8'), foreign, 'a contender’s lock is never overwritten');
  writeRecord(file, { token: 'mine', owner: 'a much longer owner label than the next record has'.repeat(4) });
  const next = JSON.stringify({ pid: 1, hostname: 'h', owner: 'o', heartbeat: Date.now(), token: 'mine', acquiredAt: 0 }) + '\n';
  assert.deepEqual(refreshOwnLock(file, 'mine', next), { written: true });
  assert.equal(fs.readFileSync(file, 'utf8'), next);
  fs.writeFileSync(file, '{"token":"mine", garbage');
  assert.equal(refreshOwnLock(file, 'mine', next).written, false, 'unparseable: not provably ours');
});
