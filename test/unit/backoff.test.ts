import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/core/util/backoff';
import { seededRandom } from './support/localServer';

const options = { initialMs: 100, maxMs: 5_000 };

test('grows exponentially from initialMs and is capped at maxMs', () => {
  const max = (attempt: number) => backoffDelay(attempt, options, () => 1);
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8, 50, 1_000_000].map(max), [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000]);
  // Attempt 0 or below is treated as the first retry.
  assert.equal(max(0), 100);
  assert.equal(max(-3), 100);
});

test('jitter stays within [step/2, step]', () => {
  const random = seededRandom(7);
  for (let attempt = 1; attempt <= 12; attempt++) {
    const step = Math.min(options.maxMs, options.initialMs * 2 ** (attempt - 1));
    assert.equal(backoffDelay(attempt, options, () => 0), step / 2);
    assert.equal(backoffDelay(attempt, options, () => 1), step);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt, options, random);
      assert.ok(d >= step / 2 && d <= step, `attempt ${attempt}: ${d} not in [${step / 2}, ${step}]`);
    }
  }
});

test('uses Math.random by default and stays in range', () => {
  for (let i = 0; i < 100; i++) {
    const d = backoffDelay(3, options);
    assert.ok(d >= 200 && d <= 400, String(d));
  }
});
