/**
 * The token never leaves the Authorization header: the whole stack (credentials file → client →
 * poller → shared cache → legacy files) runs against a server that echoes the token in every
 * failure it can produce, and nothing it logs, shows or writes contains it.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { LegacyWriter } from '../../../src/core/legacy/legacyWriter';
import { MemoryLogger } from '../../../src/core/log';
import type { UsageModel } from '../../../src/core/model/model';
import { Emitter } from '../../../src/core/util/events';
import { CredentialStore } from '../../../src/core/usage/credentials';
import { SharedUsage, usageShareKey } from '../../../src/core/usage/sharedUsage';
import { UsageClient } from '../../../src/core/usage/usageClient';
import { UsagePoller } from '../../../src/core/usage/usagePoller';
import { sendJson, startServer } from '../support/localServer';
import type { LocalServer } from '../support/localServer';
import { FakeClock, claudeCredentials, readTree, secretToken, tempDir, writeJson } from './support';
import { CLASSIC } from './fixtures';

type Scenario = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;
const echo = (req: http.IncomingMessage) => String(req.headers.authorization);

const SCENARIOS: Array<[string, Scenario]> = [
  ['ok', (_req, res) => sendJson(res, CLASSIC)],
  ['401 echo', (req, res) => sendJson(res, { type: 'error', error: { type: 'authentication_error', message: `invalid ${echo(req)}` } }, 401)],
  ['403 echo', (req, res) => sendJson(res, { type: 'error', error: { type: 'permission_error', message: `scope of ${echo(req).slice(7)}` } }, 403)],
  ['429 echo', (req, res) => {
    res.setHeader('retry-after', '61');
    res.setHeader('x-echo', echo(req));
    sendJson(res, { error: { type: 'rate_limit_error', message: `slow down ${echo(req)}` } }, 429);
  }],
  ['500 text echo', (req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' });
    res.end(`boom ${echo(req)}\n${echo(req).slice(7)}`);
  }],
  ['200 malformed echo', (req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(`<html>${echo(req)}</html>`);
  }],
  ['200 wrong shape echo', (req, res) => sendJson(res, { five_hour: echo(req) })],
  ['slow', async (_req, res) => {
    await new Promise((r) => setTimeout(r, 400));
    if (!res.destroyed) sendJson(res, CLASSIC);
  }],
  ['reset', (req) => void req.socket.destroy()],
  ['ok again', (_req, res) => sendJson(res, CLASSIC)],
];

describe('token confidentiality', () => {
  let server: LocalServer;
  let scenario: Scenario = SCENARIOS[0]![1];
  let root: string;

  before(async () => {
    server = await startServer((req, res) => scenario(req, res));
    root = tempDir('ocm-leak-');
  });
  after(async () => {
    await server.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('keeps the token out of logs, models, errors and every file written', async () => {
    const token = secretToken();
    const home = path.join(root, 'home');
    const credFile = path.join(home, '.claude/.credentials.json');
    writeJson(credFile, claudeCredentials(token, Date.now() + 8 * 3600_000));
    const shareDir = path.join(root, 'share');
    const legacyDir = path.join(root, 'legacy');
    fs.mkdirSync(legacyDir, { recursive: true }); // the legacy writer never creates folders (issue 11)
    const logger = new MemoryLogger();
    const clock = new FakeClock(Date.now());
    const credentials = new CredentialStore({ env: { HOME: home }, platform: 'linux', logger });
    const client = new UsageClient({ baseUrl: server.url, userAgent: 'opencode-monitor/test', timeoutMs: 150 });
    let poller: UsagePoller | undefined;
    const shared = new SharedUsage({
      logger,
      ownerLabel: 'leak test',
      key: usageShareKey([server.url, ...credentials.files()]),
      intervalMs: 60_000,
      dir: shareDir,
      pollMs: 20,
      createPoller: (initial) => (poller = new UsagePoller({ credentials, client, logger, clock, intervalMs: 60_000, ...(initial ? { initialState: initial } : {}) })),
    });
    const lock = { isHolder: () => true, onChange: new Emitter<boolean>().event };
    const writer = new LegacyWriter({
      lock,
      logger,
      statePath: path.join(legacyDir, 'state.json'),
      usagePath: path.join(legacyDir, 'usage.json'),
      refresher: { notify: () => undefined },
      usage: { keepStaleValuesSec: 3600 },
    });
    const models: Array<UsageModel | undefined> = [];
    shared.onChange((u) => models.push(u));

    const cleanup = async () => {
      shared.dispose();
      writer.dispose();
      credentials.dispose();
      await client.close();
    };
    shared.start();
    const seen = new Set<string>();
    try {
      await shared.settle(3_000);
      assert.ok(poller);
      for (const [name, run] of SCENARIOS) {
        scenario = run;
        if (name !== 'ok') {
          // Past any backoff: the next scheduled poll runs now.
          clock.advance(clock.nextDelay() ?? 0);
          await new Promise((r) => setImmediate(r));
          await poller.whenIdle();
        }
        const current = shared.current();
        writer.update({ instances: [], sessions: [], usage: current, updatedAt: Date.now() });
        seen.add(`${name}: ${current?.error ?? 'ok'}`);
      }
      assert.equal(server.requests.length, SCENARIOS.length, 'one request per scenario');
      assert.ok(server.requests.every((r) => r.headers.authorization === `Bearer ${token}`));
      assert.deepEqual(
        [...seen],
        [
          'ok: ok',
          '401 echo: token_expired',
          '403 echo: missing_scope',
          '429 echo: rate_limited',
          '500 text echo: api_error',
          '200 malformed echo: api_error',
          '200 wrong shape echo: api_error',
          'slow: api_error',
          'reset: api_error',
          'ok again: ok',
        ],
      );
      const errorMessages = models.map((m) => m?.errorMessage).filter(Boolean);
      assert.ok(errorMessages.length >= 8, 'the failures were reported');
      assert.ok(errorMessages.some((m) => m!.includes('[redacted]')), 'echoed tokens were masked, not dropped silently');
    } finally {
      await cleanup();
    }
    assert.ok(poller);

    // Logs, models, errors, handed-over state.
    assert.equal(logger.text().includes(token), false, 'log');
    assert.equal(JSON.stringify(models).includes(token), false, 'models');
    assert.equal(inspect(models, { depth: 10 }).includes(token), false, 'models (inspect)');
    assert.equal(JSON.stringify(poller.state()).includes(token), false, 'poller state');
    // Every file written anywhere under the test root, except the credentials file itself.
    const files = readTree(root).filter((f) => f.file !== credFile);
    assert.ok(files.some((f) => f.file.endsWith('usage.json')), 'the legacy usage file was written');
    assert.ok(files.some((f) => f.file.startsWith(shareDir)), 'the shared cache was written');
    for (const f of files) assert.equal(f.content.includes(token), false, `${f.file} holds the token`);
    // Not even a fragment long enough to matter.
    const fragment = token.slice(14, 30);
    assert.equal(logger.text().includes(fragment) || files.some((f) => f.content.includes(fragment)), false, 'no token fragment');
    const legacy = JSON.parse(fs.readFileSync(path.join(legacyDir, 'usage.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(legacy.five_hour, { utilization: 19, resets_at: '2025-11-25T22:00:00.288792+00:00' });
  });
});
