/** Shared helpers of the hardening suite: catching escaped exceptions, readable-error checks. */
import * as assert from 'node:assert/strict';
import type { TestContext } from 'node:test';

/** Records every uncaught exception and unhandled rejection while the test runs; fails the test on any. */
export function noEscapes(t: TestContext): { check(): void } {
  const escaped: unknown[] = [];
  const onError = (error: unknown) => escaped.push(error);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  t.after(() => {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  });
  return {
    check() {
      assert.deepEqual(escaped.map((e) => (e instanceof Error ? e.stack ?? e.message : String(e))), [], 'no exception may escape');
    },
  };
}

/** A message a person can read: text, no object dumps, no raw control characters, bounded. */
export function assertReadable(text: unknown, label: string): asserts text is string {
  assert.equal(typeof text, 'string', `${label}: not a string (${String(text)})`);
  const s = text as string;
  assert.ok(s.trim().length > 0, `${label}: empty`);
  assert.ok(!/\[object \w+\]|\bNaN\b/.test(s), `${label}: ${JSON.stringify(s)}`);
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), `${label} has control characters: ${JSON.stringify(s)}`);
  assert.ok(s.length <= 2_000, `${label}: ${s.length} characters`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * fast-check settings: a fixed seed, so `npm test` is repeatable; FC_SEED=random (or a number)
 * and FC_RUNS explore further.
 */
export function fcParams(numRuns: number): { numRuns: number; seed?: number } {
  const env = process.env.FC_SEED;
  const seed = env === 'random' ? undefined : env ? Number(env) : 20_261_121;
  return { numRuns: Number(process.env.FC_RUNS ?? numRuns), ...(seed !== undefined ? { seed } : {}) };
}
