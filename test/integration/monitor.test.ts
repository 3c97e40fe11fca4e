/**
 * The monitor against real OpenCode servers: discovery finds them, the model agrees with what
 * the servers themselves answer, a killed server leaves while the others keep updating.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogger } from '../../src/core/log';
import { createMonitor } from '../../src/core/createMonitor';
import type { Monitor } from '../../src/core/monitor/monitor';
import type { InstanceModel, MonitorSnapshot, SessionModel } from '../../src/core/model/model';
import { OpencodeClient } from '../../src/core/opencode/client';
import { createLab, createSession, promptAsync, waitFor } from '../harness/opencodeLab';
import { until } from '../support/untilModel';
import type { Lab, LabServer } from '../harness/opencodeLab';

const T = 30_000;

describe('monitor with real OpenCode servers', { timeout: 300_000 }, () => {
  let lab: Lab;
  let servers: LabServer[];
  let monitor: Monitor;
  const logger = new MemoryLogger();
  const instanceOf = (s: MonitorSnapshot, server: LabServer): InstanceModel | undefined => s.instances.find((i) => i.pid === server.pid);
  const sessionIn = (s: MonitorSnapshot, id: string): SessionModel | undefined => s.sessions.find((x) => x.id === id);

  before(async () => {
    lab = await createLab();
    servers = await lab.startServers(3);
    monitor = createMonitor({ logger, discoveryIntervalMs: 1_000 }).start();
  });

  after(async () => {
    await monitor?.dispose();
    await lab?.stopAll();
  });

  it('discovers every server with pid, port, cwd and version, connected', async () => {
    const started = Date.now();
    const found = await until(
      monitor,
      (s) => servers.every((server) => instanceOf(s, server)?.connection === 'connected') && servers.map((server) => instanceOf(s, server)!),
      'all lab servers connected',
    );
    console.log(`# discovery: ${servers.length} running servers in the model ${Date.now() - started} ms after the monitor started`);
    for (const [i, instance] of found.entries()) {
      const server = servers[i]!;
      assert.equal(instance.id, `pid:${server.pid}`);
      assert.equal(instance.port, server.port);
      assert.equal(instance.url, server.url);
      assert.equal(instance.cwd, server.dir);
      assert.equal(instance.kind, 'serve');
      assert.equal(instance.version, '1.18.33');
      assert.equal(instance.agent, 'opencode');
      assert.equal(instance.capabilities?.permissions, true);
    }
  });

  it('shows a new server within a second of it answering', async () => {
    const extra = await lab.startServer({ name: 'late' });
    const answered = Date.now();
    await until(monitor, (s) => instanceOf(s, extra)?.connection === 'connected', 'late server connected');
    const latency = Date.now() - answered;
    console.log(`# new server answers → connected in the model: ${latency} ms`);
    servers.push(extra);
  });

  it('agrees with the servers on every scenario of the test bed', async () => {
    const [a, b, c] = servers as [LabServer, LabServer, LabServer];
    const ids = {
      sleep: await createSession(a, 'sleep'),
      todos: await createSession(a, 'todos'),
      permission: await createSession(b, 'permission'),
      question: await createSession(b, 'question'),
      subagent: await createSession(c, 'subagent'),
      retry: await createSession(c, 'retry'),
      error: await createSession(c, 'error'),
    };
    const sent = Date.now();
    await promptAsync(a, ids.sleep, 'scenario:sleep 6');
    const busy = await until(monitor, (s) => sessionIn(s, ids.sleep)?.status === 'busy' && Date.now(), 'sleep session busy');
    console.log(`# prompt_async → model shows busy: ${busy - sent} ms`);
    await Promise.all([
      promptAsync(a, ids.todos, 'scenario:todos+sleep 6'),
      promptAsync(b, ids.permission, 'scenario:permission'),
      promptAsync(b, ids.question, 'scenario:question'),
      promptAsync(c, ids.subagent, 'scenario:subagent[sleep 6]'),
      promptAsync(c, ids.retry, 'scenario:error500'),
      promptAsync(c, ids.error, 'scenario:error400'),
    ]);

    const tool = await until(monitor, (s) => sessionIn(s, ids.sleep)?.runningTools.find((t) => t.name === 'bash'), 'running bash tool');
    assert.equal(tool.arg, 'sleep 6');
    assert.equal(typeof tool.startedAt, 'number');

    const todos = await until(monitor, (s) => { const t = sessionIn(s, ids.todos)?.todos; return t && t.total > 0 && t; }, 'todos');
    assert.equal(todos.inProgress, 1);
    assert.ok(todos.currentLabel && todos.nextLabel);

    const permission = await until(monitor, (s) => { const x = sessionIn(s, ids.permission); return x?.needsAttention && x; }, 'permission needs attention');
    assert.equal(permission.attentionReason, 'permission');
    assert.match(permission.permissions[0]?.command ?? '', /^rm -f /);
    assert.equal(permission.instanceId, `pid:${b.pid}`);

    const question = await until(monitor, (s) => { const x = sessionIn(s, ids.question); return x?.needsAttention && x; }, 'question needs attention');
    assert.equal(question.attentionReason, 'question');
    assert.ok((question.questions[0]?.questions[0]?.options.length ?? 0) >= 2);

    const child = await until(monitor, (s) => s.sessions.find((x) => x.parentId === ids.subagent), 'sub-agent session');
    assert.equal(child.instanceId, `pid:${c.pid}`);
    const parent = sessionIn(monitor.snapshot(), ids.subagent)!;
    assert.ok(parent.runningTools.some((t) => t.name === 'task' && t.childSessionId === child.id));

    const retry = await until(monitor, (s) => { const x = sessionIn(s, ids.retry); return x?.status === 'retry' && x; }, 'retry status');
    assert.ok((retry.retry?.attempt ?? 0) >= 1);
    assert.ok(retry.retry?.message);

    const failed = await until(monitor, (s) => { const x = sessionIn(s, ids.error); return x?.status === 'idle' && x.lastError ? x : undefined; }, 'model error');
    assert.match(failed.lastError ?? '', /Error/);

    // The model agrees with each server's own answers right now.
    for (const server of [a, b, c]) {
      const client = new OpencodeClient({ url: server.url });
      try {
        const [status, permissions, questions] = await Promise.all([client.sessionStatus(), client.permissions(), client.questions()]);
        const snap = monitor.snapshot();
        for (const [id, st] of Object.entries(status)) {
          const model = sessionIn(snap, id);
          assert.ok(model, `session ${id} of ${server.url} is in the model`);
          assert.equal(model.status, st.type === 'retry' ? 'retry' : 'busy', `status of ${model.title}`);
        }
        for (const p of permissions) assert.ok(sessionIn(snap, p.sessionID)?.permissions.some((x) => x.id === p.id), `permission ${p.id}`);
        for (const q of questions) assert.ok(sessionIn(snap, q.sessionID)?.questions.some((x) => x.id === q.id), `question ${q.id}`);
      } finally {
        await client.close();
      }
    }

    // Answer through the monitor's actions; the sessions go on and the model follows.
    await monitor.replyPermission(ids.permission, permission.permissions[0]!.id, 'once');
    await monitor.replyQuestion(ids.question, question.questions[0]!.id, [[question.questions[0]!.questions[0]!.options[0]!.label]]);
    await monitor.abort(ids.retry);
    await until(monitor, (s) => [ids.permission, ids.question, ids.retry].every((id) => { const x = sessionIn(s, id); return x && !x.needsAttention && x.status === 'idle'; }), 'answered sessions idle');
    await until(monitor, (s) => sessionIn(s, ids.sleep)?.status === 'idle' && sessionIn(s, ids.sleep)?.runningTools.length === 0, 'sleep done');
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 0, logger.text());
  });

  it('drops a killed server within 2 s while the others keep updating', async () => {
    const victim = servers[1]!;
    const survivor = servers[0]!;
    await victim.kill9();
    const killed = Date.now();
    await until(monitor, (s) => !instanceOf(s, victim) && !s.sessions.some((x) => x.instanceId === `pid:${victim.pid}`), 'killed server gone', 5_000);
    const gone = Date.now() - killed;
    console.log(`# kill -9 → instance removed from the model: ${gone} ms`);
    assert.ok(gone <= 2_500, `removed after ${gone} ms`);
    const id = await createSession(survivor, 'after the kill');
    await promptAsync(survivor, id, 'scenario:sleep 2');
    await until(monitor, (s) => sessionIn(s, id)?.status === 'busy', 'survivor still updates');
    await waitFor(async () => (sessionIn(monitor.snapshot(), id)?.status === 'idle' ? true : undefined), T, 'survivor idle again');
  });
});
