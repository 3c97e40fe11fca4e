/** createUsageService: settings → credentials, client and shared poller. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../../src/core/log';
import { redactSecrets, safeExcerpt } from '../../../src/core/usage/redact';
import { createUsageService } from '../../../src/core/usage/service';
import { BASE_URL_ENV, userAgentOr } from '../../../src/core/usage/usageClient';
import { sendJson, startServer } from '../support/localServer';
import type { LocalServer } from '../support/localServer';
import { CLASSIC } from './fixtures';
import { claudeCredentials, secretToken, tempDir, writeJson } from './support';

describe('createUsageService', () => {
  let server: LocalServer;
  let root: string;
  before(async () => {
    server = await startServer((_req, res) => sendJson(res, CLASSIC));
    root = tempDir('ocm-service-');
  });
  after(async () => {
    await server.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  async function serviceFor(name: string, settings: { userAgent?: string; baseUrl?: string; env?: Record<string, string> }) {
    const home = path.join(root, name);
    writeJson(path.join(home, '.claude/.credentials.json'), claudeCredentials(secretToken(), Date.now() + 3600_000));
    const service = createUsageService({
      logger: new MemoryLogger(),
      ownerLabel: `test ${name}`,
      version: '1.2.3',
      ...settings,
      env: { HOME: home, ...settings.env },
      shareDir: path.join(root, 'share'),
    });
    service.start();
    await service.settle(5_000);
    return service;
  }

  it('uses the setting’s base URL, the default User-Agent, and shows the values', async () => {
    const service = await serviceFor('a', { baseUrl: server.url });
    assert.equal(service.role, 'poller');
    assert.equal(service.current()!.fiveHour!.percent, 19);
    assert.equal(server.requests.at(-1)!.headers['user-agent'], 'opencode-monitor/1.2.3');
    assert.ok(service.cachePath.startsWith(path.join(root, 'share')));
    await service.dispose();
  });

  it('lets the environment variable override the setting, and a User-Agent setting override the default', async () => {
    const service = await serviceFor('b', { baseUrl: 'https://never.example', userAgent: 'my-tool/4', env: { [BASE_URL_ENV]: server.url } });
    assert.equal(service.current()!.error, undefined);
    assert.equal(server.requests.at(-1)!.headers['user-agent'], 'my-tool/4');
    await service.dispose();
    const bad = await serviceFor('c', { baseUrl: server.url, userAgent: 'evil\r\nx-injected: 1' });
    assert.equal(server.requests.at(-1)!.headers['user-agent'], 'opencode-monitor/1.2.3');
    assert.equal(server.requests.at(-1)!.headers['x-injected'], undefined);
    await bad.dispose();
  });
});

describe('redaction helpers', () => {
  it('masks known secrets, Anthropic keys and bearer headers', () => {
    const token = secretToken();
    assert.equal(redactSecrets(`a ${token} b`, [token]), 'a [redacted] b');
    assert.equal(redactSecrets('key sk-ant-api03-abcdef_123-x here'), 'key sk-ant-[redacted] here');
    assert.equal(redactSecrets('Authorization: Bearer abc.def-ghi_123'), 'Authorization: Bearer [redacted]');
    assert.equal(redactSecrets('short', ['s']), 'short', 'tiny values are no secrets');
    assert.equal(safeExcerpt(`line1\nline2 ${'x'.repeat(300)}`, [], 20), 'line1 line2 xxxxxxx…');
    assert.equal(userAgentOr(' ok/1 ', 'd'), 'ok/1');
    assert.equal(userAgentOr('', 'd'), 'd');
    assert.equal(userAgentOr('a\nb', 'd'), 'd');
  });
});
