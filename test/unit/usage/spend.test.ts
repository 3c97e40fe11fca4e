/** Local spend per model for today and the last 7 days. */
process.env.TZ = 'America/New_York';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { emptyTokens } from '../../../src/core/model/model';
import type { TokenCounts } from '../../../src/core/model/model';
import { sessionSpendText, startOfLocalDay, summarizeSpend, totalTokens } from '../../../src/core/usage/spend';

// 2026-09-03 15:00 in New York.
const NOW = Date.parse('2026-09-03T19:00:00Z');
const HOUR = 3600_000;

function session(id: string, modelId: string | undefined, updatedAt: number, cost: number, tokens: Partial<TokenCounts>) {
  return { id, modelId, updatedAt, cost, tokens: { ...emptyTokens(), ...tokens } };
}

describe('summarizeSpend', () => {
  it('groups by model for today and the last 7 calendar days', () => {
    const todayStart = startOfLocalDay(NOW);
    assert.equal(new Date(todayStart).toISOString(), '2026-09-03T04:00:00.000Z', 'local midnight');
    const sessions = [
      session('a', 'anthropic/claude-sonnet-4', NOW - HOUR, 0, { input: 1000, output: 200, cacheRead: 5000 }), // subscription: cost 0
      session('b', 'opencode/gpt-5', NOW - 2 * HOUR, 0.5, { input: 300, output: 100 }),
      session('c', 'opencode/gpt-5', todayStart - 1, 1.25, { input: 10, output: 10 }), // yesterday
      session('d', undefined, NOW - 6 * 24 * HOUR, 0.1, { input: 1 }), // 6 days ago, same time: in range
      session('e', 'old', startOfLocalDay(NOW, 6) - 1, 9, { input: 1 }), // before the 7-day window
      session('f', 'idle', NOW, 0, {}), // nothing spent: left out
      session('a', 'anthropic/claude-sonnet-4', NOW, 0, { input: 1 }), // duplicate id: counted once
    ];
    const s = summarizeSpend(sessions, NOW);
    assert.deepEqual(
      s.today.map((m) => [m.modelId, m.sessions, m.cost, m.totalTokens]),
      [
        ['opencode/gpt-5', 1, 0.5, 400],
        ['anthropic/claude-sonnet-4', 1, 0, 6200],
      ],
    );
    assert.deepEqual(
      s.last7Days.map((m) => [m.modelId, m.sessions, m.cost, m.totalTokens]),
      [
        ['opencode/gpt-5', 2, 1.75, 420],
        ['unknown', 1, 0.1, 1],
        ['anthropic/claude-sonnet-4', 1, 0, 6200],
      ],
    );
    assert.equal(s.totals.today.sessions, 2);
    assert.equal(s.totals.today.cost, 0.5);
    assert.equal(s.totals.last7Days.totalTokens, 6621);
    assert.deepEqual(s.totals.last7Days.tokens, { input: 1311, output: 310, reasoning: 0, cacheRead: 5000, cacheWrite: 0 });
  });

  it('is empty without sessions', () => {
    const s = summarizeSpend([], NOW);
    assert.deepEqual(s.today, []);
    assert.equal(s.totals.last7Days.cost, 0);
  });

  it('describes one session for its tooltip', () => {
    assert.equal(sessionSpendText({ cost: 0, tokens: { ...emptyTokens(), input: 100_000, output: 23_456 } }), '123k tokens');
    assert.equal(sessionSpendText({ cost: 0.42, tokens: { ...emptyTokens(), input: 1_000 } }), '$0.42 · 1k tokens');
    assert.equal(totalTokens({ input: 1, output: 2, reasoning: 3, cacheRead: 4, cacheWrite: Number.NaN }), 10);
  });

  it('counts 7 calendar days across a DST change', () => {
    // 2026-11-01: New York leaves DST. 7 days back from Nov 3 is Oct 28, local midnight.
    const now = Date.parse('2026-11-03T17:00:00Z');
    assert.equal(new Date(startOfLocalDay(now, 6)).toISOString(), '2026-10-28T04:00:00.000Z');
    assert.equal(new Date(startOfLocalDay(now, 0)).toISOString(), '2026-11-03T05:00:00.000Z');
  });
});
