import * as assert from 'node:assert/strict';
import type * as http from 'node:http';
import { after, before, test } from 'node:test';
import { OpencodeClient } from '../../src/core/opencode/client';
import { MemoryLogger } from '../../src/core/log';
import { partSchema, permissionRequestSchema, sessionSchema, tokensSchema, todoSchema } from '../../src/core/opencode/schemas';
import type { LocalServer, SampleBodies } from './support/localServer';
import { expectOpencodeError, readSampleBodies, sampleServerFiles, sendJson, startServer } from './support/localServer';

/** Serves the captured bodies of one sample file ("GET /path" → body), 404 for the rest. */
let current: SampleBodies = {};
let overrides: Record<string, unknown> = {};
let server: LocalServer;

before(async () => {
  server = await startServer((req: http.IncomingMessage, res: http.ServerResponse) => {
    const key = `${req.method} ${(req.url ?? '').split('?')[0]}`;
    if (Object.hasOwn(overrides, key)) return sendJson(res, overrides[key]);
    if (Object.hasOwn(current, key)) return sendJson(res, current[key]);
    sendJson(res, { name: 'NotFoundError' }, 404);
  });
});
after(() => server.close());

/** Drops keys whose value is undefined, as JSON would. */
const plain = (value: unknown): unknown => JSON.parse(JSON.stringify(value)) as unknown;

async function withClient<T>(bodies: SampleBodies, fn: (client: OpencodeClient, logger: MemoryLogger) => Promise<T>): Promise<T> {
  current = bodies;
  overrides = {};
  const logger = new MemoryLogger();
  const client = new OpencodeClient({ url: server.url }, { logger, timeoutMs: 2_000 });
  try {
    return await fn(client, logger);
  } finally {
    await client.close();
  }
}

const sessionKey = /^GET \/session\/([^/]+)\/(todo|children|message)$/;

for (const { name, file } of sampleServerFiles()) {
  test(`every body of ${name} parses through the client`, async () => {
    const bodies = readSampleBodies(file);
    await withClient(bodies, async (client, logger) => {
      assert.deepEqual(plain(await client.health()), bodies['GET /global/health']);
      assert.deepEqual(plain(await client.path()), bodies['GET /path']);
      assert.deepEqual(plain(await client.currentProject()), bodies['GET /project/current']);
      assert.deepEqual(plain(await client.sessions()), bodies['GET /session']);
      assert.deepEqual(plain(await client.sessionStatus()), bodies['GET /session/status']);
      assert.deepEqual(plain(await client.permissions()), bodies['GET /permission']);
      assert.deepEqual(plain(await client.questions()), bodies['GET /question']);
      let perSession = 0;
      for (const [key, body] of Object.entries(bodies)) {
        const match = sessionKey.exec(key);
        if (!match) continue;
        perSession++;
        const id = match[1] ?? '';
        const kind = match[2];
        const result = kind === 'todo' ? await client.todos(id) : kind === 'children' ? await client.children(id) : await client.messages(id);
        assert.deepEqual(plain(result), body, key);
      }
      assert.ok(perSession > 0);
      assert.deepEqual(await client.capabilities(), { version: '1.18.33', v1: true, v2: true, permissions: true, questions: true });
      assert.deepEqual(logger.records.filter((r) => r.level === 'warn' || r.level === 'error'), []);
    });
  });
}

test('busy samples: running tool parts carry their input, task parts their child session', async () => {
  let runningBash = 0;
  let runningTask = 0;
  for (const { file } of sampleServerFiles().filter((f) => f.name.startsWith('busy/'))) {
    const bodies = readSampleBodies(file);
    await withClient(bodies, async (client) => {
      for (const key of Object.keys(bodies)) {
        const match = /^GET \/session\/([^/]+)\/message$/.exec(key);
        if (!match?.[1]) continue;
        for (const message of await client.messages(match[1], { limit: 50 })) {
          for (const part of message.parts) {
            if (part.type !== 'tool' || part.state?.status !== 'running') continue;
            assert.equal(typeof part.callID, 'string');
            assert.equal(typeof part.state.time?.start, 'number');
            if (part.tool === 'bash') {
              runningBash++;
              assert.equal(typeof part.state.input?.['command'], 'string');
            }
            if (part.tool === 'task') {
              runningTask++;
              assert.match(String(part.state.metadata?.['sessionId']), /^ses_/);
            }
          }
        }
      }
    });
  }
  assert.ok(runningBash > 0, 'no running bash part in the busy samples');
  assert.ok(runningTask > 0, 'no running task part in the busy samples');
  assert.ok(server.requests.some((r) => r.url.endsWith('/message?limit=50')), 'limit is sent as a query');
});

test('sessions({roots: true}) asks for root sessions only', async () => {
  await withClient({ 'GET /session': [] }, async (client) => {
    assert.deepEqual(await client.sessions({ roots: true }), []);
    assert.equal(server.requests.at(-1)?.url, '/session?roots=true');
  });
});

