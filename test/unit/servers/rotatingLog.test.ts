import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, test } from 'node:test';
import { RotatingLog, serverLogFile } from '../../../src/core/servers/rotatingLog';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-rotlog-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const fixedNow = () => new Date('2025-01-02T03:04:05.678Z');

test('timestamped lines, folder created on first write', () => {
  const file = path.join(dir, 'logs', 'a.log');
  const log = new RotatingLog(file, { now: fixedNow });
  assert.equal(fs.existsSync(file), false);
  log.write('spawned pid 1');
  log.write('two\nlines');
  log.close();
  assert.equal(fs.readFileSync(file, 'utf8'), '2025-01-02T03:04:05.678Z spawned pid 1\n2025-01-02T03:04:05.678Z two ⏎ lines\n');
});

test('rotates to .1 at the cap and keeps one old file', () => {
  const file = path.join(dir, 'b.log');
  const log = new RotatingLog(file, { maxBytes: 1_000, now: fixedNow });
  const line = 'x'.repeat(74); // 100 bytes with the timestamp, space and newline
  for (let i = 0; i < 35; i++) log.write(`${line}`);
  log.close();
  const current = fs.statSync(file).size;
  const rotated = fs.statSync(`${file}.1`).size;
  assert.ok(current <= 1_000 && rotated <= 1_000, `${current} ${rotated}`);
  assert.equal(rotated, 1_000);
  assert.equal(current, 500); // 35 lines = 10 + 10 (rotated away) + 10 (.1) + 5
  assert.equal(fs.existsSync(`${file}.2`), false);
});

test('keep: 2 shifts .1 to .2', () => {
  const file = path.join(dir, 'c.log');
  const log = new RotatingLog(file, { maxBytes: 300, keep: 2, now: fixedNow });
  for (let i = 0; i < 10; i++) log.write(`line ${i} ${'y'.repeat(60)}`);
  log.close();
  const all = [file, `${file}.1`, `${file}.2`].map((f) => fs.readFileSync(f, 'utf8'));
  assert.match(all[0]!, /line 9 /);
  assert.match(all[2]!, /line [0-9] /);
  assert.equal(fs.existsSync(`${file}.3`), false);
});

test('appends to an existing file and counts its size toward the cap', () => {
  const file = path.join(dir, 'd.log');
  fs.writeFileSync(file, 'z'.repeat(979) + '\n');
  const log = new RotatingLog(file, { maxBytes: 1_000, now: fixedNow });
  log.write('next');
  log.close();
  assert.equal(fs.readFileSync(`${file}.1`, 'utf8').length, 980);
  assert.equal(fs.readFileSync(file, 'utf8'), '2025-01-02T03:04:05.678Z next\n');
});

test('a huge line is cut, never fills a file by itself', () => {
  const file = path.join(dir, 'e.log');
  const log = new RotatingLog(file, { maxBytes: 4_000, now: fixedNow });
  log.write('h'.repeat(100_000));
  log.close();
  const text = fs.readFileSync(file, 'utf8');
  assert.ok(text.length < 1_200, String(text.length));
  assert.match(text, /chars cut\]\n$/);
});

test('an unwritable log reports once and goes quiet, close() lets it retry', () => {
  const blocker = path.join(dir, 'not-a-dir');
  fs.writeFileSync(blocker, '');
  const errors: unknown[] = [];
  const log = new RotatingLog(path.join(blocker, 'f.log'), { onError: (e) => errors.push(e) });
  log.write('a');
  log.write('b');
  assert.equal(errors.length, 1);
  log.close();
  log.write('c');
  assert.equal(errors.length, 2);
});

