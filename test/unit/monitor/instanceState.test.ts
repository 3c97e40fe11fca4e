import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { InstanceState } from '../../../src/core/monitor/instanceState';
import type { ReconcileData, SessionDetails } from '../../../src/core/monitor/instanceState';
import { decodeEventData } from '../../../src/core/opencode/events';
import type { OpencodeEvent } from '../../../src/core/opencode/events';
import {
  messageSchema,
  partSchema,
  permissionRequestSchema,
  questionRequestSchema,
  sessionSchema,
  statusMapSchema,
  todoSchema,
} from '../../../src/core/opencode/schemas';
import type { WireMessage, WirePart } from '../../../src/core/opencode/schemas';

const samples = resolve(__dirname, '../../../../test/fixtures/samples/opencode-1.18.33');
const options = { heuristicThresholdMs: 5_000, hasPermissionApi: true };

function loadServer(name: string): ReconcileData {
  const raw = JSON.parse(readFileSync(resolve(samples, name), 'utf8')) as Record<string, unknown>;
  const sessions = (raw['GET /session'] as unknown[]).map((s) => sessionSchema.parse(s));
  const details = new Map<string, SessionDetails>();
  for (const session of sessions) {
    const messages = raw[`GET /session/${session.id}/message`] as unknown[] | undefined;
    const todos = raw[`GET /session/${session.id}/todo`] as unknown[] | undefined;
    details.set(session.id, {
      ...(todos ? { todos: todos.map((t) => todoSchema.parse(t)) } : {}),
      ...(messages
        ? {
            messages: messages.map((m) => {
              const parsed = messageSchema.parse(m);
              return { info: parsed.info, parts: parsed.parts.map((p) => partSchema.parse(p) as WirePart) } as WireMessage;
            }),
          }
        : {}),
    });
  }
  return {
    sessions,
    status: statusMapSchema.parse(raw['GET /session/status']),
    permissions: (raw['GET /permission'] as unknown[]).map((p) => permissionRequestSchema.parse(p)),
    questions: (raw['GET /question'] as unknown[]).map((q) => questionRequestSchema.parse(q)),
    details,
  };
}

function sseEvents(name: string): OpencodeEvent[] {
  const out: OpencodeEvent[] = [];
  for (const line of readFileSync(resolve(samples, 'sse', name), 'utf8').split('\n')) {
    if (!line.startsWith('data: ')) continue;
    const decoded = decodeEventData(line.slice(6));
    if (decoded.kind === 'event') out.push(decoded.event);
  }
  return out;
}

