import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isInside, scopeSnapshot } from '../../../src/core/present/workspaceScope';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

describe('"This workspace / All" (issue 13)', () => {
  test('inside means the folder or below it, never a sibling that shares its prefix', () => {
    assert.ok(isInside('/work/app', '/work/app', '/'));
    assert.ok(isInside('/work/app/pkg/a', '/work/app/', '/'));
    assert.ok(!isInside('/work/app2', '/work/app', '/'));
    assert.ok(!isInside('/work', '/work/app', '/'));
    assert.ok(!isInside(undefined, '/work/app', '/'));
    assert.ok(isInside('C:\\src\\app\\x', 'C:\\src\\app', '\\'));
  });

  test('keeps the sessions in the folders with their sub-agents and instances, drops the rest', () => {
    const here = makeInstance({ id: 'pid:1', pid: 1, cwd: '/work/app' });
    const elsewhere = makeInstance({ id: 'pid:2', pid: 2, cwd: '/work/other' });
    const remote = makeInstance({ id: 'url:x', pid: undefined, cwd: undefined, kind: 'endpoint' });
    const sessions = [
      makeSession({ id: 'ses_a', instanceId: 'pid:1', directory: '/work/app' }),
      // A sub-agent counts with its parent even when it works elsewhere.
      makeSession({ id: 'ses_a1', instanceId: 'pid:1', parentId: 'ses_a', directory: '/tmp/scratch' }),
      makeSession({ id: 'ses_b', instanceId: 'pid:2', directory: '/work/other' }),
      // A remote server's session in this folder: its instance shows for it.
      makeSession({ id: 'ses_r', instanceId: 'url:x', directory: '/work/app/sub' }),
      makeSession({ id: 'ses_p', instanceId: 'pid:2', directory: '/work/app2' }),
    ];
    const scoped = scopeSnapshot(makeSnapshot([here, elsewhere, remote], sessions), ['/work/app']);
    assert.deepEqual(scoped.sessions.map((s) => s.id).sort(), ['ses_a', 'ses_a1', 'ses_r']);
    assert.deepEqual(scoped.instances.map((i) => i.id), ['pid:1', 'url:x']);
  });

  test('an instance started in the folder shows even before it has sessions; no folders → nothing', () => {
    const here = makeInstance({ id: 'pid:1', pid: 1, cwd: '/work/app/api' });
    assert.deepEqual(scopeSnapshot(makeSnapshot([here], []), ['/work/app']).instances.map((i) => i.id), ['pid:1']);
    assert.equal(scopeSnapshot(makeSnapshot([here], []), []).instances.length, 0);
  });

  test('a parent cycle from a hostile server does not hang', () => {
    const sessions = [
      makeSession({ id: 'ses_x', parentId: 'ses_y', directory: '/work/app' }),
      makeSession({ id: 'ses_y', parentId: 'ses_x', directory: '/elsewhere' }),
    ];
    const scoped = scopeSnapshot(makeSnapshot([makeInstance()], sessions), ['/work/app']);
    assert.ok(scoped.sessions.length <= 2);
  });
});
