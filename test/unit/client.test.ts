import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { OpencodeClient } from '../../src/core/opencode/client';
import type { ClientOptions } from '../../src/core/opencode/client';
import { MemoryLogger } from '../../src/core/log';
import type { Handler, LocalServer, RecordedRequest } from './support/localServer';
import { closedPort, expectOpencodeError, sendJson, startServer } from './support/localServer';

async function setup(t: TestContext, handler: Handler, options: ClientOptions = {}): Promise<{ server: LocalServer; client: OpencodeClient }> {
  const server = await startServer(handler);
  const client = new OpencodeClient({ url: server.url }, { timeoutMs: 2_000, ...options });
  t.after(async () => {
    await client.close();
    await server.close();
  });
  return { server, client };
}

/** OpenCode answers actions with 204 or a JSON `true`. */
const actionServer: Handler = (req, res) => {
  if (req.url?.endsWith('/prompt_async')) return res.writeHead(204).end();
  if (req.url === '/session' && req.method === 'POST') return sendJson(res, { id: 'ses_new', title: 'T', extra: 1 });
  sendJson(res, true);
};

function last(server: LocalServer): RecordedRequest {
  const request = server.requests.at(-1);
  assert.ok(request, 'no request reached the server');
  return request;
}

function jsonBody(request: RecordedRequest): unknown {
  assert.equal(request.headers['content-type'], 'application/json');
  return JSON.parse(request.body) as unknown;
}

test('promptAsync posts {parts:[{type:"text",text}]}', async (t) => {
  const { server, client } = await setup(t, actionServer);
  assert.equal(await client.promptAsync('ses_1', { text: 'Hello — wörld 🚀' }), undefined);
  let request = last(server);
  assert.equal(request.method, 'POST');
  assert.equal(request.url, '/session/ses_1/prompt_async');
  assert.deepEqual(jsonBody(request), { parts: [{ type: 'text', text: 'Hello — wörld 🚀' }] });

  await client.promptAsync('ses_1', { text: 'x', agent: 'plan', model: { providerID: 'lab', modelID: 'm' } });
  request = last(server);
  assert.deepEqual(jsonBody(request), { parts: [{ type: 'text', text: 'x' }], agent: 'plan', model: { providerID: 'lab', modelID: 'm' } });
});

test('replyPermission posts {reply, message?}', async (t) => {
  const { server, client } = await setup(t, actionServer);
  await client.replyPermission('per_1', 'once');
  assert.equal(last(server).url, '/permission/per_1/reply');
  assert.deepEqual(jsonBody(last(server)), { reply: 'once' });
  await client.replyPermission('per_1', 'reject', 'use trash instead');
  assert.deepEqual(jsonBody(last(server)), { reply: 'reject', message: 'use trash instead' });
  await client.replyPermission('per_2', 'always', '');
  assert.deepEqual(jsonBody(last(server)), { reply: 'always', message: '' });
});

test('replyQuestion posts {answers}; rejectQuestion hits /question/{id}/reject', async (t) => {
  const { server, client } = await setup(t, actionServer);
  await client.replyQuestion('que_1', [['SQLite'], ['a', 'b'], []]);
  assert.equal(last(server).method, 'POST');
  assert.equal(last(server).url, '/question/que_1/reply');
  assert.deepEqual(jsonBody(last(server)), { answers: [['SQLite'], ['a', 'b'], []] });
  await client.rejectQuestion('que_1');
  assert.equal(last(server).method, 'POST');
  assert.equal(last(server).url, '/question/que_1/reject');
  assert.equal(last(server).body, '');
});

test('abort hits /session/{id}/abort and reports the answer', async (t) => {
  const { server, client } = await setup(t, (req, res) => sendJson(res, req.url === '/session/ses_2/abort'));
  assert.equal(await client.abort('ses_2'), true);
  assert.equal(last(server).method, 'POST');
  assert.equal(last(server).url, '/session/ses_2/abort');
  assert.equal(await client.abort('ses_3'), false);
});

test('ids are encoded as one path segment', async (t) => {
  const { server, client } = await setup(t, actionServer);
  await client.abort('a/b?c#d');
  assert.equal(last(server).url, '/session/a%2Fb%3Fc%23d/abort');
  await client.replyQuestion('../x', []);
  assert.equal(last(server).url, '/question/..%2Fx/reply');
});

