import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryLogger } from '../../../src/core/log';
import { SwiftBarRefresher, swiftBarRefreshUrl } from '../../../src/core/legacy/swiftbar';
import { activeResources, FakeClock, sleep } from './support';

interface Call {
  at: number;
  file: string;
  args: readonly string[];
}

function setup(platform: NodeJS.Platform = 'darwin', fail?: string) {
  const clock = new FakeClock();
  const calls: Call[] = [];
  const logger = new MemoryLogger();
  const refresher = new SwiftBarRefresher({
    logger,
    platform,
    clock,
    run: async (file, args) => {
      calls.push({ at: clock.now(), file, args });
      if (fail) throw new Error(fail);
    },
  });
  const start = clock.now();
  return { clock, calls, logger, refresher, times: () => calls.map((c) => c.at - start) };
}

test('runs `open -g swiftbar://refreshplugin?name=opencode` with an argument array', () => {
  const { calls, refresher } = setup();
  refresher.notify(0);
  assert.deepEqual(calls.map((c) => [c.file, c.args]), [['/usr/bin/open', ['-g', 'swiftbar://refreshplugin?name=opencode']]]);
  assert.equal(swiftBarRefreshUrl('my plugin&x'), 'swiftbar://refreshplugin?name=my%20plugin%26x');
});

test('no-op on other platforms', () => {
  for (const platform of ['linux', 'win32'] as const) {
    const { calls, clock, refresher } = setup(platform);
    refresher.notify(0);
    refresher.notify(1);
    clock.advance(10_000);
    assert.equal(calls.length, 0);
    assert.equal(refresher.enabled, false);
  }
});

test('at most every 2 s, the last change of a burst kept as a trailing run', () => {
  const { clock, refresher, times } = setup();
  refresher.notify(0); // t=0 runs
  clock.advance(500);
  refresher.notify(0); // throttled: trailing at 2000
  clock.advance(1000);
  refresher.notify(0); // joins the pending trailing run
  assert.deepEqual(times(), [0]);
  clock.advance(499);
  assert.deepEqual(times(), [0]);
  clock.advance(1);
  assert.deepEqual(times(), [0, 2000]);
  clock.advance(10_000); // nothing pending: nothing runs
  assert.deepEqual(times(), [0, 2000]);
  refresher.notify(0); // long after: at once
  assert.deepEqual(times(), [0, 2000, 12_000]);
});

test('a constant stream of changes refreshes once per 2 s and never drops the last one', () => {
  const { clock, refresher, times } = setup();
  for (let i = 0; i < 100; i++) {
    refresher.notify(0);
    clock.advance(100); // changes every 100 ms for 10 s
  }
  clock.advance(5000);
  const t = times();
  for (let i = 1; i < t.length; i++) assert.ok((t[i] ?? 0) - (t[i - 1] ?? 0) >= 2000, `runs too close: ${t.join(',')}`);
  assert.deepEqual(t, [0, 2000, 4000, 6000, 8000, 10_000]);
  // The last notify (t=9900) was covered by the trailing run at 10 000.
});

test('a change of the permission count refreshes at once and replaces the pending trailing run', () => {
  const { clock, refresher, times } = setup();
  refresher.notify(0);
  clock.advance(300);
  refresher.notify(0); // trailing pending for 2000
  clock.advance(200);
  refresher.notify(1); // permission asked: now
  assert.deepEqual(times(), [0, 500]);
  clock.advance(100);
  refresher.notify(0); // answered: now again
  assert.deepEqual(times(), [0, 500, 600]);
  clock.advance(5000);
  assert.deepEqual(times(), [0, 500, 600], 'the earlier trailing run was cancelled');
});

test('a failing `open` (SwiftBar not installed) is logged once and retried later', async () => {
  const { clock, logger, refresher, calls } = setup('darwin', 'LSOpenURLsWithRole() failed with error -10814');
  refresher.notify(0);
  clock.advance(3000);
  refresher.notify(0);
  await sleep(0);
  assert.equal(calls.length, 2);
  assert.equal(logger.records.filter((r) => r.message.includes('SwiftBar refresh failed')).length, 1);
});

test('dispose cancels the pending trailing run and ignores later changes', () => {
  const { clock, refresher, times } = setup();
  refresher.notify(0);
  clock.advance(100);
  refresher.notify(0);
  assert.equal(clock.pending, 1);
  refresher.dispose();
  assert.equal(clock.pending, 0);
  refresher.notify(3);
  clock.advance(10_000);
  assert.deepEqual(times(), [0]);
});

test('with real timers: no timer left after dispose', async () => {
  const before = activeResources();
  const runs: number[] = [];
  const refresher = new SwiftBarRefresher({ logger: new MemoryLogger(), platform: 'darwin', run: async () => void runs.push(Date.now()) });
  refresher.notify(0);
  refresher.notify(0); // schedules a real trailing timer
  assert.equal((activeResources().Timeout ?? 0) - (before.Timeout ?? 0), 1);
  refresher.dispose();
  await sleep(0);
  assert.equal(activeResources().Timeout ?? 0, before.Timeout ?? 0);
  assert.equal(runs.length, 1);
});
