import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { alignedDelay, everyAligned } from '../../../src/core/util/alignedDelay';

describe('alignedDelay', () => {
  it('is the time to the next multiple of the period', () => {
    assert.equal(alignedDelay(1000, 12_000), 1000);
    assert.equal(alignedDelay(1000, 12_001), 999);
    assert.equal(alignedDelay(1000, 12_999), 1);
    assert.equal(alignedDelay(30_000, 45_000), 15_000);
    assert.equal(alignedDelay(0, 5), 0);
  });

  it('runs on the grid until disposed', async () => {
    const at: number[] = [];
    const timer = everyAligned(50, () => at.push(Date.now()));
    await new Promise((r) => setTimeout(r, 400));
    timer.dispose();
    assert.ok(at.length >= 2, `${at.length} runs`);
    const count = at.length;
    await new Promise((r) => setTimeout(r, 120));
    assert.equal(at.length, count, 'quiet once disposed');
  });
});
