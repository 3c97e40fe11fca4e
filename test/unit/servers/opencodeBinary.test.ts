import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { NOT_FOUND_MESSAGE, resolveOpencodeBinary } from '../../../src/core/servers/serverManager';

let dir: string;
let binA: string;
let binB: string;
let plainFile: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-bin-'));
  binA = path.join(dir, 'a');
  binB = path.join(dir, 'b');
  fs.mkdirSync(binA);
  fs.mkdirSync(binB);
  fs.writeFileSync(path.join(binB, 'opencode'), '#!/bin/sh\n', { mode: 0o755 });
  // Not executable: skipped on PATH, refused as a setting.
  plainFile = path.join(binA, 'opencode');
  fs.writeFileSync(plainFile, 'not a program', { mode: 0o644 });
  fs.writeFileSync(path.join(dir, 'custom-opencode'), '#!/bin/sh\n', { mode: 0o755 });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const posix = process.platform !== 'win32';

test('PATH: the first executable opencode, skipping non-executable files and relative entries', { skip: !posix }, () => {
  const env = { PATH: ['', 'relative/bin', binA, binB].join(':') };
  assert.equal(resolveOpencodeBinary(undefined, env, 'linux'), path.join(binB, 'opencode'));
  assert.equal(resolveOpencodeBinary('', env, 'linux'), path.join(binB, 'opencode'));
  assert.equal(resolveOpencodeBinary('   ', env, 'darwin'), path.join(binB, 'opencode'));
});

test('none on PATH (or no PATH): the clear error', () => {
  assert.throws(() => resolveOpencodeBinary(undefined, { PATH: binA }, 'linux'), { message: NOT_FOUND_MESSAGE });
  assert.throws(() => resolveOpencodeBinary(undefined, {}, 'linux'), { message: NOT_FOUND_MESSAGE });
  assert.equal(NOT_FOUND_MESSAGE, 'OpenCode not found: set opencodeMonitor.opencodePath or put opencode on PATH');
});

test('the setting wins over PATH and must exist and be executable', { skip: !posix }, () => {
  const env = { PATH: binB, HOME: dir };
  const custom = path.join(dir, 'custom-opencode');
  assert.equal(resolveOpencodeBinary(custom, env, 'linux'), custom);
  assert.equal(resolveOpencodeBinary(`  ${custom}  `, env, 'linux'), custom);
  assert.equal(resolveOpencodeBinary('~/custom-opencode', env, 'linux'), custom);
  assert.throws(() => resolveOpencodeBinary(path.join(dir, 'missing'), env, 'linux'), /OpenCode not found: ".*missing" \(opencodeMonitor\.opencodePath\) does not exist/);
  assert.throws(() => resolveOpencodeBinary(plainFile, env, 'linux'), /is not executable/);
  assert.throws(() => resolveOpencodeBinary(binA, env, 'linux'), /is a folder/);
});

test('a bare name in the setting is looked up on PATH', { skip: !posix }, () => {
  assert.equal(resolveOpencodeBinary('opencode', { PATH: binB }, 'linux'), path.join(binB, 'opencode'));
  assert.throws(() => resolveOpencodeBinary('opencode-nightly', { PATH: binB }, 'linux'), /"opencode-nightly" \(opencodeMonitor\.opencodePath\) is not on PATH/);
});

test('Windows: Path in any case, .exe before .cmd, the npm shim resolved to its exe', () => {
  const files = new Set([
    'C:\\tools\\opencode.cmd',
    'C:\\npm\\opencode.cmd',
    'C:\\npm\\node_modules\\opencode-ai\\bin\\opencode.exe',
    'D:\\bin\\opencode.exe',
  ]);
  const probe = (f: string) => files.has(f);
  assert.equal(resolveOpencodeBinary(undefined, { Path: 'D:\\bin;C:\\tools' }, 'win32', probe), 'D:\\bin\\opencode.exe');
  assert.equal(resolveOpencodeBinary(undefined, { path: 'C:\\tools' }, 'win32', probe), 'C:\\tools\\opencode.cmd');
  assert.equal(resolveOpencodeBinary(undefined, { PATH: '"C:\\npm";D:\\bin' }, 'win32', probe), 'C:\\npm\\node_modules\\opencode-ai\\bin\\opencode.exe');
  assert.equal(resolveOpencodeBinary('D:\\bin\\opencode.exe', {}, 'win32', probe), 'D:\\bin\\opencode.exe');
  assert.throws(() => resolveOpencodeBinary(undefined, { Path: 'E:\\none' }, 'win32', probe), { message: NOT_FOUND_MESSAGE });
});
