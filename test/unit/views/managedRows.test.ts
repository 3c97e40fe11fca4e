import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PresentedTree } from '../../../src/core/present/tree';
import { nodeId, presentTree } from '../../../src/core/present/tree';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

function node(tree: PresentedTree, id: string) {
  const n = tree.nodes.get(id);
  assert.ok(n, `no row ${id}`);
  return n;
}

const managed = (over: Record<string, unknown> = {}) =>
  makeInstance({
    id: 'managed:srv-1',
    cwd: '/home/me/src/api',
    managed: { serverId: 'srv-1', state: 'running', folder: '/home/me/src/api', runningSince: NOW - 5 * 60_000, restarts: 0, logFile: '/logs/srv-1-api.log', passwordProtected: false, ...over },
  });

describe('managed server rows', () => {
  test('running: marked managed, Stop/Restart context, uptime only on hover', () => {
    const tree = presentTree(makeSnapshot([managed()], [makeSession({ instanceId: 'managed:srv-1' })]), NOW);
    const row = node(tree, nodeId.instance('managed:srv-1'));
    assert.equal(row.label, 'api:52341');
    assert.equal(row.description, '1 busy · managed');
    assert.equal(row.contextValue, 'instance+connected+managed');
    assert.deepEqual(row.icon, { id: 'server-process', color: 'charts.green' });
    assert.match(row.tooltip, /started by OpenCode Monitor/);
    assert.match(row.tooltip, /Log.*srv-1-api\.log/);
    assert.match(row.tooltip, /Running since.*\(up 5m\)/);
    // Seconds passing do not change the row (no refresh, no flicker of its inline buttons); a minute does.
    const present = (at: number) => node(presentTree(makeSnapshot([managed()], [makeSession({ instanceId: 'managed:srv-1' })]), at), nodeId.instance('managed:srv-1')).tooltip;
    assert.equal(present(NOW + 30_000), row.tooltip);
    assert.match(present(NOW + 60_000), /\(up 6m\)/);
  });

  test('starting: spinner, no port yet is not "no port"', () => {
    const starting = { ...managed({ state: 'starting', runningSince: undefined }), port: undefined, url: undefined, connection: 'connecting' as const, error: 'starting' };
    const tree = presentTree(makeSnapshot([starting], []), NOW);
    const row = node(tree, nodeId.instance('managed:srv-1'));
    assert.equal(row.label, 'api');
    assert.equal(row.description, 'starting… · managed');
    assert.deepEqual(row.icon, { id: 'loading~spin' });
    assert.equal(row.contextValue, 'instance+connecting+managed');
    assert.doesNotMatch(row.tooltip, /Running since|\(up /, 'no uptime while not running');
    const notice = node(tree, nodeId.notice('managed:srv-1'));
    assert.deepEqual(notice.icon, { id: 'loading~spin' });
  });

  test('crashed: error icon, reason, notice opens the server log', () => {
    const instance = { ...managed({ state: 'crashed', lastError: 'exited with code 1' }), connection: 'down' as const, error: 'exited with code 1', hint: 'Restart it, or look at its log.' };
    const tree = presentTree(makeSnapshot([instance], []), NOW);
    const row = node(tree, nodeId.instance('managed:srv-1'));
    assert.equal(row.description, 'crashed · managed');
    assert.deepEqual(row.icon, { id: 'error', color: 'problemsErrorIcon.foreground' });
    assert.equal(row.contextValue, 'instance+down+managed');
    const notice = node(tree, nodeId.notice('managed:srv-1'));
    assert.equal(notice.contextValue, 'notice+managed');
    assert.equal(notice.command?.id, 'opencodeMonitor.showServerLog');
  });
});

describe('container rows', () => {
  test('named after the container, marked docker, image in the tooltip', () => {
    const instance = makeInstance({
      id: 'container:3f2a9c1b7d4e',
      kind: 'container',
      label: 'opencode-dev',
      pid: undefined,
      tty: undefined,
      port: 14096,
      url: 'http://127.0.0.1:14096',
      container: { id: '3f2a9c1b7d4e', name: 'opencode-dev', image: 'ghcr.io/acme/opencode:1.18', hostPort: 14096, containerPort: 4096 },
    });
    const tree = presentTree(makeSnapshot([instance], []), NOW);
    const row = node(tree, nodeId.instance('container:3f2a9c1b7d4e'));
    assert.equal(row.label, 'opencode-dev:14096');
    assert.equal(row.description, 'no sessions · docker');
    assert.equal(row.contextValue, 'instance+connected');
    assert.match(row.tooltip, /Image.*ghcr\.io\/acme\/opencode:1\.18/);
    assert.match(row.tooltip, /14096 → 4096/);
  });
});
