/** Pure formatting helpers for the status bar and tooltips. */
process.env.TZ = 'Europe/Paris';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  formatCost,
  formatPercent,
  formatTokens,
  resetCountdown,
  resetDay,
  spendText,
  usageAge,
  usageErrorText,
  usageLevel,
  usageStatusLine,
} from '../../../src/core/usage/format';

const NOW = Date.parse('2026-09-01T10:00:00Z');
const MIN = 60_000;

describe('usage format', () => {
  it('counts down to the reset', () => {
    assert.equal(resetCountdown(new Date(NOW + 134 * MIN + 59_000).toISOString(), NOW), 'resets in 2h 14m');
    assert.equal(resetCountdown(new Date(NOW + 120 * MIN).toISOString(), NOW), 'resets in 2h');
    assert.equal(resetCountdown(new Date(NOW + 14 * MIN).toISOString(), NOW), 'resets in 14m');
    assert.equal(resetCountdown(new Date(NOW + 30_000).toISOString(), NOW), 'resets in <1m');
    assert.equal(resetCountdown(new Date(NOW + (3 * 24 * 60 + 4 * 60 + 5) * MIN).toISOString(), NOW), 'resets in 3d 4h');
    assert.equal(resetCountdown(new Date(NOW - MIN).toISOString(), NOW), 'resets now');
    assert.equal(resetCountdown('2026-09-01T12:14:00.288792+00:00', NOW), 'resets in 2h 14m', 'microseconds and +00:00');
    assert.equal(resetCountdown(undefined, NOW), 'not started');
    assert.equal(resetCountdown('soon', NOW), 'not started');
  });

  it('names the local weekday and time of the reset', () => {
    // 2026-09-07 is a Monday; 07:00 UTC is 09:00 in Paris (CEST).
    assert.equal(resetDay('2026-09-07T07:00:00Z'), 'Mon 09:00');
    assert.equal(resetDay('2026-09-05T21:30:00.123456+00:00'), 'Sat 23:30');
    assert.equal(resetDay(undefined), 'not started');
  });

  it('colours by the legacy 50/70/90 thresholds', () => {
    assert.deepEqual([0, 49.9, 50, 69.9, 70, 89.9, 90, 100].map(usageLevel), ['green', 'green', 'yellow', 'yellow', 'orange', 'orange', 'red', 'red']);
    assert.equal(usageLevel(Number.NaN), 'green');
  });

  it('prints percentages like the legacy file (truncated)', () => {
    assert.equal(formatPercent(45.9), '45%');
    assert.equal(formatPercent(130), '100%');
    assert.equal(formatPercent(-1), '0%');
  });

  it('prints ages, costs and tokens', () => {
    assert.equal(usageAge(NOW - 20_000, NOW), 'just now');
    assert.equal(usageAge(NOW - 4 * MIN, NOW), '4m ago');
    assert.equal(usageAge(NOW - 125 * MIN, NOW), '2h 5m ago');
    assert.equal(usageAge(NOW - 3 * 24 * 60 * MIN, NOW), '3d ago');
    assert.equal(usageAge(undefined, NOW), 'never');
    assert.equal(formatCost(0), '$0');
    assert.equal(formatCost(0.0035), '<$0.01');
    assert.equal(formatCost(1.234), '$1.23');
    assert.equal(formatCost(12345.6), '$12,346');
    assert.equal(formatTokens(950), '950');
    assert.equal(formatTokens(1230), '1.2k');
    assert.equal(formatTokens(12_345), '12k');
    assert.equal(formatTokens(1_000), '1k');
    assert.equal(formatTokens(1_234_567), '1.2M');
    assert.equal(spendText(0, 123_456), '123k tokens', 'subscription: tokens only');
    assert.equal(spendText(0.42, 120_000), '$0.42 · 120k tokens');
  });

  it('explains errors and staleness', () => {
    assert.match(usageErrorText('token_expired'), /expired/);
    assert.match(usageErrorText('missing_scope'), /user:profile/);
    assert.equal(usageStatusLine({ stale: true, error: 'rate_limited', fetchedAt: NOW - 12 * MIN }, NOW), 'Usage API rate limit — retrying later — values from 12m ago');
    assert.equal(usageStatusLine({ stale: false, fetchedAt: NOW - 2 * MIN }, NOW), 'updated 2m ago');
  });
});
