/** The poller's schedule, backoff, staleness and credential handling, on a fake clock. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryLogger } from '../../../src/core/log';
import type { UsageModel } from '../../../src/core/model/model';
import { UsageApiError } from '../../../src/core/usage/usageClient';
import { UsagePoller } from '../../../src/core/usage/usagePoller';
import type { UsagePollerOptions } from '../../../src/core/usage/usagePoller';
import { FakeClock, FakeCredentials, ScriptedClient, secretToken } from './support';

const MIN = 60_000;
const INTERVAL = 5 * MIN;
const GOOD = { fiveHour: { percent: 45.5, resetsAt: '2026-09-01T15:00:00Z' }, sevenDay: { percent: 62, resetsAt: '2026-09-05T09:00:00Z' } };

function setup(overrides: Partial<UsagePollerOptions> = {}) {
  const clock = new FakeClock();
  const token = secretToken();
  const credentials = FakeCredentials.withToken(token, clock.now() + 8 * 3600_000);
  const client = new ScriptedClient(clock);
  const logger = new MemoryLogger();
  const emitted: Array<UsageModel | undefined> = [];
  const poller = new UsagePoller({ credentials, client, logger, clock, intervalMs: INTERVAL, ...overrides });
  poller.onChange((u) => emitted.push(u));
  /** Advances the clock and waits for the run it started. */
  const step = async (ms: number) => {
    clock.advance(ms);
    await poller.whenIdle();
  };
  return { clock, token, credentials, client, logger, emitted, poller, step };
}

const rateLimited = (retryAfterMs?: number) => new UsageApiError('rate_limited', 'usage API rate limit (429)', 429, retryAfterMs);
const network = () => new UsageApiError('network', 'usage API unreachable: ECONNREFUSED');

/** Expects exactly one new request after `ms` and none a millisecond before. */
async function expectNextCallAfter(t: ReturnType<typeof setup>, ms: number, label: string): Promise<void> {
  const before = t.client.calls.length;
  await t.step(ms - 1);
  assert.equal(t.client.calls.length, before, `${label}: no request before ${ms / 1000} s`);
  await t.step(1);
  assert.equal(t.client.calls.length, before + 1, `${label}: a request at ${ms / 1000} s`);
}

