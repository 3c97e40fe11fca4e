/**
 * Issue 18 against real OpenCode servers: what the monitor shows must be true.
 * - A server killed mid-work (watched as a configured endpoint, so its row stays, as a remote or
 *   a container's does) stops counting at once: its sessions are stale (unknown), not busy, not
 *   waiting, in the model, the status bar, the tree and the legacy state file.
 * - A finished sub-agent folds into its parent's "finished sub-agents" row.
 * - Attach in Terminal's binary: the running server's own executable runs OpenCode.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { MemoryLogger } from '../../src/core/log';
import { Monitor } from '../../src/core/monitor/monitor';
import type { MonitorSnapshot, SessionModel } from '../../src/core/model/model';
import { countSessions } from '../../src/core/model/counts';
import { presentStatus } from '../../src/core/present/statusText';
import { presentTree, nodeId } from '../../src/core/present/tree';
import { toLegacyState } from '../../src/core/legacy/stateFile';
import { processExecutable } from '../../src/core/os/processExe';
import { createLab, createSession, promptAsync } from '../harness/opencodeLab';
import type { Lab, LabServer } from '../harness/opencodeLab';
import { until } from '../support/untilModel';

describe('what the monitor shows is true (real servers)', { timeout: 240_000 }, () => {
  let lab: Lab;
  let victim: LabServer;
  let survivor: LabServer;
  let monitor: Monitor;
  const logger = new MemoryLogger();
  const urlId = (s: LabServer) => `url:${s.url}`;
  const of = (snap: MonitorSnapshot, s: LabServer): SessionModel[] => snap.sessions.filter((x) => x.instanceId === urlId(s));

  before(async () => {
    lab = await createLab();
    [victim, survivor] = (await lab.startServers(2)) as [LabServer, LabServer];
    monitor = new Monitor({
      logger,
      endpoints: [{ url: victim.url }, { url: survivor.url }],
      streamBackoff: { initialMs: 200, maxMs: 2_000 },
    }).start();
    await until(monitor, (s) => s.instances.length === 2 && s.instances.every((i) => i.connection === 'connected'), 'both servers connected');
  });

  after(async () => {
    await monitor?.dispose();
    await lab?.stopAll();
  });

  it('a finished sub-agent folds into its parent\'s "finished sub-agents" row', async () => {
    const parent = await createSession(survivor, 'delegates');
    await promptAsync(survivor, parent, 'scenario:subagent[sleep 1]');
    const child = await until(monitor, (s) => s.sessions.find((x) => x.parentId === parent), 'sub-agent session');
    // While it works it is a row of its own under the parent.
    await until(monitor, (s) => {
      const tree = presentTree(s, Date.now());
      return tree.nodes.get(nodeId.session(child.id))?.parentId === nodeId.session(parent) && s.sessions.find((x) => x.id === child.id)?.status === 'busy';
    }, 'working sub-agent as its own row', 30_000).catch(() => undefined); // may finish before we look
    await until(monitor, (s) => s.sessions.find((x) => x.id === parent)?.status === 'idle' && s.sessions.find((x) => x.id === child.id)?.status === 'idle', 'parent and sub-agent done');
    const tree = presentTree(monitor.snapshot(), Date.now());
    const fold = tree.nodes.get(nodeId.finished(parent));
    assert.ok(fold, `no "finished sub-agents" row under the parent: ${JSON.stringify(tree.nodes.get(nodeId.session(parent))?.childIds)}`);
    assert.equal(fold.label, '1 finished sub-agent');
    assert.deepEqual(fold.childIds, [nodeId.session(child.id)]);
    assert.ok(!tree.nodes.get(nodeId.session(parent))!.childIds.includes(nodeId.session(child.id)));
  });

  it('a server killed mid-work stops counting at once: stale sessions, out of every count and of the legacy file', async () => {
    const ids = {
      sleep: await createSession(victim, 'victim sleeps'),
      todos: await createSession(victim, 'victim plans'),
      permission: await createSession(victim, 'victim asks'),
      other: await createSession(survivor, 'survivor sleeps'),
    };
    await Promise.all([
      promptAsync(victim, ids.sleep, 'scenario:sleep 30'),
      promptAsync(victim, ids.todos, 'scenario:todos+sleep 30'),
      promptAsync(victim, ids.permission, 'scenario:permission'),
      promptAsync(survivor, ids.other, 'scenario:sleep 30'),
    ]);
    await until(monitor, (s) => {
      const v = countSessions(of(s, victim));
      return v.busy === 2 && v.needsYou === 1 && countSessions(of(s, survivor)).busy === 1;
    }, 'victim 2 busy + 1 waiting, survivor 1 busy');
    const before = monitor.snapshot();
    assert.equal(presentStatus(before, Date.now()).busy, 3);
    assert.equal(presentStatus(before, Date.now()).needsYou, 1);
    // The legacy file's own rule (its contract): a session waiting on a permission is still `busy` there.
    assert.equal(toLegacyState(before, Date.now() / 1000).busy_count, 4);

    await victim.kill9();
    const killed = Date.now();
    await until(monitor, (s) => of(s, victim).length > 0 && of(s, victim).every((x) => x.stale), 'victim sessions stale', 10_000);
    const staleMs = Date.now() - killed;
    console.log(`# kill -9 → the dead server's sessions stale and out of every count: ${staleMs} ms`);
    assert.ok(staleMs <= 2_500, `stale only after ${staleMs} ms`);

    const check = (snap: MonitorSnapshot) => {
      for (const x of of(snap, victim)) {
        assert.equal(x.status, 'idle', `${x.title} still ${x.status}`);
        assert.equal(x.needsAttention, false);
        assert.deepEqual([x.runningTools.length, x.permissions.length, x.questions.length], [0, 0, 0]);
      }
      assert.equal(of(snap, victim).length, 3, 'the sessions stay listed (what they are is still known)');
      const status = presentStatus(snap, Date.now());
      assert.equal(status.busy, 1, status.text);
      assert.equal(status.needsYou, 0, status.text);
      assert.match(status.tooltip, /1 busy · 0 waiting for you/);
      const legacy = toLegacyState(snap, Date.now() / 1000);
      assert.equal(legacy.busy_count, 1);
      assert.equal(legacy.permissions_pending, 0);
      const tree = presentTree(snap, Date.now());
      const row = tree.nodes.get(nodeId.instance(urlId(victim)))!;
      assert.doesNotMatch(row.description ?? '', /busy|waiting/);
      for (const x of of(snap, victim)) assert.match(tree.nodes.get(nodeId.session(x.id))!.description ?? '', /^unknown/);
      assert.ok(![...tree.nodes.values()].some((n) => n.kind === 'permission'), 'no permission row of a dead server');
    };
    check(monitor.snapshot());
    // And it stays so while the monitor retries (no reconciliation brings the old state back).
    await until(monitor, (s) => s.instances.find((i) => i.id === urlId(victim))?.connection === 'down', 'victim down', 15_000);
    const down = monitor.snapshot().instances.find((i) => i.id === urlId(victim))!;
    assert.equal(down.problem?.kind, 'unreachable');
    check(monitor.snapshot());
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 0, logger.text());
  });

  it('Attach in Terminal: the running server\'s own executable is an OpenCode that runs', { skip: process.platform !== 'linux' && 'reads /proc' }, () => {
    const exe = processExecutable(survivor.pid);
    assert.ok(exe, 'no executable found for the running server');
    const version = execFileSync(exe, ['--version'], { encoding: 'utf8', env: lab.env, timeout: 30_000 }).trim();
    assert.match(version, /^1\.18\.33$/m);
  });
});
