import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { hedgedProbe } from '../../../src/core/discovery/hedgedProbe';
import type { ProbeOptions, ProbeResult } from '../../../src/core/discovery/portProbe';

const OK: ProbeResult = { ok: true, version: '1.18.33', healthy: true };
const REFUSED: ProbeResult = { ok: false, reason: 'no_answer', detail: 'ECONNREFUSED' };

/** A probe whose n-th call answers `answers[n]` after `delays[n]` ms, or hangs until aborted/timed out (delay undefined). */
function scripted(plan: Array<{ delayMs?: number; result?: ProbeResult }>) {
  const calls: Array<{ at: number; timeoutMs?: number; aborted: () => boolean; password?: string }> = [];
  const t0 = Date.now();
  const fn = (_url: string, options: ProbeOptions = {}): Promise<ProbeResult> => {
    const step = plan[calls.length] ?? {};
    calls.push({ at: Date.now() - t0, timeoutMs: options.timeoutMs, aborted: () => options.signal?.aborted === true, password: options.password });
    return new Promise((resolve) => {
      const timeout = setTimeout(() => resolve({ ok: false, reason: 'no_answer', detail: `no answer within ${options.timeoutMs} ms` }), options.timeoutMs ?? 1e9);
      const answer = step.delayMs === undefined ? undefined : setTimeout(() => { clearTimeout(timeout); resolve(step.result ?? OK); }, step.delayMs);
      options.signal?.addEventListener('abort', () => { clearTimeout(timeout); clearTimeout(answer); resolve({ ok: false, reason: 'no_answer', detail: 'aborted' }); }, { once: true });
    });
  };
  return { fn, calls };
}

test('a slow first answer is taken, not cut off: the next attempt joins it instead of replacing it', async () => {
  // A busy OpenCode answering its first /global/health after 600 ms (measured 0.4–0.7 s on the lab).
  const { fn, calls } = scripted([{ delayMs: 600 }, {}, {}]);
  const t0 = Date.now();
  const result = await hedgedProbe(fn, 'http://127.0.0.1:1', { attempts: 3, spacingMs: 200, deadlineMs: 1000 });
  const took = Date.now() - t0;
  assert.deepEqual(result, OK);
  assert.ok(took >= 590 && took < 900, `answered by the first attempt at ~600 ms (took ${took})`);
  assert.equal(calls.length, 3, 'two more attempts joined meanwhile');
  assert.ok(calls.every((c) => c.aborted() || c === calls[0]), 'the losers are aborted');
  assert.deepEqual(calls.map((c) => Math.round((c.timeoutMs ?? 0) / 100)), [10, 8, 6], 'every attempt ends by the deadline');
});

test('a first request the server ignores (its first ~0.5 s) is overtaken by the next attempt', async () => {
  const { fn, calls } = scripted([{}, { delayMs: 20 }]);
  const t0 = Date.now();
  const result = await hedgedProbe(fn, 'http://127.0.0.1:1', { attempts: 3, spacingMs: 100, deadlineMs: 2000 });
  assert.deepEqual(result, OK);
  assert.ok(Date.now() - t0 < 400, 'found at ~spacing + answer, not at the deadline');
  assert.equal(calls.length, 2);
  assert.ok(calls[0]!.aborted(), 'the ignored request is given up once the other answered');
});

test('attempts that fail at once are retried at once; all failing gives the last failure', async () => {
  const { fn, calls } = scripted([{ delayMs: 0, result: REFUSED }, { delayMs: 0, result: REFUSED }, { delayMs: 0, result: { ...REFUSED, detail: 'HTTP 502' } }]);
  const t0 = Date.now();
  const result = await hedgedProbe(fn, 'http://127.0.0.1:1', { attempts: 3, spacingMs: 1000, deadlineMs: 5000, password: 'pw' });
  assert.ok(Date.now() - t0 < 200, 'no waiting for the spacing after a quick failure');
  assert.deepEqual(result, { ...REFUSED, detail: 'HTTP 502' });
  assert.equal(calls.length, 3);
  assert.ok(calls.every((c) => c.password === 'pw'));
});

test('a definite other answer (not OpenCode, password required) ends the probe at once', async () => {
  const notOpencode: ProbeResult = { ok: false, reason: 'not_opencode', detail: 'HTTP 404' };
  const { fn, calls } = scripted([{}, { delayMs: 5, result: notOpencode }]);
  assert.deepEqual(await hedgedProbe(fn, 'http://127.0.0.1:1', { attempts: 3, spacingMs: 50, deadlineMs: 1000 }), notOpencode);
  assert.equal(calls.length, 2);
  assert.ok(calls[0]!.aborted());
});

test('a silent port ends at the deadline with no answer; the caller’s abort ends it sooner', async () => {
  const silent = scripted([]);
  const t0 = Date.now();
  const result = await hedgedProbe(silent.fn, 'http://127.0.0.1:1', { attempts: 3, spacingMs: 50, deadlineMs: 300 });
  const took = Date.now() - t0;
  assert.equal(result.ok, false);
  assert.ok(!result.ok && result.reason === 'no_answer');
  assert.ok(took >= 290 && took < 600, `ends at the deadline (${took} ms)`);
  assert.equal(silent.calls.length, 3);

  const hung = scripted([]);
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 30);
  const t1 = Date.now();
  const aborted = await hedgedProbe(hung.fn, 'http://127.0.0.1:1', { attempts: 3, spacingMs: 50, deadlineMs: 5000, signal: controller.signal });
  assert.equal(aborted.ok, false);
  assert.ok(Date.now() - t1 < 200);
  assert.ok(hung.calls.every((c) => c.aborted()), 'every attempt aborted with the caller');
});
