/** Issue 14, the tree's live half: a sub-agent row says how long it has run, and what it took once done. */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { presentTree, sessionTooltip } from '../../../src/core/present/tree';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

test('a running sub-agent shows its running time; a finished one keeps its duration; roots unchanged', () => {
  const root = makeSession({ id: 'ses_root', status: 'busy', createdAt: NOW - 600_000, tokens: { input: 1200, output: 300, reasoning: 0, cacheRead: 0, cacheWrite: 0 }, cost: 0.42 });
  const running = makeSession({ id: 'ses_run', parentId: 'ses_root', status: 'busy', runningTools: [], createdAt: NOW - 125_000, updatedAt: NOW - 1_000 });
  const done = makeSession({ id: 'ses_done', parentId: 'ses_root', status: 'idle', runningTools: [], createdAt: NOW - 500_000, updatedAt: NOW - 380_000 });
  const tree = presentTree(makeSnapshot([makeInstance()], [root, running, done]), NOW);
  const row = (id: string) => [...tree.nodes.values()].find((n) => n.ref?.sessionId === id && n.kind === 'session')!;
  assert.equal(row('ses_run').description, 'busy · running 2m');
  assert.equal(row('ses_done').description, 'done in 2m');
  assert.doesNotMatch(row('ses_root').description ?? '', /running \d|done in/);
  assert.match(sessionTooltip(done), /Took:?\** 2m/);
  assert.match(sessionTooltip(root), /Tokens:?\** 1,500/);
  assert.match(sessionTooltip(root), /Cost:?\** \$0\.42/);
});
