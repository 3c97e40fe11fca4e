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

  it('timers of different periods started at different times fire in the same event-loop turn', async () => {
    const fired: Array<{ who: string; at: number }> = [];
    const timers = [
      everyAligned(100, () => fired.push({ who: 'a', at: Date.now() })),
      everyAligned(200, () => fired.push({ who: 'b', at: Date.now() })),
    ];
    await new Promise((r) => setTimeout(r, 37));
    timers.push(everyAligned(100, () => fired.push({ who: 'c', at: Date.now() })));
    await new Promise((r) => setTimeout(r, 450));
    for (const t of timers) t.dispose();
    const b = fired.filter((f) => f.who === 'b');
    assert.ok(b.length >= 1);
    // Every b run has an a and a c run on the same 100 ms grid point.
    for (const run of b) {
      const slot = Math.round(run.at / 100);
      assert.ok(fired.some((f) => f.who === 'a' && Math.round(f.at / 100) === slot));
      assert.ok(fired.some((f) => f.who === 'c' && Math.round(f.at / 100) === slot));
    }
    const count = fired.length;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fired.length, count, 'disposed timers stay quiet');
  });
});
