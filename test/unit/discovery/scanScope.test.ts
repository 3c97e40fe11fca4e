import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { insideRoots, scanRootsFromEnv, scopedScanner, SCAN_ROOT_ENV } from '../../../src/core/discovery/scanScope';
import type { OpencodeProcess } from '../../../src/core/discovery/types';

const proc = (pid: number, cwd: string | undefined): OpencodeProcess => ({ pid, ppid: 1, args: ['opencode', 'serve'], kind: 'serve', ports: [], listeners: [], ...(cwd ? { cwd } : {}) });

test('scan scope: only processes working inside the roots; unknown folders and look-alike prefixes are out', async () => {
  const roots = ['/tmp/ocm-lab-abc'];
  assert.ok(insideRoots('/tmp/ocm-lab-abc', roots));
  assert.ok(insideRoots('/tmp/ocm-lab-abc/projects/acme-api', roots));
  assert.ok(!insideRoots('/tmp/ocm-lab-abcdef/projects/acme-api', roots), 'a sibling with the same prefix');
  assert.ok(!insideRoots('/tmp', roots));
  assert.ok(!insideRoots(undefined, roots));
  const inner = { scan: () => Promise.resolve([proc(1, '/tmp/ocm-lab-abc/projects/a'), proc(2, '/tmp/ocm-lab-xyz/projects/a'), proc(3, undefined)]) };
  assert.deepEqual((await scopedScanner(inner, roots).scan()).map((p) => p.pid), [1]);
});

test('scan scope from the environment: unset or relative → none; folders separated like PATH, real paths', () => {
  assert.equal(scanRootsFromEnv({}), undefined);
  assert.equal(scanRootsFromEnv({ [SCAN_ROOT_ENV]: '' }), undefined);
  assert.equal(scanRootsFromEnv({ [SCAN_ROOT_ENV]: 'relative/dir' }), undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-scope-'));
  try {
    const link = `${dir}-link`;
    fs.symlinkSync(dir, link);
    try {
      assert.deepEqual(scanRootsFromEnv({ [SCAN_ROOT_ENV]: [link, '/nowhere/x'].join(path.delimiter) }), [fs.realpathSync(dir), '/nowhere/x']);
    } finally {
      fs.rmSync(link);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
