/** What the poller's models become in /tmp/opencode-usage.json (legacy-contract §2). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { toLegacyUsage } from '../../../src/core/legacy/stateFile';
import { MemoryLogger } from '../../../src/core/log';
import { UsageApiError } from '../../../src/core/usage/usageClient';
import { UsagePoller } from '../../../src/core/usage/usagePoller';
import { FakeClock, FakeCredentials, ScriptedClient, secretToken } from './support';

const GOOD = {
  fiveHour: { percent: 45.9, resetsAt: '2026-09-01T15:00:00.288792+00:00' },
  sevenDay: { percent: 62.2, resetsAt: '2026-09-05T09:00:00Z' },
  modelWeeks: { opus: { percent: 12 } },
};

describe('usage → legacy usage file', () => {
  it('writes integer utilization, keeps values through a 429, and reports auth errors', async () => {
    const clock = new FakeClock(Date.parse('2026-09-01T12:00:00Z'));
    const credentials = FakeCredentials.withToken(secretToken(), clock.now() + 8 * 3600_000);
    const client = new ScriptedClient(clock).push(
      GOOD,
      new UsageApiError('rate_limited', 'usage API rate limit (429)', 429),
      new UsageApiError('forbidden', 'usage API refused the token (403)', 403),
      new UsageApiError('unauthorized', 'usage API rejected the token (401)', 401),
    );
    const poller = new UsagePoller({ credentials, client, logger: new MemoryLogger(), clock, intervalMs: 300_000 });
    const legacy = () => toLegacyUsage(poller.current(), Math.floor(clock.now() / 1000));
    const next = async () => {
      clock.advance(clock.nextDelay()!);
      await poller.whenIdle();
    };
    poller.start();
    await poller.whenIdle();
    const updated = Math.floor(clock.now() / 1000);
    assert.deepEqual(legacy(), {
      five_hour: { utilization: 45, resets_at: '2026-09-01T15:00:00.288792+00:00' },
      seven_day: { utilization: 62, resets_at: '2026-09-05T09:00:00Z' },
      updated,
      error: null,
    });
    await next(); // 429: the menu bar keeps its percentages
    assert.equal(poller.current()!.stale, true);
    assert.deepEqual((legacy() as { five_hour: unknown }).five_hour, { utilization: 45, resets_at: '2026-09-01T15:00:00.288792+00:00' });
    await next(); // 403: the legacy file knows no scope error
    assert.deepEqual(legacy(), { error: 'api_error', updated: Math.floor(clock.now() / 1000) });
    await next(); // 401
    assert.deepEqual(legacy(), { error: 'token_expired', updated: Math.floor(clock.now() / 1000) });
    credentials.lookup = { ok: false, reason: 'auth_not_found', detail: 'none' };
    await next();
    assert.equal(legacy(), undefined, 'signed out: the file is left alone');
    poller.dispose();
  });
});
