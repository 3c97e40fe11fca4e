/**
 * One counting rule everywhere (issue 18, item 5): the shared count function, and every view
 * that shows a count (status bar text, its tooltip, view badge source, instance row, CLI table,
 * `status --json`) agreeing with it on the same snapshot.
 */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { classifyRoots, countSessions } from '../../../src/core/model/counts';
import { presentStatus } from '../../../src/core/present/statusText';
import { instanceDescription } from '../../../src/core/present/instanceRows';
import { renderTable } from '../../../src/cli/table';
import { toStatusJson } from '../../../src/cli/statusJson';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

/** Two instances: a parent and its busy sub-agent, a parent whose sub-agent waits, an idle one, a stale one. */
function fleet() {
  const a = makeInstance({ id: 'pid:1', pid: 1, port: 1001, url: 'http://127.0.0.1:1001', cwd: '/w/a' });
  const b = makeInstance({ id: 'pid:2', pid: 2, port: 1002, url: 'http://127.0.0.1:1002', cwd: '/w/b' });
  const sessions = [
    makeSession({ id: 'ses_p1', instanceId: 'pid:1', status: 'busy' }),
    makeSession({ id: 'ses_c1', instanceId: 'pid:1', parentId: 'ses_p1', status: 'busy' }),
    makeSession({ id: 'ses_p2', instanceId: 'pid:1', status: 'busy' }),
    makeSession({ id: 'ses_c2', instanceId: 'pid:1', parentId: 'ses_p2', status: 'busy', needsAttention: true, attentionReason: 'permission', waitingSince: NOW - 1000 }),
    makeSession({ id: 'ses_idle', instanceId: 'pid:2', status: 'idle' }),
    makeSession({ id: 'ses_done', instanceId: 'pid:2', parentId: 'ses_idle', status: 'idle' }),
    makeSession({ id: 'ses_stale', instanceId: 'pid:2', status: 'idle', stale: true }),
    // Its parent is not shown: it counts as top-level.
    makeSession({ id: 'ses_orphan', instanceId: 'pid:2', parentId: 'ses_gone', status: 'retry' }),
  ];
  return makeSnapshot([a, b], sessions);
}

describe('the one counting rule', () => {
  test('top-level sessions only; a tree needs you if any of it waits, else is busy if any of it works; stale counts nowhere', () => {
    const snap = fleet();
    assert.deepEqual(countSessions(snap.sessions), { sessions: 5, busy: 2, needsYou: 1 });
    const states = Object.fromEntries(classifyRoots(snap.sessions).map((r) => [r.session.id, r.state]));
    assert.deepEqual(states, { ses_p1: 'busy', ses_p2: 'needsYou', ses_idle: 'idle', ses_stale: 'idle', ses_orphan: 'busy' });
  });

  test('an idle parent with a busy sub-agent is busy; a cycle of parents terminates', () => {
    const sessions = [
      makeSession({ id: 'ses_p', status: 'idle' }),
      makeSession({ id: 'ses_c', parentId: 'ses_p', status: 'busy' }),
      makeSession({ id: 'ses_x', parentId: 'ses_y', status: 'idle' }),
      makeSession({ id: 'ses_y', parentId: 'ses_x', status: 'busy' }),
    ];
    const counts = countSessions(sessions);
    assert.equal(counts.busy, 2);
    assert.equal(counts.sessions, 2);
  });

  test('status bar, its tooltip, instance rows, CLI table and status --json say the same numbers', () => {
    const snap = fleet();
    const status = presentStatus(snap, NOW);
    assert.equal(status.busy, 2);
    assert.equal(status.needsYou, 1);
    assert.match(status.text, /^\$\(bell\) 1 waiting · 2 busy$/);
    assert.match(status.tooltip, /2 instances · 5 sessions · 2 busy · 1 waiting for you/);
    assert.equal(instanceDescription(snap.instances[0]!, snap.sessions), '1 waiting · 1 busy');
    assert.equal(instanceDescription(snap.instances[1]!, snap.sessions), '1 busy');
    const table = renderTable(snap, { color: false, now: NOW, width: 120, clock: false });
    assert.match(table, /2 instance\(s\), 5 session\(s\), 2 busy {2}1 needs you/);
    assert.deepEqual(toStatusJson(snap, NOW).summary, { instances: 2, sessions: 5, busy: 2, needsAttention: 1 });
  });
});
