import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PermissionModel } from '../../../src/core/model/model';
import { IncidentTracker, incidentMessage, nextNeedingYou, sessionsNeedingYou } from '../../../src/core/present/attention';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

function permission(id: string, sessionId = 'ses_4b2f'): PermissionModel {
  return { id, sessionId, permission: 'bash', patterns: ['npm test'], command: 'npm test', always: [], askedAt: NOW };
}

describe('sessions needing you', () => {
  const snapshot = makeSnapshot(
    [makeInstance()],
    [
      makeSession({ id: 'late', needsAttention: true, waitingSince: NOW - 1_000 }),
      makeSession({ id: 'busy' }),
      makeSession({ id: 'early', needsAttention: true, waitingSince: NOW - 60_000 }),
    ],
  );

  test('longest waiting first', () => {
    assert.deepEqual(sessionsNeedingYou(snapshot).map((s) => s.id), ['early', 'late']);
  });

  test('next walks them and wraps around', () => {
    assert.equal(nextNeedingYou(snapshot)?.id, 'early');
    assert.equal(nextNeedingYou(snapshot, 'early')?.id, 'late');
    assert.equal(nextNeedingYou(snapshot, 'late')?.id, 'early');
    assert.equal(nextNeedingYou(snapshot, 'gone')?.id, 'early');
    assert.equal(nextNeedingYou(makeSnapshot([makeInstance()], [])), undefined);
  });
});

describe('IncidentTracker', () => {
  test('one incident per new permission, none while it stays pending', () => {
    const tracker = new IncidentTracker();
    const waiting = makeSession({ needsAttention: true, attentionReason: 'permission', permissions: [permission('per_1')] });
    const first = tracker.update(makeSnapshot([makeInstance()], [waiting]));
    assert.equal(first.length, 1);
    assert.equal(first[0]?.kind, 'needsYou');
    assert.equal(first[0]?.kind === 'needsYou' ? first[0].permission?.id : undefined, 'per_1');
    assert.deepEqual(tracker.update(makeSnapshot([makeInstance()], [waiting])), []);
    // A second request of the same session is a new incident.
    const second = makeSession({ needsAttention: true, permissions: [permission('per_1'), permission('per_2')] });
    const next = tracker.update(makeSnapshot([makeInstance()], [second]));
    assert.equal(next.length, 1);
    assert.equal(next[0]?.kind === 'needsYou' ? next[0].permission?.id : undefined, 'per_2');
  });

  test('answered then asked again: a new incident', () => {
    const tracker = new IncidentTracker();
    const waiting = makeSession({ needsAttention: true, waitingSince: NOW });
    assert.equal(tracker.update(makeSnapshot([makeInstance()], [waiting])).length, 1);
    assert.equal(tracker.update(makeSnapshot([makeInstance()], [makeSession()])).length, 0);
    assert.equal(tracker.update(makeSnapshot([makeInstance()], [makeSession({ needsAttention: true, waitingSince: NOW + 5_000 })])).length, 1);
  });

  test('finished: a busy root session going idle; not sub-agents, not on the first look', () => {
    const tracker = new IncidentTracker();
    assert.deepEqual(tracker.update(makeSnapshot([makeInstance()], [makeSession({ status: 'idle' })])), []);
    tracker.update(makeSnapshot([makeInstance()], [makeSession({ id: 'root' }), makeSession({ id: 'child', parentId: 'root' })]));
    const done = tracker.update(makeSnapshot([makeInstance()], [makeSession({ id: 'root', status: 'idle' }), makeSession({ id: 'child', parentId: 'root', status: 'idle' })]));
    assert.deepEqual(done.map((i) => [i.kind, i.session.id]), [['finished', 'root']]);
  });

  test('a server that stops answering does not "finish" its busy sessions; idle once it answers again does', () => {
    const tracker = new IncidentTracker();
    tracker.update(makeSnapshot([makeInstance()], [makeSession({ id: 'root' })]));
    assert.deepEqual(tracker.update(makeSnapshot([makeInstance()], [makeSession({ id: 'root', status: 'idle', stale: true })])), []);
    assert.deepEqual(tracker.update(makeSnapshot([makeInstance()], [makeSession({ id: 'root', status: 'idle', stale: true })])), []);
    const back = tracker.update(makeSnapshot([makeInstance()], [makeSession({ id: 'root', status: 'idle' })]));
    assert.deepEqual(back.map((i) => [i.kind, i.session.id]), [['finished', 'root']]);
  });
});

describe('incident messages', () => {
  test('permission, question, heuristic, finished', () => {
    const session = makeSession();
    assert.equal(
      incidentMessage({ kind: 'needsYou', session, permission: permission('p') }),
      'OpenCode session “Refactor parser” asks permission to run bash: npm test',
    );
    assert.equal(
      incidentMessage({ kind: 'needsYou', session, question: { id: 'q', sessionId: session.id, askedAt: NOW, questions: [{ question: 'Which DB?', options: [] }] } }),
      'OpenCode session “Refactor parser” asks: Which DB?',
    );
    assert.equal(
      incidentMessage({ kind: 'needsYou', session: makeSession({ runningTools: [{ callID: 'c', name: 'bash', arg: 'x' }] }) }),
      'OpenCode session “Refactor parser” may be waiting for permission (bash running).',
    );
    assert.equal(incidentMessage({ kind: 'finished', session }), 'OpenCode session “Refactor parser” finished.');
    assert.equal(incidentMessage({ kind: 'finished', session: makeSession({ lastError: 'aborted' }) }), 'OpenCode session “Refactor parser” stopped: aborted');
  });
});