describe('UsagePoller', () => {
  it('fetches at once, then every interval, with fresh values', async () => {
    const t = setup();
    t.client.push(GOOD, { ...GOOD, fiveHour: { percent: 50 } });
    t.poller.start();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 1);
    assert.equal(t.client.calls[0]!.token, t.token);
    const first = t.poller.current()!;
    assert.deepEqual(first, { ...GOOD, source: 'claude-code', fetchedAt: t.clock.now(), stale: false });
    await expectNextCallAfter(t, INTERVAL, 'second poll');
    assert.equal(t.poller.current()!.fiveHour!.percent, 50);
    assert.equal(t.emitted.length, 2);
    t.poller.dispose();
  });

  it('never polls more often than once a minute', async () => {
    const t = setup({ intervalMs: 1_000 });
    assert.equal(t.poller.intervalMs, MIN);
    t.poller.start();
    await t.poller.whenIdle();
    await expectNextCallAfter(t, MIN, 'clamped interval');
    t.poller.dispose();
  });

  it('backs off exponentially on 429 without Retry-After, up to 30 min, keeping the last values stale', async () => {
    const t = setup();
    t.client.push(GOOD, rateLimited(), rateLimited(), rateLimited(), rateLimited(), rateLimited(), GOOD);
    t.poller.start();
    await t.poller.whenIdle();
    const fetchedAt = t.clock.now();
    await expectNextCallAfter(t, INTERVAL, 'regular poll → first 429');
    const stale = t.poller.current()!;
    assert.equal(stale.error, 'rate_limited');
    assert.equal(stale.stale, true);
    assert.equal(stale.fetchedAt, fetchedAt, 'the age of the kept values');
    assert.deepEqual(stale.fiveHour, GOOD.fiveHour);
    for (const [i, minutes] of [5, 10, 20, 30, 30].entries()) await expectNextCallAfter(t, minutes * MIN, `retry ${i + 1}`);
    const fresh = t.poller.current()!;
    assert.equal(fresh.stale, false);
    assert.equal(fresh.error, undefined);
    await expectNextCallAfter(t, INTERVAL, 'back to the interval');
    t.poller.dispose();
  });

  it('honours Retry-After on 429, and never retries sooner than the interval', async () => {
    const t = setup();
    t.client.push(rateLimited(15 * MIN), rateLimited(0), rateLimited(45 * MIN), GOOD);
    t.poller.start();
    await t.poller.whenIdle();
    assert.equal(t.poller.current()!.error, 'rate_limited');
    assert.equal(t.poller.current()!.stale, false, 'no earlier values to keep');
    await expectNextCallAfter(t, 15 * MIN, 'Retry-After 900 s');
    await expectNextCallAfter(t, 10 * MIN, 'Retry-After 0: the backoff step (2nd failure) instead');
    await expectNextCallAfter(t, 45 * MIN, 'Retry-After beyond the 30 min cap is honoured');
    assert.equal(t.poller.current()!.error, undefined);
    t.poller.dispose();
  });

  it('refuses manual refreshes during a 429 hold', async () => {
    const t = setup();
    t.client.push(rateLimited(20 * MIN));
    t.poller.start();
    await t.poller.whenIdle();
    await t.step(2 * MIN);
    t.poller.refreshNow();
    await t.poller.whenIdle();
    t.credentials.setToken(secretToken());
    t.credentials.fire();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 1, 'neither a refresh nor a new token breaks the hold');
    await expectNextCallAfter(t, 18 * MIN, 'end of the hold');
    t.poller.dispose();
  });

  it('retries network errors after 1, 2, 4 min, then at the interval', async () => {
    const t = setup();
    t.client.push(GOOD, network(), network(), network(), network(), network());
    t.poller.start();
    await t.poller.whenIdle();
    await expectNextCallAfter(t, INTERVAL, 'regular poll → network error');
    assert.equal(t.poller.current()!.error, 'api_error');
    assert.equal(t.poller.current()!.stale, true);
    for (const minutes of [1, 2, 4, 5, 5]) await expectNextCallAfter(t, minutes * MIN, `network retry after ${minutes} min`);
    t.poller.dispose();
  });

  it('maps 401 to token_expired and 403 to missing_scope, and retries a new token at once', async () => {
    const t = setup();
    t.client.push(GOOD, new UsageApiError('unauthorized', 'usage API rejected the token (401)', 401));
    t.poller.start();
    await t.poller.whenIdle();
    await t.step(INTERVAL);
    const expired = t.poller.current()!;
    assert.equal(expired.error, 'token_expired');
    assert.equal(expired.stale, true);
    assert.equal(expired.fiveHour!.percent, 45.5);

    // The same file rewritten with the same token: no request.
    await t.step(MIN);
    t.credentials.fire();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 2);

    // Signed in again: a new token is tried at once.
    const fresh = secretToken();
    t.credentials.setToken(fresh, t.clock.now() + 8 * 3600_000);
    t.client.push(new UsageApiError('forbidden', 'usage API refused the token (403)', 403));
    t.credentials.fire();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 3);
    assert.equal(t.client.calls[2]!.token, fresh);
    assert.equal(t.poller.current()!.error, 'missing_scope');
    t.poller.dispose();
  });

  it('reports an expired token without calling the API, and fetches once it is renewed', async () => {
    const t = setup();
    t.credentials.lookup = { ok: false, reason: 'token_expired', source: 'claude-code', expiresAt: t.clock.now() - 1000, detail: 'the Claude token from Claude Code expired' };
    t.poller.start();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 0);
    assert.deepEqual(t.poller.current(), { source: 'claude-code', stale: false, error: 'token_expired', errorMessage: 'the Claude token from Claude Code expired' });
    await t.step(INTERVAL);
    assert.equal(t.client.calls.length, 0, 'still expired at the next check');
    assert.ok(t.credentials.resolves >= 2, 're-read on every check');
    t.credentials.setToken(secretToken(), t.clock.now() + 3600_000);
    t.client.push(GOOD);
    t.credentials.fire();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 1);
    assert.equal(t.poller.current()!.error, undefined);
    t.poller.dispose();
  });

  it('hides usage when no credential exists, and drops values of a signed-out user', async () => {
    const t = setup();
    t.client.push(GOOD);
    t.poller.start();
    await t.poller.whenIdle();
    assert.ok(t.poller.current());
    t.credentials.lookup = { ok: false, reason: 'auth_not_found', detail: 'no Claude sign-in found' };
    t.credentials.fire();
    await t.poller.whenIdle();
    assert.equal(t.poller.current(), undefined);
    assert.equal(t.emitted.at(-1), undefined);
    assert.equal(t.poller.state().usage, null);
    assert.equal(t.client.calls.length, 1);
    t.poller.dispose();
  });

  it('debounces manual refreshes to one request per 30 s', async () => {
    const t = setup();
    t.poller.start();
    await t.poller.whenIdle();
    await t.step(10_000);
    t.poller.refreshNow();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 1, 'too soon: deferred');
    await t.step(20_000);
    assert.equal(t.client.calls.length, 2, 'deferred refresh at 30 s');
    await t.step(60_000);
    t.poller.refreshNow();
    await t.poller.whenIdle();
    assert.equal(t.client.calls.length, 3, 'immediate when the last request is old enough');
    t.poller.dispose();
  });

  it('continues from a handed-over state without an extra request', async () => {
    const t = setup();
    t.client.push(GOOD, rateLimited());
    t.poller.start();
    await t.poller.whenIdle();
    await t.step(INTERVAL);
    const state = JSON.parse(JSON.stringify(t.poller.state())) as ReturnType<UsagePoller['state']>;
    assert.equal(JSON.stringify(state).includes(t.token), false, 'no token in the state');
    assert.equal(state.failures, 1);
    assert.equal(state.nextAttemptAt, t.clock.now() + INTERVAL);
    t.poller.dispose();

    // Another process takes over 2 min later.
    await t.step(2 * MIN);
    const next = new ScriptedClient(t.clock).push(GOOD);
    const poller = new UsagePoller({ credentials: t.credentials, client: next, logger: t.logger, clock: t.clock, intervalMs: INTERVAL, initialState: state });
    const seen: Array<UsageModel | undefined> = [];
    poller.onChange((u) => seen.push(u));
    poller.start();
    await poller.whenIdle();
    assert.equal(next.calls.length, 0, 'not due yet');
    assert.equal(poller.current()!.error, 'rate_limited');
    assert.equal(poller.current()!.stale, true);
    assert.equal(seen.length, 1, 'the restored value is announced');
    t.clock.advance(3 * MIN - 1);
    await poller.whenIdle();
    assert.equal(next.calls.length, 0, 'the rate-limit hold survives the takeover');
    t.clock.advance(1);
    await poller.whenIdle();
    assert.equal(next.calls.length, 1);
    assert.equal(poller.current()!.stale, false);
    poller.dispose();
  });

  it('uses backoff steps of interval·2^(n−1) for 5xx and malformed answers', async () => {
    const t = setup();
    t.client.push(new UsageApiError('http', 'usage API answered HTTP 503', 503), new UsageApiError('malformed', 'not JSON'), new UsageApiError('http', 'HTTP 500', 500));
    t.poller.start();
    await t.poller.whenIdle();
    assert.equal(t.poller.current()!.error, 'api_error');
    await expectNextCallAfter(t, 5 * MIN, '1st');
    await expectNextCallAfter(t, 10 * MIN, '2nd');
    await expectNextCallAfter(t, 20 * MIN, '3rd');
    t.poller.dispose();
  });

  it('logs a repeated failure once at warn level', async () => {
    const t = setup();
    t.client.push(network(), network(), network());
    t.poller.start();
    await t.poller.whenIdle();
    await t.step(MIN);
    await t.step(2 * MIN);
    assert.equal(t.logger.records.filter((r) => r.level === 'warn').length, 1);
    t.poller.dispose();
  });

  it('stops on dispose, even with a request in flight', async () => {
    const t = setup();
    let release!: () => void;
    t.client.push(() => new Promise((resolve) => (release = () => resolve(GOOD))));
    t.poller.start();
    await new Promise((r) => setImmediate(r));
    t.poller.dispose();
    release();
    await t.poller.whenIdle();
    assert.equal(t.emitted.length, 0);
    assert.equal(t.clock.nextDelay(), undefined, 'no timer left');
  });
});