describe('InstanceState', () => {
  it('builds the model of a busy server from a reconciliation fetch (real capture)', () => {
    const state = new InstanceState(() => 1795290253322);
    const changed = state.reconcile(loadServer('busy/server-1.json'));
    assert.equal(changed.size, 4);
    const models = state.sessionIds.map((id) => state.toModel(id, 'pid:1', options)!);
    const byTitle = (t: string) => models.find((m) => m.title.startsWith(t))!;

    const todos = byTitle('Seed prompt for session 1.1');
    assert.equal(todos.status, 'busy');
    assert.deepEqual(todos.runningTools.map((t) => `${t.name}: ${t.arg}`), ['bash: sleep 45']);
    assert.equal(todos.todos.total, 4);
    assert.equal(todos.todos.inProgress, 1);
    assert.equal(todos.todos.currentLabel, 'Implement the fake feature');
    assert.equal(todos.todos.nextLabel, 'Write tests for the fake feature');

    const permission = byTitle('Seed prompt for session 1.2');
    assert.equal(permission.needsAttention, true);
    assert.equal(permission.attentionReason, 'permission');
    assert.equal(permission.permissions[0]?.command, 'rm -f lab-permission-probe.txt');
    // Asked 0.56 s after its tool started: the time in the permission id (per_1ffa32afc001…).
    assert.equal(permission.waitingSince, 1795290245884, 'waiting since the permission was asked');

    const parent = byTitle('Seed prompt for session 1.3');
    const child = models.find((m) => m.parentId === parent.id)!;
    assert.equal(child.status, 'busy');
    assert.deepEqual(parent.runningTools.map((t) => t.childSessionId), [child.id]);
    assert.equal(parent.runningTools[0]?.arg, 'Lab subagent work');
  });

  it('reports retry with attempt and message', () => {
    const state = new InstanceState(() => 1795290253322);
    state.reconcile(loadServer('busy/server-3.json'));
    const retry = state.sessionIds.map((id) => state.toModel(id, 'x', options)!).find((m) => m.status === 'retry');
    assert.ok(retry, 'a retrying session');
    assert.equal(retry.retry?.attempt, 3);
    assert.match(retry.retry?.message ?? '', /scripted server error/);
  });

  it('follows the real event stream without errors, and ends idle once everything finished', () => {
    for (const file of ['event-server-1.sse.txt', 'event-server-2.sse.txt', 'event-server-3.sse.txt', 'event-server-4.sse.txt']) {
      const state = new InstanceState();
      let changes = 0;
      for (const event of sseEvents(file)) changes += state.apply(event).size;
      assert.ok(changes > 0, `${file} produced changes`);
      for (const id of state.sessionIds) {
        const model = state.toModel(id, 'x', options);
        if (!model) continue; // only status events were seen for it
        assert.ok(['busy', 'idle', 'retry'].includes(model.status));
        assert.equal(model.permissions.length + model.questions.length, 0, `${file}: every permission/question was answered during the capture`);
      }
    }
  });

  it('tracks a permission from asked to replied, and a question from asked to answered', () => {
    const state = new InstanceState(() => 1000);
    const events = sseEvents('event-server-1.sse.txt');
    const asked = events.find((e) => e.type === 'permission.asked');
    assert.ok(asked && asked.type === 'permission.asked');
    const sid = asked.properties.sessionID;
    state.apply({ type: 'session.created', properties: { info: sessionSchema.parse({ id: sid, title: 't', directory: '/d', time: { created: 1, updated: 2 } }) } });
    assert.deepEqual([...state.apply(asked)], [sid]);
    assert.equal(state.toModel(sid, 'x', options)?.needsAttention, true);
    assert.equal(state.toModel(sid, 'x', options)?.waitingSince, 1000);
    assert.equal(state.apply(asked).size, 1, 're-asking keeps one request');
    assert.equal(state.toModel(sid, 'x', options)?.permissions.length, 1);
    state.apply({ type: 'permission.replied', properties: { sessionID: sid, requestID: asked.properties.id, reply: 'once' } });
    assert.equal(state.toModel(sid, 'x', options)?.needsAttention, false);
  });

  it('does not report a change for repeated busy statuses and heartbeats', () => {
    const state = new InstanceState();
    const busy: OpencodeEvent = { type: 'session.status', properties: { sessionID: 'ses_1', status: { type: 'busy' } } };
    assert.equal(state.apply(busy).size, 1);
    assert.equal(state.apply(busy).size, 0);
    assert.equal(state.apply({ type: 'server.heartbeat', properties: {} }).size, 0);
    assert.equal(state.apply({ type: 'session.idle', properties: { sessionID: 'ses_1' } }).size, 1);
    assert.equal(state.apply({ type: 'session.idle', properties: { sessionID: 'ses_1' } }).size, 0, 'session.idle often comes twice');
  });

  it('applies the legacy heuristic only for servers without a permission API', () => {
    let now = 10_000;
    const state = new InstanceState(() => now);
    state.apply({ type: 'session.created', properties: { info: sessionSchema.parse({ id: 'ses_h', time: { created: 1, updated: 1 } }) } });
    state.apply({ type: 'session.status', properties: { sessionID: 'ses_h', status: { type: 'busy' } } });
    const part = (tool: string, id: string) =>
      partSchema.parse({ id, sessionID: 'ses_h', messageID: 'm', type: 'tool', tool, callID: id, state: { status: 'running', input: { command: 'x' }, time: { start: 10_000 } } }) as WirePart;
    state.apply({ type: 'message.part.updated', properties: { part: part('task', 'p1') } });
    now = 20_000;
    const legacy = { heuristicThresholdMs: 5_000, hasPermissionApi: false };
    assert.equal(state.toModel('ses_h', 'x', legacy)?.needsAttention, false, 'a long task is not a permission');
    state.apply({ type: 'message.part.updated', properties: { part: part('bash', 'p2') } });
    assert.equal(state.toModel('ses_h', 'x', legacy)?.attentionReason, 'heuristic');
    assert.equal(state.toModel('ses_h', 'x', options)?.needsAttention, false, 'servers with the API are trusted');
  });
});

describe('InstanceState of a server that stopped answering (issue 18)', () => {
  it('a stale model keeps who the session is and drops what it was doing: not busy, no tools, no requests', () => {
    const state = new InstanceState(() => 1795290253322);
    state.reconcile(loadServer('busy/server-1.json'));
    const live = state.sessionIds.map((id) => state.toModel(id, 'pid:1', options)!);
    assert.ok(live.some((m) => m.status !== 'idle'));
    assert.ok(live.some((m) => m.needsAttention));
    for (const id of state.sessionIds) {
      const before = state.toModel(id, 'pid:1', options)!;
      const stale = state.toModel(id, 'pid:1', { ...options, stale: true })!;
      assert.equal(stale.stale, true);
      assert.equal(stale.status, 'idle');
      assert.equal(stale.needsAttention, false);
      assert.deepEqual([stale.runningTools, stale.permissions, stale.questions], [[], [], []]);
      assert.equal(stale.retry, undefined);
      assert.equal(stale.waitingSince, undefined);
      assert.deepEqual([stale.id, stale.title, stale.todos, stale.parentId], [before.id, before.title, before.todos, before.parentId]);
    }
  });
});
