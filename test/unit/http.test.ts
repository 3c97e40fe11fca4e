import * as assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { OpencodeError } from '../../src/core/opencode/errors';
import { HttpTransport, parseEndpointUrl, redactUrl } from '../../src/core/opencode/http';
import type { HttpOptions, ServerEndpoint } from '../../src/core/opencode/http';
import type { Handler, LocalServer } from './support/localServer';
import { activeHandles, closedPort, delay, expectHandlesBackTo, expectOpencodeError, quietHandles, sendJson, startServer, waitFor } from './support/localServer';

async function serve(t: TestContext, handler: Handler): Promise<LocalServer> {
  const server = await startServer(handler);
  t.after(() => server.close());
  return server;
}

function transport(t: TestContext, endpoint: ServerEndpoint, options: HttpOptions = {}): HttpTransport {
  const http = new HttpTransport(endpoint, { timeoutMs: 2_000, ...options });
  t.after(() => http.close());
  return http;
}

const basic = (user: string, password: string) => 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');

test('401 → auth_required; the message tells a missing from a rejected password', async (t) => {
  const server = await serve(t, (req, res) => {
    if (req.headers.authorization === basic('opencode', 'right')) return sendJson(res, { ok: true });
    res.writeHead(401, { 'www-authenticate': 'Basic realm="Secure Area"' }).end('Unauthorized');
  });
  const anonymous = transport(t, { url: server.url });
  const e1 = await expectOpencodeError(anonymous.json('GET', '/session'), 'auth_required', { endpoint: 'GET /session', instance: server.url });
  assert.equal(e1.status, 401);
  assert.match(e1.message, /password required/);

  const wrong = transport(t, { url: server.url, password: 'wrong' });
  const e2 = await expectOpencodeError(wrong.json('GET', '/session'), 'auth_required');
  assert.match(e2.message, /password rejected/);
  assert.ok(!e2.message.includes('wrong'), 'the password never appears in messages');

  wrong.setCredentials('right');
  assert.deepEqual(await wrong.json('GET', '/session'), { ok: true });
  wrong.setCredentials(undefined);
  assert.equal(wrong.hasPassword, false);
  await expectOpencodeError(wrong.json('GET', '/session'), 'auth_required');
});

test('basic auth: opencode:<password>, from the options or from the URL, never shown', async (t) => {
  const server = await serve(t, (_req, res) => res.writeHead(401).end());
  const authOf = (i: number) => server.requests[i]?.headers.authorization;

  const none = transport(t, { url: server.url });
  await expectOpencodeError(none.json('GET', '/a'), 'auth_required');
  assert.equal(authOf(0), undefined);

  const withOption = transport(t, { url: server.url, password: 'pw:with colon' });
  assert.equal(withOption.hasPassword, true);
  await expectOpencodeError(withOption.json('GET', '/a'), 'auth_required');
  assert.equal(authOf(1), basic('opencode', 'pw:with colon'));

  const inUrl = `http://opencode:s3cr%40t@127.0.0.1:${server.port}/`;
  const withUrl = transport(t, { url: inUrl });
  assert.equal(withUrl.instance, server.url);
  const error = await expectOpencodeError(withUrl.json('GET', '/a'), 'auth_required', { instance: server.url });
  assert.equal(authOf(2), basic('opencode', 's3cr@t'));
  assert.ok(!error.message.includes('s3cr'), error.message);

  const otherUser = transport(t, { url: `http://alice:pw@127.0.0.1:${server.port}` });
  await expectOpencodeError(otherUser.json('GET', '/a'), 'auth_required');
  assert.equal(authOf(3), basic('alice', 'pw'));

  // An explicit password wins over the one in the URL.
  const both = transport(t, { url: `http://opencode:old@127.0.0.1:${server.port}`, password: 'new' });
  await expectOpencodeError(both.json('GET', '/a'), 'auth_required');
  assert.equal(authOf(4), basic('opencode', 'new'));
});

