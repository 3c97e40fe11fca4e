import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectTree, parsePsTable } from '../../../src/core/servers/processTable';
import { opencodePidFromEnviron } from '../../../src/core/os/environ';
import type { ProcEntry } from '../../../src/core/servers/processTable';

const p = (pid: number, ppid: number, pgid: number, extra: Partial<ProcEntry> = {}): ProcEntry => ({ pid, ppid, pgid, state: 'S', ...extra });

test('parsePsTable reads padded columns and skips junk', () => {
  const out = '    1     0     1 Ss\n  512     1   512 S+\n  513   512   512 Z\nbad line\n';
  assert.deepEqual(parsePsTable(out), [p(1, 0, 1, { state: 'S' }), p(512, 1, 512, { state: 'S' }), p(513, 512, 512, { state: 'Z' })]);
});

test('opencodePidFromEnviron finds the variable anywhere, and only that one', () => {
  assert.equal(opencodePidFromEnviron('HOME=/h\0OPENCODE_PID=4242\0OPENCODE=1\0'), 4242);
  assert.equal(opencodePidFromEnviron('OPENCODE_PID=7'), 7);
  assert.equal(opencodePidFromEnviron('X_OPENCODE_PID=9\0HOME=/h'), undefined);
  assert.equal(opencodePidFromEnviron('OPENCODE_PID=abc\0'), undefined);
  assert.equal(opencodePidFromEnviron(''), undefined);
});

test('collectTree: group, descendants, setsid tool children by OPENCODE_PID and theirs, no zombies', () => {
  const procs: ProcEntry[] = [
    p(1, 0, 1),
    p(100, 1, 100), // the server
    p(101, 100, 100), // same group
    p(102, 101, 100),
    p(200, 100, 200, { opencodePid: 100 }), // tool child, own session
    p(201, 200, 200, { opencodePid: 100 }),
    p(300, 1, 300, { opencodePid: 100 }), // re-parented tool child
    p(301, 300, 301), // its child, scrubbed env, own group
    p(400, 1, 100), // a group member whose parent died
    p(500, 1, 500, { opencodePid: 999 }), // another server's
    p(600, 1, 600), // unrelated
    p(103, 100, 100, { state: 'Z' }),
    p(700, 102, 700, { opencodePid: 102 }), // a tool child of a nested opencode (wrapper case)
  ];
  const pids = collectTree(100, procs).map((e) => e.pid).sort((a, b) => a - b);
  assert.deepEqual(pids, [101, 102, 200, 201, 300, 301, 400, 700]);
});

test('collectTree of a pid that is gone still finds what carries its mark', () => {
  const procs = [p(1, 0, 1), p(300, 1, 300, { opencodePid: 100 }), p(301, 300, 300)];
  assert.deepEqual(collectTree(100, procs).map((e) => e.pid), [300, 301]);
  assert.deepEqual(collectTree(1, procs), [], 'pid 1 never owns a group we would signal');
});
