import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideRestart, DEFAULT_RESTART_POLICY, recentRestarts, resolveRestartPolicy } from '../../../src/core/servers/restartPolicy';

const MIN = 60_000;

test('defaults: on, 5 restarts in 10 min, 3 health failures', () => {
  assert.deepEqual(resolveRestartPolicy(), { enabled: true, maxRestarts: 5, windowMs: 10 * MIN, healthFailures: 3 });
  assert.deepEqual(resolveRestartPolicy({ enabled: false }), { ...DEFAULT_RESTART_POLICY, enabled: false });
  assert.equal(resolveRestartPolicy({ healthFailures: 0 }).healthFailures, 1);
  assert.equal(resolveRestartPolicy({ maxRestarts: Number.NaN }).maxRestarts, 5);
});

test('backoff 1 s, 2 s, 4 s, 8 s, 16 s, then gives up after 5 in the window', () => {
  const policy = resolveRestartPolicy();
  const history: number[] = [];
  const delays: number[] = [];
  let now = 1_000_000;
  for (;;) {
    const d = decideRestart(history, now, policy);
    if (!d.restart) {
      assert.equal(d.reason, 'gave up after 5 restarts within 10 min');
      break;
    }
    assert.equal(d.attempt, history.length + 1);
    delays.push(d.delayMs);
    now += d.delayMs;
    history.push(now);
    now += 5_000; // ran 5 s, crashed again
  }
  assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000]);
});

test('delay capped at 30 s', () => {
  const policy = resolveRestartPolicy({ maxRestarts: 20 });
  const now = 10 * MIN;
  const history = Array.from({ length: 10 }, (_, i) => now - 1_000 * (i + 1));
  const d = decideRestart(history, now, policy);
  assert.ok(d.restart);
  assert.equal(d.delayMs, 30_000);
});

test('restarts older than the window no longer count (and the backoff starts over)', () => {
  const policy = resolveRestartPolicy();
  const now = 100 * MIN;
  const old = [now - 30 * MIN, now - 25 * MIN, now - 20 * MIN, now - 15 * MIN, now - 11 * MIN];
  assert.deepEqual(decideRestart(old, now, policy), { restart: true, delayMs: 1_000, attempt: 1 });
  assert.deepEqual(recentRestarts([...old, now - 9 * MIN], now, policy.windowMs), [now - 9 * MIN]);
  const d = decideRestart([...old, now - 9 * MIN], now, policy);
  assert.ok(d.restart && d.delayMs === 2_000);
});

test('off → never; maxRestarts 0 → gives up at once', () => {
  assert.deepEqual(decideRestart([], 0, resolveRestartPolicy({ enabled: false })), { restart: false, reason: 'automatic restart is off' });
  const d = decideRestart([], 0, resolveRestartPolicy({ maxRestarts: 0 }));
  assert.equal(d.restart, false);
});

test('custom backoff (tests use milliseconds)', () => {
  const d = decideRestart([1, 2], 3, resolveRestartPolicy(), { initialMs: 10, maxMs: 25 });
  assert.deepEqual(d, { restart: true, delayMs: 25, attempt: 3 });
});