test('serverLogFile: id, a safe folder basename and a hash of the folder', () => {
  const name = (id: string, folder: string) => path.basename(serverLogFile('/logs', id, folder));
  assert.match(name('srv-1', '/home/me/my repo'), /^srv-1-my_repo-[0-9a-f]{8}\.log$/);
  assert.match(name('srv-2', '/home/me/proj/'), /^srv-2-proj-[0-9a-f]{8}\.log$/);
  assert.equal(name('srv-2', '/home/me/proj/'), name('srv-2', '/home/me/proj'), 'a trailing slash is the same folder');
  assert.match(name('srv-3', '/'), /^srv-3-root-[0-9a-f]{8}\.log$/);
  assert.match(name('srv-4', '/x/..hidden'), /^srv-4-_hidden-[0-9a-f]{8}\.log$/);
  assert.match(name('srv-5', '/x/ümlaut:*?'), /^srv-5-_mlaut_-[0-9a-f]{8}\.log$/);
  assert.notEqual(name('srv-1', '/a/api'), name('srv-1', '/b/api'), 'same basename, other folder: other file');
  assert.equal(path.dirname(serverLogFile('/logs', 'srv-1', '/a/api')), '/logs');
  assert.ok(name('srv-6', `/x/${'n'.repeat(300)}`).length <= 80);
});

test('a symlink planted at the log path is refused with a clear message, not followed', () => {
  const target = path.join(dir, 'victim.txt');
  fs.writeFileSync(target, 'precious\n');
  const file = path.join(dir, 'planted.log');
  fs.symlinkSync(target, file);
  const errors: string[] = [];
  const log = new RotatingLog(file, { onError: (e) => errors.push((e as Error).message) });
  assert.equal(log.write('secret line'), false);
  assert.equal(log.write('another'), false);
  assert.equal(fs.readFileSync(target, 'utf8'), 'precious\n');
  assert.equal(errors.length, 1, 'reported once');
  assert.match(errors[0]!, /planted\.log is a symbolic link: refusing to follow it/);
  // A dangling symlink is not created through either.
  const dangling = path.join(dir, 'dangling.log');
  fs.symlinkSync(path.join(dir, 'would-be-created'), dangling);
  assert.equal(new RotatingLog(dangling).write('x'), false);
  assert.equal(fs.existsSync(path.join(dir, 'would-be-created')), false);
});

test('a FIFO at the log path is refused at once instead of blocking', (t) => {
  const fifo = path.join(dir, 'fifo.log');
  const made = spawnSync('mkfifo', [fifo]);
  if (made.status !== 0) return t.skip('mkfifo not available');
  const errors: string[] = [];
  assert.equal(new RotatingLog(fifo, { onError: (e) => errors.push((e as Error).message) }).write('x'), false);
  assert.match(errors[0]!, /not a regular file/);
});

test("another user's file at the log path is refused; our own is tightened to 0600", (t) => {
  const own = path.join(dir, 'own.log');
  fs.writeFileSync(own, 'old\n', { mode: 0o644 });
  fs.chmodSync(own, 0o644);
  const log = new RotatingLog(own, { now: fixedNow });
  assert.equal(log.write('new'), true);
  log.close();
  assert.equal(fs.statSync(own).mode & 0o777, 0o600);
  assert.equal(fs.readFileSync(own, 'utf8'), 'old\n2025-01-02T03:04:05.678Z new\n');
  if (process.getuid?.() !== 0) return t.skip('chown to another user needs root');
  const foreign = path.join(dir, 'foreign.log');
  fs.writeFileSync(foreign, 'theirs\n');
  fs.chownSync(foreign, 65534, 65534);
  const errors: string[] = [];
  assert.equal(new RotatingLog(foreign, { onError: (e) => errors.push((e as Error).message) }).write('x'), false);
  assert.match(errors[0]!, /belongs to another user \(uid 65534/);
  assert.equal(fs.readFileSync(foreign, 'utf8'), 'theirs\n');
});

test('timestamps: false writes the lines as given (the daemon logger stamps its own)', () => {
  const file = path.join(dir, 'plain.log');
  const log = new RotatingLog(file, { timestamps: false });
  log.write('2025-01-01T00:00:00.000Z [info] hello');
  log.close();
  assert.equal(fs.readFileSync(file, 'utf8'), '2025-01-01T00:00:00.000Z [info] hello\n');
});