test('createSession posts the input and validates the answer', async (t) => {
  const { server, client } = await setup(t, actionServer);
  const session = await client.createSession({ title: 'T', parentID: 'ses_p' });
  assert.equal(session.id, 'ses_new');
  assert.equal(session.extra, 1);
  assert.deepEqual(jsonBody(last(server)), { title: 'T', parentID: 'ses_p' });
});

test('action failures are OpencodeErrors naming the endpoint', async (t) => {
  const { server, client } = await setup(t, (req, res) => {
    if (req.url === '/session') return sendJson(res, { nope: true });
    if (req.url?.startsWith('/permission/')) return res.writeHead(401).end();
    sendJson(res, { name: 'NotFoundError' }, 404);
  });
  const instance = server.url;
  await expectOpencodeError(client.promptAsync('ses_1', { text: 'x' }), 'http', { endpoint: 'POST /session/ses_1/prompt_async', instance });
  await expectOpencodeError(client.replyPermission('per_1', 'once'), 'auth_required', { endpoint: 'POST /permission/per_1/reply', instance });
  await expectOpencodeError(client.replyQuestion('que_1', [['a']]), 'http', { endpoint: 'POST /question/que_1/reply', instance });
  await expectOpencodeError(client.rejectQuestion('que_1'), 'http', { endpoint: 'POST /question/que_1/reject', instance });
  await expectOpencodeError(client.abort('ses_1'), 'http', { endpoint: 'POST /session/ses_1/abort', instance });
  await expectOpencodeError(client.createSession(), 'invalid', { endpoint: 'POST /session', instance });
});

test('every read method fails only with OpencodeError on an unreachable server', async (t) => {
  const port = await closedPort();
  const client = new OpencodeClient({ url: `http://127.0.0.1:${port}` });
  t.after(() => client.close());
  const instance = `http://127.0.0.1:${port}`;
  const calls: [string, () => Promise<unknown>][] = [
    ['GET /global/health', () => client.health()],
    ['GET /path', () => client.path()],
    ['GET /project/current', () => client.currentProject()],
    ['GET /session', () => client.sessions()],
    ['GET /session/s', () => client.session('s')],
    ['GET /session/s/children', () => client.children('s')],
    ['GET /session/status', () => client.sessionStatus()],
    ['GET /session/s/todo', () => client.todos('s')],
    ['GET /session/s/message', () => client.messages('s', { limit: 5 })],
    ['GET /permission', () => client.permissions()],
    ['GET /question', () => client.questions()],
    ['GET /global/health', () => client.capabilities()],
  ];
  for (const [endpoint, call] of calls) await expectOpencodeError(call(), 'network', { endpoint, instance });
});

test('capabilities: a wrong password is reported, not taken for a missing route', async (t) => {
  const { client } = await setup(t, (req, res) => {
    if (req.url === '/global/health') return sendJson(res, { healthy: true, version: '1.18.33' });
    res.writeHead(401).end();
  });
  await expectOpencodeError(client.capabilities(), 'auth_required');
});

test('setPassword switches the credentials of later requests', async (t) => {
  const { server, client } = await setup(t, (req, res) =>
    req.headers.authorization ? sendJson(res, { healthy: true, version: 'v' }) : res.writeHead(401).end(),
  );
  await expectOpencodeError(client.health(), 'auth_required');
  client.setPassword('pw');
  assert.deepEqual(await client.health(), { healthy: true, version: 'v' });
  assert.equal(last(server).headers.authorization, 'Basic ' + Buffer.from('opencode:pw').toString('base64'));
  client.setPassword(undefined);
  await expectOpencodeError(client.health(), 'auth_required');
});

test('the instance never carries credentials', async (t) => {
  const { server } = await setup(t, (_req, res) => res.writeHead(500).end());
  const logger = new MemoryLogger();
  const client = new OpencodeClient({ url: `http://opencode:topsecret@127.0.0.1:${server.port}` }, { logger });
  t.after(() => client.close());
  assert.equal(client.instance, server.url);
  const error = await expectOpencodeError(client.sessions(), 'http');
  assert.ok(!error.message.includes('topsecret'));
  assert.ok(!logger.text().includes('topsecret'));
});