test('URLs: base path kept, credentials redacted, bad URLs rejected with OpencodeError', async (t) => {
  const server = await serve(t, (_req, res) => sendJson(res, { healthy: true }));
  const prefixed = transport(t, { url: `${server.url}/prefix/` });
  assert.equal(prefixed.instance, `${server.url}/prefix`);
  await prefixed.json('GET', '/global/health', { query: { a: 1, b: undefined, c: 'x y' } });
  assert.equal(server.requests[0]?.url, '/prefix/global/health?a=1&c=x+y');

  assert.deepEqual(parseEndpointUrl('https://u:p%20w@host:8443/base//'), { origin: 'https://host:8443', basePath: '/base', username: 'u', password: 'p w' });
  assert.equal(redactUrl('http://user:pw@host:1/x'), 'http://host:1/x');
  assert.equal(redactUrl('http://host:1/x@y'), 'http://host:1/x@y');
  for (const url of ['not a url', 'ftp://user:secret@host/', 'file:///etc/passwd']) {
    assert.throws(
      () => new HttpTransport({ url }),
      (error: unknown) => error instanceof OpencodeError && error.kind === 'network' && !error.message.includes('secret'),
    );
  }
});

test('credentials with a bare % in the URL are used as typed, never thrown as a URIError', async (t) => {
  const server = await serve(t, (_req, res) => res.writeHead(401).end());
  let http: HttpTransport | undefined;
  try {
    http = transport(t, { url: `http://opencode:100%@127.0.0.1:${server.port}` });
  } catch (error) {
    assert.fail(`the constructor threw ${String(error)}`);
  }
  await expectOpencodeError(http.json('GET', '/a'), 'auth_required', { instance: server.url });
  assert.equal(server.requests[0]?.headers.authorization, basic('opencode', '100%'));
});

test('redactUrl removes the whole userinfo, also when the password contains @', () => {
  assert.equal(redactUrl('ftp://user:p@ss@host/x'), 'ftp://host/x');
  assert.throws(
    () => new HttpTransport({ url: 'ftp://user:p@ss@host/x' }),
    (error: unknown) => error instanceof OpencodeError && !error.message.includes('ss@'),
  );
});

test('a server that accepts and never answers → timeout within ~timeoutMs', async (t) => {
  const server = await serve(t, () => undefined);
  const http = transport(t, { url: server.url }, { timeoutMs: 200 });
  let start = Date.now();
  const error = await expectOpencodeError(http.json('GET', '/session'), 'timeout', { endpoint: 'GET /session', instance: server.url });
  let elapsed = Date.now() - start;
  assert.ok(elapsed >= 190 && elapsed < 1_000, `took ${elapsed} ms`);
  assert.match(error.message, /200 ms/);
  assert.equal(server.requests.length, 1, 'a timeout is not retried');

  // A per-request deadline overrides the transport's.
  start = Date.now();
  await expectOpencodeError(http.json('POST', '/x', { timeoutMs: 50, body: {} }), 'timeout');
  elapsed = Date.now() - start;
  assert.ok(elapsed >= 45 && elapsed < 500, `took ${elapsed} ms`);
});

test('headers sent but the body stalls → timeout too', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
    res.write('{"a":');
  });
  const http = transport(t, { url: server.url }, { timeoutMs: 200 });
  const start = Date.now();
  await expectOpencodeError(http.json('GET', '/slow'), 'timeout');
  assert.ok(Date.now() - start < 1_000);
});

test('connection refused → network', async (t) => {
  const port = await closedPort();
  const http = transport(t, { url: `http://127.0.0.1:${port}` });
  const error = await expectOpencodeError(http.json('GET', '/global/health'), 'network', { endpoint: 'GET /global/health', instance: `http://127.0.0.1:${port}` });
  assert.match(error.message, /ECONNREFUSED/);
});

test('a socket closed mid-body → network', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 100 });
    res.write('{"a":', () => res.destroy());
  });
  const http = transport(t, { url: server.url });
  await expectOpencodeError(http.json('GET', '/cut'), 'network', { endpoint: 'GET /cut' });
  await expectOpencodeError(http.json('POST', '/cut'), 'network', { endpoint: 'POST /cut' });
});

