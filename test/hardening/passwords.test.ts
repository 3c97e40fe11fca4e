/**
 * Finding 3 (issue 11): a workspace could add servers to watch, and endpoints without a stored
 * password received OPENCODE_SERVER_PASSWORD from the environment. Now endpoints are
 * machine-scoped, the environment password goes only to servers found on this machine, and a
 * password over plain http to another host is warned about once.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { createMonitor } from '../../src/core/createMonitor';
import { InstanceWatcher } from '../../src/core/monitor/instanceWatcher';
import { environmentPasswordFor, isLoopbackUrl } from "../../src/core/opencode/passwordPolicy";
import { startHostileOpencode } from '../fixtures/hostileOpencode';
import { contributedSettings } from '../harness/manifestSettings';

test('finding 3: opencodeMonitor.endpoints is machine-scoped (a workspace cannot add servers)', () => {
  const settings = contributedSettings();
  assert.equal(settings['opencodeMonitor.endpoints']?.scope, 'machine');
});

test('finding 3: a configured endpoint never receives the environment password', { timeout: 30_000 }, async (t) => {
  const server = await startHostileOpencode({ plant: false });
  t.after(() => server.close());
  const monitor = createMonitor({ logger: new MemoryLogger(), endpoints: [{ url: server.url }], localPassword: 'env-secret', discoverLocal: false, limitedSessions: false }).start();
  t.after(() => monitor.dispose());
  await monitor.settle();
  assert.ok(server.total() > 0, 'the endpoint was watched');
  const leaked = server.authorizations.filter((a) => Buffer.from(a.replace(/^Basic /, ''), 'base64').toString().includes('env-secret'));
  assert.equal(leaked.length, 0, `the environment password reached a configured endpoint ${leaked.length} time(s)`);
  // Its own (stored) password still goes to it.
  assert.equal(environmentPasswordFor('http://devbox:4096', true, 'x'), undefined);
  assert.equal(environmentPasswordFor('http://127.0.0.1:4096', true, 'x'), 'x');
  assert.ok(isLoopbackUrl('http://[::1]:1') && isLoopbackUrl('http://localhost:1') && !isLoopbackUrl('http://127.0.0.1.evil.example:1'));
});

test('finding 3: a password over plain http to another host is warned about once', async () => {
  const logger = new MemoryLogger();
  const watcher = new InstanceWatcher({ url: 'http://192.0.2.1:4096', password: 'p', logger, onChange: () => undefined });
  watcher.setPassword('q');
  watcher.setPassword('r');
  await watcher.dispose();
  const warnings = logger.records.filter((r) => r.level === 'warn' && /plain http/.test(r.message));
  assert.equal(warnings.length, 1, logger.text());
  const local = new MemoryLogger();
  await new InstanceWatcher({ url: 'http://127.0.0.1:4096', password: 'p', logger: local, onChange: () => undefined }).dispose();
  assert.doesNotMatch(local.text(), /plain http/);
});