test('unknown fields are kept, missing optional ones get defaults', async () => {
  const bodies = {
    'GET /session': [{ id: 'ses_1', futureField: { a: 1 } }],
    'GET /permission': [{ id: 'per_1', sessionID: 'ses_1', newThing: 'x' }],
    'GET /global/health': { healthy: true, version: '9.9.9', extra: [1] },
  };
  await withClient(bodies, async (client, logger) => {
    const [session] = await client.sessions();
    assert.ok(session);
    assert.deepEqual(session.futureField, { a: 1 });
    assert.equal(session.title, '');
    assert.deepEqual(session.time, { created: 0, updated: 0 });
    const [permission] = await client.permissions();
    assert.deepEqual(plain(permission), { id: 'per_1', sessionID: 'ses_1', newThing: 'x', permission: 'unknown', patterns: [], metadata: {}, always: [] });
    assert.deepEqual(await client.health(), { healthy: true, version: '9.9.9', extra: [1] });
    assert.equal(logger.records.length, 0);
  });
});

test('odd optional fields are caught instead of rejecting the item', () => {
  const session = sessionSchema.parse({ id: 'ses_1', title: 5, cost: 'x', tokens: { input: 'lots', cache: null }, model: 'm', time: { created: 'yesterday' } });
  assert.equal(session.title, '');
  assert.equal(session.cost, undefined);
  assert.deepEqual(session.tokens, { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } });
  assert.equal(session.model, undefined);
  assert.deepEqual(session.time, { created: 0, updated: 0 });
  assert.deepEqual(tokensSchema.parse({}), { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } });
  assert.deepEqual(todoSchema.parse({}), { content: '', status: 'pending' });
  assert.equal(partSchema.safeParse({ id: 'p', sessionID: 's', messageID: 'm', type: 'tool', state: 'weird' }).data?.state, undefined);
  assert.equal(permissionRequestSchema.safeParse({ sessionID: 's' }).success, false);
});

test('one malformed item of a list is dropped and logged, the others survive', async () => {
  const good = (id: string) => ({ id, title: id });
  const bodies = {
    'GET /session': [good('ses_1'), { id: 42 }, good('ses_3'), null],
    'GET /session/ses_1/message': [
      {
        info: { id: 'msg_1', sessionID: 'ses_1', role: 'assistant' },
        parts: [
          { id: 'p1', sessionID: 'ses_1', messageID: 'msg_1', type: 'text', text: 'hi' },
          { id: 'p2', type: 'tool' },
        ],
      },
      { info: { id: 'msg_2' }, parts: [] },
    ],
  };
  await withClient(bodies, async (client, logger) => {
    const sessions = await client.sessions();
    assert.deepEqual(sessions.map((s) => s.id), ['ses_1', 'ses_3']);
    const warns = logger.records.filter((r) => r.level === 'warn');
    assert.equal(warns.length, 1);
    assert.match(warns[0]?.message ?? '', /GET \/session on http:\/\/127\.0\.0\.1:\d+: ignored 2 malformed item\(s\): id:/);

    const messages = await client.messages('ses_1');
    assert.equal(messages.length, 1, 'the message without sessionID/role is dropped');
    assert.deepEqual(messages[0]?.parts.map((p) => p.id), ['p1'], 'the odd part is dropped, its message kept');
    assert.equal(logger.records.filter((r) => r.level === 'warn').length, 3);
    assert.match(logger.text(), /GET \/session\/ses_1\/message on .*ignored 1 malformed item/);
  });
});

test('a wrong top-level type is an invalid error naming endpoint and instance', async () => {
  const bodies = {
    'GET /session': { sessions: [] },
    'GET /global/health': [],
    'GET /session/status': [1],
    'GET /path': { home: '/h' },
    'GET /permission': null,
    'GET /session/ses_1/todo': 17,
  };
  await withClient(bodies, async (client) => {
    const instance = server.url;
    const e1 = await expectOpencodeError(client.sessions(), 'invalid', { endpoint: 'GET /session', instance });
    assert.match(e1.message, /expected a list, got an object/);
    await expectOpencodeError(client.health(), 'invalid', { endpoint: 'GET /global/health', instance });
    await expectOpencodeError(client.sessionStatus(), 'invalid', { endpoint: 'GET /session/status', instance });
    const e4 = await expectOpencodeError(client.path(), 'invalid', { endpoint: 'GET /path', instance });
    assert.match(e4.message, /directory/);
    await expectOpencodeError(client.permissions(), 'invalid', { endpoint: 'GET /permission', instance });
    await expectOpencodeError(client.todos('ses_1'), 'invalid', { endpoint: 'GET /session/ses_1/todo', instance });
  });
});

test('capabilities: routes that fail are reported absent', async () => {
  await withClient({ 'GET /global/health': { healthy: true, version: '1.0.0' }, 'GET /session/status': {} }, async (client) => {
    assert.deepEqual(await client.capabilities(), { version: '1.0.0', v1: true, v2: false, permissions: false, questions: false });
  });
});
