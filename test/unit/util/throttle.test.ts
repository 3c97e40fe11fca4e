import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Throttle } from '../../../src/core/util/throttle';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Throttle', () => {
  it('runs the first request at once, collapses a burst into one trailing run, loses none', async () => {
    const runs: number[] = [];
    const t0 = Date.now();
    const throttle = new Throttle(() => runs.push(Date.now() - t0), 100);
    throttle.request();
    assert.equal(runs.length, 1, 'leading run is synchronous');
    for (let i = 0; i < 50; i++) throttle.request();
    assert.equal(runs.length, 1);
    await sleep(150);
    assert.equal(runs.length, 2, 'one trailing run for the whole burst');
    assert.ok(runs[1]! >= 95, `trailing run after the interval (${runs[1]} ms)`);
    await sleep(120);
    throttle.request();
    assert.equal(runs.length, 3, 'after a quiet interval, at once again');
    throttle.dispose();
  });

  it('a pending run is dropped on dispose', async () => {
    let runs = 0;
    const throttle = new Throttle(() => runs++, 30);
    throttle.request();
    throttle.request();
    throttle.dispose();
    await sleep(60);
    assert.equal(runs, 1);
    throttle.request();
    assert.equal(runs, 1);
  });
});
