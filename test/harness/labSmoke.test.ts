/**
 * Smoke test of the lab itself: every fake-model scenario, proven with plain HTTP against real
 * `opencode serve` processes, then proof that nothing we started is left running.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import {
  createLab,
  createSession,
  getJson,
  openEventStream,
  postJson,
  promptAsync,
  request,
  waitFor,
  type Lab,
  type LabServer,
} from './opencodeLab';
import { assertNoLeftovers, descendantsOf, isAlive, killTree, toolChildrenOf, waitForExit } from './processes';
import { findScenario, parseStep, PERMISSION_PROBE_COMMAND, QUESTION_OPTIONS, splitSteps, startFakeModel } from '../fixtures/fakeModel';

interface Part {
  type: string;
  tool?: string;
  text?: string;
  callID?: string;
  state?: { status: string; input?: Record<string, unknown>; metadata?: Record<string, unknown>; error?: string };
}
interface Message {
  info: { id: string; role: string; time: { created: number; completed?: number }; error?: { name: string; data?: Record<string, unknown> } };
  parts: Part[];
}
type Status = Record<string, { type: string; attempt?: number; message?: string; next?: number }>;

const T = 60_000;
let lab: Lab;
let a: LabServer;
let b: LabServer;
const seenPids = new Set<number>();

const status = (s: LabServer): Promise<Status> => getJson<Status>(s, '/session/status');
const messages = (s: LabServer, id: string): Promise<Message[]> => getJson<Message[]>(s, `/session/${id}/message`);
const toolParts = (msgs: Message[], tool?: string): Part[] =>
  msgs.flatMap((m) => m.parts).filter((p) => p.type === 'tool' && (tool === undefined || p.tool === tool));
const lastAssistant = (msgs: Message[]): Message | undefined => [...msgs].reverse().find((m) => m.info.role === 'assistant');
const allText = (msgs: Message[]): string =>
  msgs
    .filter((m) => m.info.role === 'assistant')
    .flatMap((m) => m.parts)
    .map((p) => (p.type === 'text' ? (p.text ?? '') : ''))
    .join('');

/** Idle = not in /session/status and the latest assistant message is finished. */
async function waitSettled(s: LabServer, id: string, timeoutMs = T): Promise<Message[]> {
  return waitFor(
    async () => {
      if ((await status(s))[id]) return undefined;
      const msgs = await messages(s, id);
      const last = lastAssistant(msgs);
      return last?.info.time.completed ? msgs : undefined;
    },
    timeoutMs,
    `session ${id} on ${s.name} to settle`,
    200,
  );
}

async function start(s: LabServer, text: string): Promise<string> {
  const id = await createSession(s, `smoke: ${text}`);
  await promptAsync(s, id, text);
  return id;
}

before(async () => {
  lab = await createLab();
  const started = await lab.startServers(2);
  a = started[0] as LabServer;
  b = started[1] as LabServer;
});

after(async () => {
  await lab?.stopAll();
});

async function chat(url: string, text: string, extra: Array<Record<string, unknown>> = []): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'fake-model',
      stream: true,
      tools: [{ type: 'function', function: { name: 'bash', parameters: {} } }],
      messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: [{ type: 'text', text }] }, ...extra],
    }),
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.text() };
}

