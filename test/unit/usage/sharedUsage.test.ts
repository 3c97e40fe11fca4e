/** One poller per user: election, the shared cache, takeover without extra requests, staleness. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../../src/core/log';
import type { UsageModel } from '../../../src/core/model/model';
import { SharedUsage, ensurePrivateDir, parseCache, usageShareKey, withAge } from '../../../src/core/usage/sharedUsage';
import { UsagePoller } from '../../../src/core/usage/usagePoller';
import type { UsagePollerState } from '../../../src/core/usage/usagePoller';
import { waitFor } from '../support/localServer';
import { FakeCredentials, ScriptedClient, secretToken, tempDir } from './support';

const GOOD = { fiveHour: { percent: 45.5, resetsAt: '2026-09-01T15:00:00Z' }, sevenDay: { percent: 62 } };
const dirs: string[] = [];

after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

interface Party {
  shared: SharedUsage;
  client: ScriptedClient;
  created: Array<UsagePollerState | undefined>;
  pollers: UsagePoller[];
  seen: Array<UsageModel | undefined>;
  logger: MemoryLogger;
}

function party(dir: string, token: string, options: { key?: string; label?: string } = {}): Party {
  const client = new ScriptedClient();
  client.fallback = GOOD;
  const credentials = FakeCredentials.withToken(token, Date.now() + 3600_000);
  const logger = new MemoryLogger();
  const created: Array<UsagePollerState | undefined> = [];
  const pollers: UsagePoller[] = [];
  const seen: Array<UsageModel | undefined> = [];
  const shared = new SharedUsage({
    logger,
    ownerLabel: options.label ?? 'test',
    key: options.key ?? usageShareKey(['http://127.0.0.1:1', 'test']),
    intervalMs: 300_000,
    dir,
    pollMs: 20,
    lock: { heartbeatMs: 50, staleMs: 300 },
    createPoller: (initial) => {
      created.push(initial);
      const poller = new UsagePoller({ credentials, client, logger, intervalMs: 300_000, ...(initial ? { initialState: initial } : {}) });
      pollers.push(poller);
      return poller;
    },
  });
  shared.onChange((u) => seen.push(u));
  return { shared, client, created, pollers, seen, logger };
}

function shareDir(): string {
  const root = tempDir('ocm-share-');
  dirs.push(root);
  return path.join(root, 'opencode-monitor-test');
}

describe('SharedUsage', () => {
  it('lets one process poll and the others read its result, without the token', async () => {
    const dir = shareDir();
    const token = secretToken();
    const a = party(dir, token, { label: 'A' });
    const b = party(dir, token, { label: 'B' });
    a.shared.start();
    b.shared.start();
    assert.equal(a.shared.currentRole, 'poller');
    assert.equal(b.shared.currentRole, 'reader');
    await Promise.all([a.shared.settle(3_000), b.shared.settle(3_000)]);
    assert.equal(a.client.calls.length, 1);
    assert.equal(b.created.length, 0, 'the reader never builds a poller');
    assert.deepEqual(b.shared.current(), a.shared.current());
    assert.equal(b.shared.current()!.fiveHour!.percent, 45.5);

    const st = fs.statSync(dir);
    assert.equal(st.mode & 0o777, 0o700);
    const cacheFile = a.shared.paths.cache;
    assert.equal(fs.statSync(cacheFile).mode & 0o777, 0o600);
    for (const name of fs.readdirSync(dir)) assert.equal(fs.readFileSync(path.join(dir, name), 'utf8').includes(token), false, `${name} holds no token`);
    const cache = parseCache(fs.readFileSync(cacheFile, 'utf8'), usageShareKey(['http://127.0.0.1:1', 'test']))!;
    assert.equal(cache.writer.pid, process.pid);
    assert.equal(cache.state.failures, 0);
    a.shared.dispose();
    b.shared.dispose();
  });

  it('hands over to another process without an extra request', async () => {
    const dir = shareDir();
    const token = secretToken();
    const a = party(dir, token);
    const b = party(dir, token);
    a.shared.start();
    await a.shared.settle(3_000);
    b.shared.start();
    await b.shared.settle(3_000);
    const before = a.shared.current();
    a.shared.dispose(); // releases the lock: B takes over at once (folder watch) or within staleMs
    await waitFor(() => b.shared.currentRole === 'poller', 'takeover by B', 3_000);
    await b.pollers[0]!.whenIdle();
    assert.equal(b.created.length, 1);
    assert.equal(b.created[0]?.usage?.fiveHour?.percent, 45.5, 'continued from the cache');
    assert.equal(b.client.calls.length, 0, 'not due yet: no request');
    assert.deepEqual(b.shared.current(), before);
    b.shared.dispose();
  });

  it('forwards a reader’s refresh to the poller', async () => {
    const dir = shareDir();
    const token = secretToken();
    const a = party(dir, token);
    const b = party(dir, token);
    a.shared.start();
    await a.shared.settle(3_000);
    let refreshes = 0;
    a.pollers[0]!.refreshNow = () => void refreshes++;
    b.shared.start();
    b.shared.refreshNow();
    await waitFor(() => refreshes === 1, 'a refresh at the poller', 2_000);
    a.shared.dispose();
    b.shared.dispose();
  });

  it('marks values stale once they are older than two intervals', async () => {
    const dir = shareDir();
    const token = secretToken();
    const a = party(dir, token);
    const b = party(dir, token);
    a.shared.start();
    await a.shared.settle(3_000);
    b.shared.start();
    await b.shared.settle(3_000);
    assert.equal(b.shared.current()!.stale, false);
    // The poller got stuck 20 min ago (its next write never came).
    const cache = JSON.parse(fs.readFileSync(a.shared.paths.cache, 'utf8')) as { state: { usage: UsageModel } };
    cache.state.usage.fetchedAt = Date.now() - 20 * 60_000;
    fs.writeFileSync(a.shared.paths.cache, JSON.stringify(cache));
    await waitFor(() => b.shared.current()?.stale === true, 'stale by age at the reader', 2_000);
    assert.equal(b.shared.current()!.fiveHour!.percent, 45.5, 'values kept');
    a.shared.dispose();
    b.shared.dispose();
  });

  it('never shares between different keys (another base URL or HOME)', async () => {
    const dir = shareDir();
    const a = party(dir, secretToken(), { key: usageShareKey(['https://api.anthropic.com', '/home/a']) });
    const b = party(dir, secretToken(), { key: usageShareKey(['http://127.0.0.1:9', '/tmp/test-home']) });
    a.shared.start();
    b.shared.start();
    assert.equal(a.shared.currentRole, 'poller');
    assert.equal(b.shared.currentRole, 'poller');
    a.shared.dispose();
    b.shared.dispose();
  });

  it('polls alone rather than trust a folder it does not control', async () => {
    const root = tempDir('ocm-share-');
    dirs.push(root);
    const real = path.join(root, 'real');
    fs.mkdirSync(real);
    const link = path.join(root, 'link');
    fs.symlinkSync(real, link);
    assert.throws(() => ensurePrivateDir(link), /not a directory/);
    const p = party(link, secretToken());
    p.shared.start();
    assert.equal(p.shared.currentRole, 'alone');
    await p.shared.settle(3_000);
    assert.equal(p.client.calls.length, 1);
    assert.deepEqual(fs.readdirSync(real), [], 'nothing written through the link');
    assert.match(p.logger.text(), /polls on its own/);
    p.shared.dispose();

    // A folder of ours left group/world-accessible is tightened.
    const loose = path.join(root, 'loose');
    fs.mkdirSync(loose, { mode: 0o777 });
    fs.chmodSync(loose, 0o777);
    ensurePrivateDir(loose);
    assert.equal(fs.statSync(loose).mode & 0o777, 0o700);
  });

  it('ignores a corrupt or foreign cache', () => {
    assert.equal(parseCache('{', 'k'), undefined);
    assert.equal(parseCache(JSON.stringify({ version: 1, key: 'other', writtenAt: 1, writer: { pid: 1, owner: '' }, intervalMs: 1, state: { failures: 0 } }), 'k'), undefined);
    assert.ok(parseCache(JSON.stringify({ version: 1, key: 'k', writtenAt: 1, writer: { pid: 1, owner: '' }, intervalMs: 1, state: { failures: 0, usage: null } }), 'k'));
    assert.equal(parseCache(JSON.stringify({ version: 1, key: 'k', writtenAt: 1, writer: { pid: 1, owner: '' }, intervalMs: 1, state: { failures: 0, usage: { stale: 'no' } } }), 'k'), undefined);
  });

  it('ages values: fresh within two intervals plus a minute', () => {
    const now = Date.UTC(2026, 0, 1);
    const usage: UsageModel = { ...GOOD, fetchedAt: now - 10 * 60_000, stale: false };
    assert.equal(withAge(usage, 300_000, now)!.stale, false);
    assert.equal(withAge(usage, 300_000, now + 60_001)!.stale, true);
    assert.equal(withAge(undefined, 300_000, now), undefined);
  });
});
