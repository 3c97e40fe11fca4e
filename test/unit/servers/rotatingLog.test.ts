import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

test('serverLogFile: id and a safe folder basename', () => {
  assert.equal(serverLogFile('/logs', 'srv-1', '/home/me/my repo'), path.join('/logs', 'srv-1-my_repo.log'));
  assert.equal(serverLogFile('/logs', 'srv-2', '/home/me/proj/'), path.join('/logs', 'srv-2-proj.log'));
  assert.equal(serverLogFile('/logs', 'srv-3', '/'), path.join('/logs', 'srv-3-root.log'));
  assert.equal(serverLogFile('/logs', 'srv-4', '/x/..hidden'), path.join('/logs', 'srv-4-_hidden.log'));
  assert.equal(serverLogFile('/logs', 'srv-5', '/x/ümlaut:*?'), path.join('/logs', 'srv-5-_mlaut_.log'));
  assert.ok(path.basename(serverLogFile('/logs', 'srv-6', `/x/${'n'.repeat(300)}`)).length <= 70);
});
