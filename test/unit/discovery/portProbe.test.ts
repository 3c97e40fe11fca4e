import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { probeOpencode } from '../../../src/core/discovery/portProbe';
import { closedPort, sendJson, startServer, waitFor } from '../support/localServer';
import { SAMPLES } from './helpers';

const health = (): unknown => {
  const sample = JSON.parse(fs.readFileSync(path.join(SAMPLES, 'idle/server-1.json'), 'utf8')) as Record<string, unknown>;
  return sample['GET /global/health'] ?? { healthy: true, version: '1.18.33' };
};

test('an OpenCode health answer: version, one request, no socket left open', async (t) => {
  const server = await startServer((_req, res) => sendJson(res, health()));
  t.after(() => server.close());
  const result = await probeOpencode(server.url, { timeoutMs: 1_000 });
  assert.deepEqual(result, { ok: true, version: '1.18.33', healthy: true });
  assert.equal(server.requests.length, 1);
  assert.equal(server.requests[0]?.path, '/global/health');
  assert.equal(server.requests[0]?.headers.authorization, undefined);
  // One-shot connection: the probe keeps nothing alive.
  await waitFor(() => server.openSockets === 0, 'the probe socket to close');
});

test('401 with a Basic challenge is OpenCode with a password; the password is sent as user opencode', async (t) => {
  const server = await startServer((req, res) => {
    if (req.headers.authorization === 'Basic ' + Buffer.from('opencode:labpw').toString('base64')) return sendJson(res, health());
    res.writeHead(401, { 'www-authenticate': 'Basic realm="Secure Area"', 'content-length': '0' }).end();
  });
  t.after(() => server.close());
  assert.deepEqual(await probeOpencode(server.url), { ok: false, reason: 'auth_required', detail: 'password required (401)' });
  assert.deepEqual(await probeOpencode(server.url, { password: 'wrong' }), { ok: false, reason: 'auth_required', detail: 'password rejected (401)' });
  assert.equal((await probeOpencode(server.url, { password: 'labpw' })).ok, true);
  // Credentials in the URL work too and never reach the path.
  const withCreds = server.url.replace('http://', 'http://opencode:labpw@');
  assert.equal((await probeOpencode(withCreds)).ok, true);
  assert.equal(server.requests.at(-1)?.url, '/global/health');
});

test('answers that are not OpenCode', async (t) => {
  const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/html': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>OpenCode</title>'),
    '/json': (res) => sendJson(res, { status: 'ok' }),
    '/missing': (res) => res.writeHead(404).end('not found'),
    '/bearer': (res) => res.writeHead(401, { 'www-authenticate': 'Bearer' }).end(),
    '/big': (res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`{"healthy":true,"version":"${'x'.repeat(200_000)}"}`);
    },
  };
  const server = await startServer((req, res) => {
    const route = Object.keys(routes).find((r) => req.url?.startsWith(r));
    (routes[route ?? '/missing'] as (res: import('node:http').ServerResponse) => void)(res);
  });
  t.after(() => server.close());
  for (const [route, detail] of [
    ['/html', 'body is not JSON'],
    ['/json', 'not a {healthy, version} answer'],
    ['/missing', 'HTTP 404'],
    ['/bearer', 'HTTP 401 without a Basic challenge'],
    ['/big', 'body too large for a health answer'],
  ] as const) {
    assert.deepEqual(await probeOpencode(`${server.url}${route}`), { ok: false, reason: 'not_opencode', detail }, route);
  }
  // The base path of the URL is kept.
  assert.equal(server.requests[0]?.path, '/html/global/health');
});

test('no answer: refused, silent (OpenCode in its first 0.5 s), 5xx, aborted — all worth retrying', async (t) => {
  const refused = await probeOpencode(`http://127.0.0.1:${await closedPort()}`);
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.reason, 'no_answer');
  assert.match(!refused.ok ? refused.detail : '', /ECONNREFUSED/);

  const silent = await startServer(() => undefined);
  t.after(() => silent.close());
  const started = Date.now();
  const hung = await probeOpencode(silent.url, { timeoutMs: 300 });
  const elapsed = Date.now() - started;
  assert.deepEqual(hung, { ok: false, reason: 'no_answer', detail: 'no answer within 300 ms' });
  assert.ok(elapsed >= 250 && elapsed < 1_500, `took ${elapsed} ms`);
  await waitFor(() => silent.openSockets === 0, 'the timed-out socket to close');

  const failing = await startServer((_req, res) => res.writeHead(503).end());
  t.after(() => failing.close());
  assert.deepEqual(await probeOpencode(failing.url), { ok: false, reason: 'no_answer', detail: 'HTTP 503' });

  const controller = new AbortController();
  const pending = probeOpencode(silent.url, { timeoutMs: 5_000, signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  const aborted = await pending;
  assert.equal(!aborted.ok && aborted.reason, 'no_answer');

  assert.deepEqual(await probeOpencode('not a url'), { ok: false, reason: 'no_answer', detail: 'not a valid URL' });
});
