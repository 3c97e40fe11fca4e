/** The usage API client against a local fake server: both shapes, every failure, headers, redaction. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type * as http from 'node:http';
import { closedPort, sendJson, startServer } from '../support/localServer';
import type { LocalServer } from '../support/localServer';
import { UsageCredential } from '../../../src/core/usage/usageCredential';
import {
  ANTHROPIC_BETA,
  BASE_URL_ENV,
  UsageApiError,
  UsageClient,
  checkUsageBaseUrl,
  normalizeResetsAt,
  parseRetryAfter,
  parseUsageResponse,
  resolveUsageBaseUrl,
} from '../../../src/core/usage/usageClient';
import { CLASSIC, LIMITS } from './fixtures';
import { secretToken } from './support';

type Scenario = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

describe('UsageClient', () => {
  let server: LocalServer;
  let scenario: Scenario = (_req, res) => sendJson(res, CLASSIC);
  const token = secretToken();
  const credential = new UsageCredential(token, 'claude-code');

  before(async () => {
    server = await startServer((req, res) => scenario(req, res));
  });
  after(async () => {
    await server.close();
  });

  const client = (timeoutMs = 2_000) => new UsageClient({ baseUrl: server.url, userAgent: 'opencode-monitor/9.9.9', timeoutMs });

  async function failure(run: Scenario, timeoutMs?: number): Promise<UsageApiError> {
    scenario = run;
    const c = client(timeoutMs);
    try {
      await c.fetchUsage(credential);
    } catch (error) {
      assert.ok(error instanceof UsageApiError, `a UsageApiError, got ${String(error)}`);
      assert.equal(error.message.includes(token), false, 'the token is not in the message');
      assert.equal(String(error.stack).includes(token), false, 'nor in the stack');
      return error;
    } finally {
      await c.close();
    }
    assert.fail('expected a failure');
  }

  it('sends the OAuth headers and parses the classic shape', async () => {
    scenario = (_req, res) => sendJson(res, CLASSIC);
    const c = client();
    const data = await c.fetchUsage(credential);
    await c.close();
    const req = server.requests.at(-1)!;
    assert.equal(req.method, 'GET');
    assert.equal(req.path, '/api/oauth/usage');
    assert.equal(req.headers.authorization, `Bearer ${token}`);
    assert.equal(req.headers['anthropic-beta'], ANTHROPIC_BETA);
    assert.equal(req.headers['user-agent'], 'opencode-monitor/9.9.9');
    assert.deepEqual(data, {
      fiveHour: { percent: 19, resetsAt: '2025-11-25T22:00:00.288792+00:00' },
      sevenDay: { percent: 7, resetsAt: '2025-12-01T21:00:00.288804+00:00' },
      modelWeeks: { opus: { percent: 33.5, resetsAt: '2025-12-01T21:00:00.288804+00:00' } },
    });
  });

  it('parses the limits[] shape, with per-model weeks from scoped limits', async () => {
    scenario = (_req, res) => sendJson(res, LIMITS);
    const c = client();
    const data = await c.fetchUsage(credential);
    await c.close();
    assert.deepEqual(data, {
      fiveHour: { percent: 10, resetsAt: '2026-09-01T15:00:00Z' },
      sevenDay: { percent: 20, resetsAt: '2026-09-05T09:00:00Z' },
      modelWeeks: { fable: { percent: 7, resetsAt: '2026-09-05T09:00:00Z' } },
    });
  });

  it('maps 401, 403 and 429 (with and without Retry-After) to typed errors', async () => {
    const expired = await failure((_req, res) =>
      sendJson(res, { type: 'error', error: { type: 'authentication_error', message: 'OAuth access token has expired. Re-authenticate to continue.' }, request_id: null }, 401),
    );
    assert.equal(expired.kind, 'unauthorized');
    assert.equal(expired.status, 401);
    assert.match(expired.message, /OAuth access token has expired/);

    const scope = await failure((_req, res) =>
      sendJson(res, { type: 'error', error: { type: 'permission_error', message: 'OAuth token does not meet scope requirement user:profile', details: { error_code: 'oauth_scope_insufficient' } } }, 403),
    );
    assert.equal(scope.kind, 'forbidden');
    assert.match(scope.message, /user:profile/);

    const limited = await failure((_req, res) => {
      res.setHeader('retry-after', '1600');
      sendJson(res, { error: { type: 'rate_limit_error', message: 'Rate limited. Please try again later.' } }, 429);
    });
    assert.equal(limited.kind, 'rate_limited');
    assert.equal(limited.retryAfterMs, 1_600_000);

    const bare = await failure((_req, res) => sendJson(res, { error: { type: 'rate_limit_error', message: 'Rate limited.' } }, 429));
    assert.equal(bare.kind, 'rate_limited');
    assert.equal(bare.retryAfterMs, undefined);

    const dated = await failure((_req, res) => {
      res.setHeader('retry-after', new Date(Date.now() + 120_000).toUTCString());
      sendJson(res, {}, 429);
    });
    assert.ok(dated.retryAfterMs! > 100_000 && dated.retryAfterMs! <= 120_000, `HTTP-date Retry-After: ${dated.retryAfterMs}`);
  });

  it('times out on a slow server', async () => {
    const started = Date.now();
    const slow = await failure(async (_req, res) => {
      await new Promise((r) => setTimeout(r, 1_000));
      if (!res.destroyed) sendJson(res, CLASSIC);
    }, 150);
    assert.equal(slow.kind, 'timeout');
    assert.ok(Date.now() - started < 900, 'gave up at the deadline');

    const slowBody = await failure((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"five_hour":');
    }, 150);
    assert.equal(slowBody.kind, 'timeout', 'the deadline covers the body');
  });

  it('rejects malformed answers', async () => {
    const html = await failure((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>Cloudflare</html>');
    });
    assert.equal(html.kind, 'malformed');
    assert.equal((await failure((_req, res) => sendJson(res, [1, 2, 3]))).kind, 'malformed');
    assert.equal((await failure((_req, res) => sendJson(res, { hello: 'world' }))).kind, 'malformed');
    assert.equal((await failure((_req, res) => sendJson(res, { five_hour: 'lots' }))).kind, 'malformed');
    const server500 = await failure((_req, res) => sendJson(res, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }, 500));
    assert.equal(server500.kind, 'http');
    assert.equal(server500.status, 500);
  });

  it('scrubs the token when the server echoes it back', async () => {
    const echo = await failure((req, res) => sendJson(res, { error: { message: `bad header: ${String(req.headers.authorization)}` } }, 401));
    assert.match(echo.message, /\[redacted\]/);
    const raw = await failure((req, res) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`upstream said ${String(req.headers.authorization)}`);
    });
    assert.equal(raw.kind, 'http');
  });

  it('reports a refused connection as a network error', async () => {
    const port = await closedPort();
    const c = new UsageClient({ baseUrl: `http://127.0.0.1:${port}`, userAgent: 'x/1' });
    await assert.rejects(c.fetchUsage(credential), (error: unknown) => error instanceof UsageApiError && error.kind === 'network' && !error.message.includes(token));
    await c.close();
  });

  it('refuses to send the token in clear text or to a URL with credentials', async () => {
    for (const bad of ['http://example.com', 'ftp://api.anthropic.com', 'https://user:pw@api.anthropic.com', 'not a url']) {
      const c = new UsageClient({ baseUrl: bad, userAgent: 'x/1' });
      await assert.rejects(c.fetchUsage(credential), (error: unknown) => error instanceof UsageApiError && error.kind === 'config', bad);
      await c.close();
    }
    assert.equal(checkUsageBaseUrl('https://api.anthropic.com/'), 'https://api.anthropic.com');
    assert.equal(checkUsageBaseUrl('http://localhost:8080/proxy/'), 'http://localhost:8080/proxy');
    assert.equal(checkUsageBaseUrl('http://127.0.0.1:1'), 'http://127.0.0.1:1');
  });
});

describe('usage API helpers', () => {
  it('picks the base URL: environment, then setting, then default', () => {
    assert.equal(resolveUsageBaseUrl(undefined, {}), 'https://api.anthropic.com');
    assert.equal(resolveUsageBaseUrl('https://proxy.example', {}), 'https://proxy.example');
    assert.equal(resolveUsageBaseUrl('https://proxy.example', { [BASE_URL_ENV]: 'http://127.0.0.1:9' }), 'http://127.0.0.1:9');
    assert.equal(resolveUsageBaseUrl('  ', { [BASE_URL_ENV]: '' }), 'https://api.anthropic.com');
  });

  it('parses Retry-After as seconds or an HTTP date', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter('90', now), 90_000);
    assert.equal(parseRetryAfter(['30', '60'], now), 30_000);
    assert.equal(parseRetryAfter(new Date(now + 5_000).toUTCString(), now), 5_000);
    assert.equal(parseRetryAfter(new Date(now - 5_000).toUTCString(), now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });

  it('normalizes reset times defensively', () => {
    assert.equal(normalizeResetsAt('2025-11-25T22:00:00.288792+00:00'), '2025-11-25T22:00:00.288792+00:00');
    assert.equal(normalizeResetsAt('2025-11-25T22:00:00'), '2025-11-25T22:00:00.000Z', 'zone-less is UTC');
    assert.equal(normalizeResetsAt(1764108000), '2025-11-25T22:00:00.000Z', 'epoch seconds');
    assert.equal(normalizeResetsAt(1764108000000), '2025-11-25T22:00:00.000Z', 'epoch ms');
    assert.equal(normalizeResetsAt(null), undefined);
    assert.equal(normalizeResetsAt('tomorrow'), undefined);
  });

  it('clamps percentages to 0–100 and treats null windows as not started', () => {
    const data = parseUsageResponse({ five_hour: { utilization: 130.5, resets_at: null }, seven_day: null, seven_day_opus: { utilization: -3 } });
    assert.deepEqual(data, { fiveHour: { percent: 100 }, sevenDay: { percent: 0 }, modelWeeks: { opus: { percent: 0 } } });
    assert.deepEqual(parseUsageResponse({ five_hour: { utilization: '61.0', resets_at: '2026-01-01T00:00:00Z' } }), { fiveHour: { percent: 61, resetsAt: '2026-01-01T00:00:00Z' } });
  });

  it('fills missing flat windows from limits[] (limits-only payloads)', () => {
    const data = parseUsageResponse({
      limits: [
        { kind: 'session', percent: 33, resets_at: '2026-09-01T15:00:00Z' },
        { kind: 'weekly_all', percent: 44 },
        { kind: 'weekly_scoped', percent: 5, scope: { model: { id: 'claude-opus-4', display_name: null } } },
        { kind: 'weekly_scoped', percent: 'x', scope: { model: { display_name: 'Broken' } } },
        'garbage',
      ],
    });
    assert.deepEqual(data, {
      fiveHour: { percent: 33, resetsAt: '2026-09-01T15:00:00Z' },
      sevenDay: { percent: 44 },
      modelWeeks: { 'claude-opus-4': { percent: 5 } },
    });
  });
});