test('non-JSON → malformed; empty body → undefined', async (t) => {
  const server = await serve(t, (req, res) => {
    if (req.url === '/html') return sendJson(res, '<!doctype html><html>SPA</html>');
    if (req.url === '/empty') return res.writeHead(204).end();
    sendJson(res, '  \n');
  });
  const http = transport(t, { url: server.url });
  const error = await expectOpencodeError(http.json('GET', '/html'), 'malformed', { endpoint: 'GET /html', instance: server.url });
  assert.match(error.message, /not JSON/);
  assert.equal(await http.json('POST', '/empty'), undefined);
  assert.equal(await http.json('GET', '/blank'), undefined);
});

test('raw control characters in a body are cleaned, the value kept, and a warning logged', async (t) => {
  const server = await serve(t, (_req, res) => sendJson(res, '{"output":"\u001b[32mok\u001b[0m\nnext","n":1}'));
  const logger = new MemoryLogger();
  const http = transport(t, { url: server.url }, { logger });
  assert.deepEqual(await http.json('GET', '/session/s/message'), { output: '\u001b[32mok\u001b[0m\nnext', n: 1 });
  const warns = logger.records.filter((r) => r.level === 'warn');
  assert.equal(warns.length, 1);
  assert.match(warns[0]?.message ?? '', /GET \/session\/s\/message on http:\/\/127\.0\.0\.1:\d+: cleaned 3 control character/);
});

function bigBodyServer(t: TestContext): Promise<LocalServer> {
  return serve(t, (req, res) => {
    res.on('error', () => undefined);
    if (req.url === '/declared') return sendJson(res, JSON.stringify({ data: 'x'.repeat(5_000) }));
    if (req.url === '/exact') return sendJson(res, '"' + 'y'.repeat(998) + '"');
    // Chunked, no content-length: the cap must hold while reading.
    res.writeHead(200, { 'content-type': 'application/json' });
    let sent = 0;
    const pump = () => {
      while (sent < 200_000 && !res.destroyed) {
        sent += 1_000;
        if (!res.write('x'.repeat(1_000))) return void res.once('drain', pump);
      }
      res.end();
    };
    res.write('"');
    pump();
  });
}

test('a body over maxBodyBytes without content-length → too_large', async (t) => {
  const server = await bigBodyServer(t);
  const http = transport(t, { url: server.url }, { maxBodyBytes: 1_000 });
  const error = await expectOpencodeError(http.json('GET', '/chunked'), 'too_large', { endpoint: 'GET /chunked', instance: server.url });
  assert.match(error.message, /1000 bytes/);
  assert.equal(server.requests.length, 1, 'too_large is not retried');
  assert.equal(await http.json('GET', '/exact'), 'y'.repeat(998), 'a body of exactly the cap is fine');
  await delay(20);
});

test('a body over maxBodyBytes by content-length → too_large (and nothing is thrown elsewhere)', async (t) => {
  const server = await bigBodyServer(t);
  const http = transport(t, { url: server.url }, { maxBodyBytes: 1_000 });
  await expectOpencodeError(http.json('GET', '/declared'), 'too_large', { endpoint: 'GET /declared', instance: server.url });
  // An 'error' emitted on the destroyed body with no listener would surface here as an uncaughtException.
  await delay(20);
});

test('HTTP 500 → http error with the status and an excerpt of the body', async (t) => {
  const server = await serve(t, (req, res) => {
    if (req.url === '/missing') return sendJson(res, { name: 'NotFoundError' }, 404);
    sendJson(res, '{"name":"UnknownError","data":{"message":"boom\u0000\nline"}}', 500);
  });
  const http = transport(t, { url: server.url });
  const e1 = await expectOpencodeError(http.json('POST', '/session/x/abort'), 'http', { endpoint: 'POST /session/x/abort', instance: server.url });
  assert.equal(e1.status, 500);
  assert.match(e1.message, /HTTP 500: \{"name":"UnknownError".*boom/);
  assert.doesNotMatch(e1.message, /[\u0000-\u001f]/);
  const e2 = await expectOpencodeError(http.json('GET', '/missing'), 'http');
  assert.equal(e2.status, 404);
});

test('an error status with a large body → http error (and nothing is thrown elsewhere)', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.on('error', () => undefined);
    sendJson(res, '<html>' + 'x'.repeat(100_000) + '</html>', 502);
  });
  const http = transport(t, { url: server.url });
  const error = await expectOpencodeError(http.json('GET', '/proxy'), 'http', { endpoint: 'GET /proxy' });
  assert.equal(error.status, 502);
  await delay(20);
});