describe('fake model (direct)', () => {
  test('step parsing', () => {
    assert.deepEqual(splitSteps('todos+subagent[sleep 2+todos]+todosdone'), ['todos', 'subagent[sleep 2+todos]', 'todosdone']);
    assert.deepEqual(parseStep('subagent[sleep 2+todos]'), { kind: 'subagent', inner: 'sleep 2+todos' });
    assert.deepEqual(parseStep('sleep 3'), { kind: 'sleep', seconds: 3 });
    assert.equal(findScenario('Lab task. scenario:todos+sleep 45+todosdone\nmore'), 'todos+sleep 45+todosdone');
  });

  test('stateless chain: tool call, then done. after the tool result', async () => {
    const first = await chat(lab.model.url, 'go scenario:sleep 1');
    assert.equal(first.status, 200);
    assert.ok(first.body.trimEnd().endsWith('data: [DONE]'));
    const calls = first.body
      .split('\n')
      .filter((l) => l.startsWith('data: {'))
      .flatMap((l) => (JSON.parse(l.slice(6)) as { choices: Array<{ delta: { tool_calls?: Array<{ id?: string; function: { name?: string; arguments: string } }> } }> }).choices)
      .flatMap((c) => c.delta.tool_calls ?? []);
    const id = calls.find((c) => c.id)?.id;
    assert.ok(id);
    assert.equal(calls[0]?.function.name, 'bash');
    assert.deepEqual(JSON.parse(calls.map((c) => c.function.arguments).join('')).command, 'sleep 1');
    const again = await chat(lab.model.url, 'go scenario:sleep 1');
    assert.ok(!again.body.includes(`"id":"${id}"`), 'tool-call ids must be unique');
    const second = await chat(lab.model.url, 'go scenario:sleep 1', [
      { role: 'assistant', content: '', tool_calls: [{ id, type: 'function', function: { name: 'bash', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: id, content: 'ok' },
    ]);
    assert.match(second.body, /"content":"done\."/);
  });

  test('hang is released by close()', async () => {
    const m = await startFakeModel();
    const pending = chat(m.url, 'scenario:hang').then(
      (r) => r.body,
      (e: Error) => `error: ${e.message}`,
    );
    await waitFor(() => (m.requests.length > 0 ? true : undefined), 5_000, 'hang request');
    const t0 = Date.now();
    await m.close();
    const body = await pending;
    assert.ok(Date.now() - t0 < 2_000);
    assert.ok(!body.includes('[DONE]'), body);
  });


  test('GET /v1/models and bad JSON', async () => {
    const models = (await (await fetch(`${lab.model.url}/models`)).json()) as { data: Array<{ id: string }> };
    assert.equal(models.data[0]?.id, 'fake-model');
    const bad = await fetch(`${lab.model.url}/chat/completions`, { method: 'POST', body: '{nope' });
    assert.equal(bad.status, 400);
    await bad.text();
  });
});

describe('processes', () => {
  test('descendantsOf + killTree + waitForExit', async () => {
    const sh = spawn('/bin/sh', ['-c', 'sleep 100 & sleep 101 & wait'], { stdio: 'ignore' });
    const pid = sh.pid as number;
    const kids = await waitFor(() => {
      const d = descendantsOf(pid);
      return d.length >= 2 ? d : undefined;
    }, 5_000, 'two sleep children');
    assert.deepEqual(kids.map((k) => k.args.join(' ')).sort(), ['sleep 100', 'sleep 101']);
    killTree(pid, 'SIGTERM');
    for (const p of [pid, ...kids.map((k) => k.pid)]) assert.ok(await waitForExit(p, 5_000), `pid ${p} still alive`);
    assertNoLeftovers([pid, ...kids.map((k) => k.pid)]);
  });
});

describe('lab servers', () => {
  test('two servers answer, each in its own git project', async () => {
    assert.notEqual(a.port, b.port);
    for (const s of [a, b]) {
      assert.ok(isAlive(s.pid));
      const health = await getJson<{ healthy: boolean; version: string }>(s, '/global/health');
      assert.equal(health.healthy, true);
      const p = await getJson<{ directory: string; home: string }>(s, '/path');
      assert.equal(p.directory, fs.realpathSync(s.dir));
      assert.equal(p.home, lab.home);
    }
    const [pa, pb] = await Promise.all([a, b].map((s) => getJson<{ id: string }>(s, '/project/current')));
    assert.notEqual(pa?.id, pb?.id, 'project ids (root commit SHAs) must differ');
    // The pre-seeded plugin dir must keep OpenCode from running its npm install.
    const lock = fs.readFileSync(`${lab.home}/.config/opencode/package-lock.json`, 'utf8');
    assert.ok(!lock.includes('"resolved"'), 'plugin install ran despite the seed');
  });
});

describe('scenarios', { concurrency: true, timeout: 180_000 }, () => {
  test('sleep 3: busy with a running bash part and a tool child, then idle', async () => {
    const id = await start(a, 'Run it. scenario:sleep 3');
    const running = await waitFor(
      async () => {
        const st = await status(a);
        if (st[id]?.type !== 'busy') return undefined;
        return toolParts(await messages(a, id), 'bash').find(
          (p) => p.state?.status === 'running' && p.state.input?.command === 'sleep 3',
        );
      },
      T,
      'running bash sleep 3',
    );
    assert.equal(running.tool, 'bash');
    const kids = await waitFor(
      () => {
        const k = toolChildrenOf(a.pid).filter((p) => p.args.join(' ').includes('sleep 3'));
        return k.length > 0 ? k : undefined;
      },
      5_000,
      'sleep tool child with OPENCODE_PID',
    );
    for (const k of kids) seenPids.add(k.pid);
    const msgs = await waitSettled(a, id);
    assert.equal(toolParts(msgs, 'bash')[0]?.state?.status, 'completed');
    assert.match(allText(msgs), /done\./);
  });

  test('todos+sleep 2+todosdone: todo list filled, then all completed', async () => {
    const id = await start(a, 'Plan. scenario:todos+sleep 2+todosdone');
    type Todo = { content: string; status: string; priority: string };
    const first = await waitFor(
      async () => {
        const t = await getJson<Todo[]>(a, `/session/${id}/todo`);
        return t.length > 0 ? t : undefined;
      },
      T,
      'todos',
    );
    assert.ok(first.length >= 3 && first.length <= 4);
    assert.equal(first.filter((t) => t.status === 'in_progress').length, 1);
    assert.ok(first.some((t) => t.status === 'pending'));
    await waitSettled(a, id);
    const final = await getJson<Todo[]>(a, `/session/${id}/todo`);
    assert.equal(final.length, first.length);
    assert.ok(final.every((t) => t.status === 'completed'));
  });

  test('permission: pending until replied once, then the tool completes', async () => {
    const id = await start(a, 'Clean. scenario:permission');
    type Perm = { id: string; sessionID: string; permission: string; patterns: string[]; metadata: { command?: string } };
    const perm = await waitFor(
      async () => (await getJson<Perm[]>(a, '/permission')).find((p) => p.sessionID === id),
      T,
      'pending permission',
    );
    assert.equal(perm.permission, 'bash');
    assert.equal(perm.metadata.command, PERMISSION_PROBE_COMMAND);
    assert.equal((await status(a))[id]?.type, 'busy');
    const part = toolParts(await messages(a, id), 'bash')[0];
    assert.equal(part?.state?.status, 'running');
    await postJson(a, `/permission/${perm.id}/reply`, { reply: 'once' });
    const msgs = await waitSettled(a, id);
    assert.equal(toolParts(msgs, 'bash')[0]?.state?.status, 'completed');
    assert.equal((await getJson<Perm[]>(a, '/permission')).filter((p) => p.sessionID === id).length, 0);
  });

  test('question: pending until answered, answer recorded', async () => {
    const id = await start(b, 'Ask. scenario:question');
    type Q = { id: string; sessionID: string; questions: Array<{ question: string; options: Array<{ label: string }> }> };
    const q = await waitFor(async () => (await getJson<Q[]>(b, '/question')).find((x) => x.sessionID === id), T, 'pending question');
    assert.equal(q.questions.length, 1);
    assert.deepEqual(
      q.questions[0]?.options.map((o) => o.label),
      [...QUESTION_OPTIONS],
    );
    await postJson(b, `/question/${q.id}/reply`, { answers: [[QUESTION_OPTIONS[0]]] });
    const msgs = await waitSettled(b, id);
    const part = toolParts(msgs, 'question')[0];
    assert.equal(part?.state?.status, 'completed');
    assert.deepEqual(part?.state?.metadata?.answers, [[QUESTION_OPTIONS[0]]]);
  });

  test('subagent[sleep 2]: child session with parentID runs the inner scenario', async () => {
    const id = await start(b, 'Delegate. scenario:subagent[sleep 2]');
    type Sess = { id: string; parentID?: string };
    const child = await waitFor(async () => (await getJson<Sess[]>(b, `/session/${id}/children`))[0], T, 'child session');
    assert.equal(child.parentID, id);
    const task = await waitFor(
      async () => toolParts(await messages(b, id), 'task').find((p) => p.state?.status === 'running'),
      T,
      'running task part',
    );
    assert.equal(task.state?.metadata?.sessionId, child.id);
    assert.equal(task.state?.input?.subagent_type, 'general');
    await waitFor(
      async () => toolParts(await messages(b, child.id), 'bash').find((p) => p.state?.input?.command === 'sleep 2'),
      T,
      'bash sleep 2 in the child',
    );
    const msgs = await waitSettled(b, id);
    assert.equal(toolParts(msgs, 'task')[0]?.state?.status, 'completed');
  });

  test('error500: status retry with attempt/next, abort ends it', async () => {
    const id = await start(b, 'Fail. scenario:error500');
    const st = await waitFor(async () => {
      const s = (await status(b))[id];
      return s?.type === 'retry' ? s : undefined;
    }, T, 'retry status');
    assert.ok(typeof st.attempt === 'number' && st.attempt >= 1);
    assert.ok(typeof st.next === 'number');
    await postJson(b, `/session/${id}/abort`);
    await waitSettled(b, id);
  });

  test('error400: idle with an APIError on the assistant message', async () => {
    const id = await start(b, 'Fail. scenario:error400');
    const msgs = await waitSettled(b, id);
    const err = lastAssistant(msgs)?.info.error;
    assert.equal(err?.name, 'APIError');
    assert.equal(err?.data?.statusCode, 400);
  });

  test('hang: busy until aborted', async () => {
    const id = await start(a, 'Wait. scenario:hang');
    await waitFor(async () => ((await status(a))[id]?.type === 'busy' ? true : undefined), T, 'busy');
    await waitFor(() => (lab.model.requests.some((r) => r.scenario === 'hang' && r.hasTools) ? true : undefined), T, 'hang request');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await status(a))[id]?.type, 'busy');
    await postJson(a, `/session/${id}/abort`);
    const msgs = await waitSettled(a, id);
    assert.equal(lastAssistant(msgs)?.info.error?.name, 'MessageAbortedError');
  });

  test('stream: busy while text deltas arrive on /event', async () => {
    const events = await openEventStream(b);
    try {
      const id = await start(b, 'Talk. scenario:stream');
      const deltasWhileBusy = await waitFor(
        async () => {
          const deltas = events.events.filter(
            (e) => e.type === 'message.part.delta' && e.properties.sessionID === id && e.properties.field === 'text',
          );
          if (deltas.length < 3) return undefined;
          return (await status(b))[id]?.type === 'busy' ? deltas.length : undefined;
        },
        T,
        'text deltas while busy',
        50,
      );
      assert.ok(deltasWhileBusy >= 3);
      const msgs = await waitSettled(b, id);
      assert.match(allText(msgs), /Streaming chunk 20 of 20\./);
    } finally {
      events.close();
    }
  });

  test('no scenario: hello.', async () => {
    // No title given, so OpenCode asks the model for one (a request without tools).
    const id = await createSession(a);
    await promptAsync(a, id, 'Just say hi');
    const msgs = await waitSettled(a, id);
    assert.equal(allText(msgs).trim(), 'hello.');
    assert.ok(lab.model.requests.some((r) => !r.hasTools), 'title generation requests are tool-less');
  });
});

describe('password server', () => {
  test('basic auth, then kill9 takes its running tool child with it', async () => {
    const s = await lab.startServer({ name: 'secured', password: 'labpw' });
    const anon = await request({ url: s.url }, 'GET', '/session', undefined, 3000);
    assert.equal(anon.status, 401);
    const id = await start(s, 'scenario:sleep 30');
    const kid = await waitFor(
      () => toolChildrenOf(s.pid).find((p) => p.args.join(' ').includes('sleep 30')),
      T,
      'sleep 30 tool child',
    );
    assert.notEqual(kid.pgid, s.pid, 'tool children run in their own process group');
    seenPids.add(kid.pid);
    await s.kill9();
    assert.equal(isAlive(s.pid), false);
    assert.equal(isAlive(kid.pid), false);
    assert.ok(id.startsWith('ses_'));
  });
});

describe('teardown', () => {
  test('stopAll leaves no process behind', async () => {
    const pids = [...lab.knownPids(), ...seenPids, a.pid, b.pid];
    await lab.stopAll();
    assertNoLeftovers(pids);
    assert.equal(fs.existsSync(lab.root), false);
  });
});
