import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileSignature } from '../../../src/core/util/fileSignature';

test('fileSignature: `missing` for an absent file, a path under a file and an unreadable folder; changes when the file does', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-sig-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'labels.json');
  assert.equal(fileSignature(file), 'missing');
  assert.equal(fileSignature(path.join(dir, 'nope', 'deeper.json')), 'missing');
  fs.writeFileSync(file, '{}');
  const first = fileSignature(file);
  assert.notEqual(first, 'missing');
  assert.equal(fileSignature(path.join(file, 'child')), 'missing', 'ENOTDIR is missing too');
  fs.writeFileSync(file, '{"a":1}');
  assert.notEqual(fileSignature(file), first, 'a rewrite with another size changes it');
  // Replaced by another file (a new inode), as atomic writers do.
  const next = path.join(dir, 'next.json');
  fs.writeFileSync(next, '{"a":1}');
  const before = fileSignature(file);
  fs.renameSync(next, file);
  assert.notEqual(fileSignature(file), before);
  if (process.getuid?.() !== 0) {
    const locked = path.join(dir, 'locked');
    fs.mkdirSync(locked);
    fs.writeFileSync(path.join(locked, 'x'), '');
    fs.chmodSync(locked, 0o000);
    t.after(() => fs.chmodSync(locked, 0o700));
    assert.equal(fileSignature(path.join(locked, 'x')), 'missing', 'EACCES is reported as missing, not thrown');
  }
});