test('an error status with a large body → the excerpt is its start, cleaned, and the rest is not read', async (t) => {
  let sent = 0;
  let closedEarly = false;
  const server = await serve(t, (_req, res) => {
    res.on('error', () => undefined);
    res.on('close', () => (closedEarly = !res.writableFinished));
    // 32 MB without content-length (more than loopback buffers hold): only the first 64 KB are
    // read, then the socket is dropped.
    res.writeHead(503, { 'content-type': 'text/plain' });
    res.write('upstream \u001b[31mdown\u001b[0m\u202e: ' + 'z'.repeat(64 * 1024));
    const chunk = 'y'.repeat(64 * 1024);
    const pump = () => {
      while (sent < 512 && !res.destroyed && res.write(chunk)) sent++;
      if (sent < 512 && !res.destroyed) res.once('drain', pump);
      else res.end();
    };
    pump();
  });
  const http = transport(t, { url: server.url });
  const error = await expectOpencodeError(http.json('GET', '/down'), 'http', { endpoint: 'GET /down' });
  assert.equal(error.status, 503);
  assert.match(error.message, /: HTTP 503: upstream +\[31mdown \[0m : z{20}/);
  assert.doesNotMatch(error.message, /[\u0000-\u001f\u202e]/);
  assert.ok(error.message.length < 300, `${error.message.length} characters`);
  await waitFor(() => closedEarly, () => `the server to see its answer cut off (${sent} of 512 chunks sent)`);
});

test('informational 1xx answers (103 Early Hints) before the answer do not replace it', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
    sendJson(res, { sessions: 3 });
  });
  const http = transport(t, { url: server.url });
  assert.deepEqual(await http.json('GET', '/session'), { sessions: 3 });
});

test('a request queued behind hung ones fails at its own deadline, not when a socket frees', async (t) => {
  const server = await serve(t, () => undefined);
  const http = transport(t, { url: server.url }, { connections: 1, timeoutMs: 5_000 });
  const hung = http.json('GET', '/hang').catch((error: unknown) => error);
  await waitFor(() => server.requests.length === 1, 'the first request to reach the server');
  const start = Date.now();
  await expectOpencodeError(http.json('GET', '/queued', { timeoutMs: 100 }), 'timeout', { endpoint: 'GET /queued' });
  const elapsed = Date.now() - start;
  assert.ok(elapsed >= 90 && elapsed < 1_000, `took ${elapsed} ms`);
  const caller = new AbortController();
  setTimeout(() => caller.abort(), 50);
  await expectOpencodeError(http.json('GET', '/queued2', { signal: caller.signal }), 'aborted');
  assert.equal(server.requests.length, 1, 'the queued requests never went out');
  await http.close();
  assert.ok((await hung) instanceof OpencodeError);
});

test('the caller AbortSignal → aborted; no listener is left on it', async (t) => {
  const server = await serve(t, () => undefined);
  const http = transport(t, { url: server.url });
  const pre = new AbortController();
  pre.abort();
  await expectOpencodeError(http.json('GET', '/x', { signal: pre.signal }), 'aborted', { endpoint: 'GET /x' });

  const mid = new AbortController();
  const start = Date.now();
  setTimeout(() => mid.abort(), 50);
  await expectOpencodeError(http.json('GET', '/x', { signal: mid.signal }), 'aborted');
  assert.ok(Date.now() - start < 1_000);

  // A long-lived signal shared by many requests must not collect listeners.
  const shared = new AbortController();
  const ok = await serve(t, (_req, res) => sendJson(res, true));
  const http2 = transport(t, { url: ok.url });
  for (let i = 0; i < 5; i++) await http2.json('GET', '/y', { signal: shared.signal });
  await expectOpencodeError(http2.json('GET', '/nope', { signal: shared.signal, timeoutMs: 1 }), 'timeout').catch(() => undefined);
  assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
});

test('after close() every call fails with an OpencodeError', async (t) => {
  const server = await serve(t, (_req, res) => sendJson(res, true));
  const http = transport(t, { url: server.url });
  assert.equal(await http.json('GET', '/x'), true);
  await http.close();
  await http.close();
  await expectOpencodeError(http.json('GET', '/x'), 'aborted', { endpoint: 'GET /x' });
  const error = await http.openStream('/event', new AbortController().signal).then(
    () => assert.fail('openStream after close() succeeded'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof OpencodeError && error.endpoint === 'GET /event', String(error));
  assert.equal(server.requests.length, 1, 'nothing reaches the server after close()');
});

test('keep-alive: sequential requests reuse one socket', async (t) => {
  const server = await serve(t, (_req, res, ctx) => sendJson(res, { n: ctx.requestOnSocket }));
  const http = transport(t, { url: server.url });
  for (let i = 1; i <= 6; i++) {
    assert.deepEqual(await http.json(i % 2 ? 'GET' : 'POST', '/x', i % 2 ? {} : { body: { i } }), { n: i });
    // undici hands a socket back to its pool a tick after the body ends; a poller never asks faster.
    await delay(1);
  }
  assert.equal(server.connections, 1);
});

test('keep-alive: back-to-back requests use few sockets', async (t) => {
  const server = await serve(t, (_req, res) => sendJson(res, true));
  const http = transport(t, { url: server.url });
  for (let i = 0; i < 20; i++) await http.json('GET', '/x');
  assert.ok(server.connections <= 2, `${server.connections} sockets for 20 sequential requests`);
});

test('parallel requests are bounded by `connections`', async (t) => {
  const server = await serve(t, async (_req, res) => {
    await delay(30);
    sendJson(res, 1);
  });
  const http = transport(t, { url: server.url }, { connections: 2 });
  await Promise.all(Array.from({ length: 6 }, () => http.json('GET', '/x')));
  assert.equal(server.connections, 2);
});

test('a kept-alive socket closed by the server: GET retries once on a fresh one, POST does not', async (t) => {
  // The second request on any socket kills that socket, as a server that timed it out would.
  const server = await serve(t, (_req, res, ctx) => {
    if (ctx.requestOnSocket >= 2) res.socket?.destroy();
    else sendJson(res, { socket: ctx.socketId });
  });
  const logger = new MemoryLogger();
  const http = transport(t, { url: server.url }, { logger });
  assert.deepEqual(await http.json('GET', '/a'), { socket: 1 });
  await delay(1);
  assert.deepEqual(await http.json('GET', '/a'), { socket: 2 });
  assert.match(logger.text(), /GET \/a on .*retrying on a fresh socket/);
  assert.equal(server.requests.length, 3);
  await delay(1);

  await expectOpencodeError(http.json('POST', '/b', { body: {} }), 'network', { endpoint: 'POST /b' });
  assert.equal(server.requests.filter((r) => r.method === 'POST').length, 1);
});

test('close() leaves no socket and no timer behind', async (t) => {
  const server = await serve(t, (req, res) => (req.url === '/hang' ? undefined : sendJson(res, true)));
  const before = await quietHandles();
  const http = new HttpTransport({ url: server.url }, { timeoutMs: 2_000 });
  await Promise.all([http.json('GET', '/a'), http.json('GET', '/b'), http.json('GET', '/c')]);
  const pending = http.json('GET', '/hang');
  await waitFor(() => server.requests.length === 4, 'the hanging request to arrive');
  assert.ok(activeHandles().sockets > before.sockets);
  await http.close();
  // The request in flight fails as an OpencodeError rather than hanging.
  await expectOpencodeError(pending, 'network', { endpoint: 'GET /hang' });
  await waitFor(() => server.openSockets === 0, 'the server side sockets to close');
  await expectHandlesBackTo(before);
});

test('the web UI page OpenCode serves for a route it lacks → no_route, not malformed', async (t) => {
  const server = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!doctype html><html><head></head></html>');
  });
  const http = transport(t, { url: server.url });
  const error = await expectOpencodeError(http.json('GET', '/api/info'), 'no_route', { endpoint: 'GET /api/info', instance: server.url });
  assert.match(error.message, /web page, not the API/);
});
