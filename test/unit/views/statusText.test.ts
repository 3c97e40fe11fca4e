import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UsageModel } from '../../../src/core/model/model';
import { presentStatus, summarizeUsage } from '../../../src/core/present/statusText';
import { usageLevel } from '../../../src/core/usage/format';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

function usage(five: number, seven: number, over: Partial<UsageModel> = {}): UsageModel {
  return { fiveHour: { percent: five }, sevenDay: { percent: seven }, stale: false, fetchedAt: NOW, ...over };
}

describe('usage thresholds 50/70/90', () => {
  test('levels', () => {
    assert.equal(usageLevel(0), 'green');
    assert.equal(usageLevel(49.9), 'green');
    assert.equal(usageLevel(50), 'yellow');
    assert.equal(usageLevel(69), 'yellow');
    assert.equal(usageLevel(70), 'orange');
    assert.equal(usageLevel(89.5), 'orange');
    assert.equal(usageLevel(90), 'red');
    assert.equal(usageLevel(100), 'red');
  });

  test('colour follows the worse window', () => {
    const cases: Array<[number, number, string | undefined, 'error' | undefined]> = [
      [10, 20, undefined, undefined],
      [55, 20, 'charts.yellow', undefined],
      [10, 75, 'charts.orange', undefined],
      [91, 75, undefined, 'error'],
    ];
    for (const [five, seven, color, background] of cases) {
      const p = presentStatus(makeSnapshot([makeInstance()], [], usage(five, seven)), NOW);
      assert.equal(p.color, color, `${five}/${seven}`);
      assert.equal(p.background, background, `${five}/${seven}`);
      assert.ok(p.text.endsWith(`5h ${five}% · 7d ${seven}%`), p.text);
    }
  });

  test('stale values are dimmed with a marker, never a red background', () => {
    const p = presentStatus(makeSnapshot([makeInstance()], [], usage(95, 40, { stale: true, error: 'rate_limited' })), NOW);
    assert.ok(p.text.endsWith('5h 95% · 7d 40% $(history)'), p.text);
    assert.equal(p.color, 'disabledForeground');
    assert.equal(p.background, undefined);
    assert.match(p.tooltip, /latest fetch failed/);
  });

  test('an error without values shows a marker; no credentials shows nothing', () => {
    assert.deepEqual(summarizeUsage({ stale: false, error: 'token_expired' }), { text: '$(warning) usage', level: 'green', dimmed: true });
    assert.equal(summarizeUsage({ stale: false, error: 'auth_not_found' }).text, '');
    assert.equal(summarizeUsage(undefined).text, '');
  });

  test('percentages are rounded; a missing window is left out', () => {
    assert.equal(summarizeUsage({ fiveHour: { percent: 42.4 }, stale: false }).text, '5h 42%');
  });
});

describe('status text', () => {
  test('no instance', () => {
    const p = presentStatus(makeSnapshot([], []), NOW);
    assert.equal(p.text, '$(vm-outline) OpenCode');
    assert.equal(p.background, undefined);
    assert.match(p.tooltip, /No running OpenCode instance found/);
  });

  test('idle instances', () => {
    assert.equal(presentStatus(makeSnapshot([makeInstance()], [makeSession({ status: 'idle' })]), NOW).text, '$(check) idle');
  });

  test('busy counts root sessions; needs-you turns the background to warning and wins over usage', () => {
    const snapshot = makeSnapshot(
      [makeInstance()],
      [
        makeSession({ id: 'a' }),
        makeSession({ id: 'a_child', parentId: 'a' }),
        makeSession({ id: 'b', needsAttention: true, attentionReason: 'permission', waitingSince: NOW - 60_000 }),
      ],
      usage(95, 10),
    );
    const p = presentStatus(snapshot, NOW);
    assert.equal(p.text, '$(loading~spin) 1 busy  $(bell) 1  5h 95% · 7d 10%');
    assert.equal(p.background, 'warning');
    assert.equal(p.color, undefined);
    assert.equal(p.busy, 1);
    assert.equal(p.needsYou, 1);
    assert.equal(p.accessibilityLabel, 'OpenCode: 1 busy, 1 needs you, usage 5h 95% · 7d 10%');
    // The waiting session links to the jump command with its id.
    assert.ok(p.tooltip.includes(`command:opencodeMonitor.nextNeedingMe?${encodeURIComponent(JSON.stringify(['b']))}`), p.tooltip);
    assert.ok(p.commands.includes('opencodeMonitor.nextNeedingMe'));
  });

  test('tooltip shows usage windows with their reset times', () => {
    const p = presentStatus(
      makeSnapshot([makeInstance()], [], usage(72, 91, { fiveHour: { percent: 72, resetsAt: new Date(NOW + 2 * 3600_000 + 600_000).toISOString() } })),
      NOW,
    );
    assert.ok(p.tooltip.includes('| 5\\-hour | 72% $(warning) | resets in 2h 10m |'), p.tooltip);
    assert.ok(p.tooltip.includes('| 7\\-day | 91% $(error) | not started |'), p.tooltip);
    const weekly = presentStatus(
      makeSnapshot([makeInstance()], [], usage(10, 20, { sevenDay: { percent: 20, resetsAt: '2026-11-23T09:00:00Z' } })),
      NOW,
    );
    assert.match(weekly.tooltip, /\| 7\\-day \| 20% \| (Sun|Mon|Tue|Wed|Thu|Fri|Sat) \d\d:\d\d \|/);
  });
});
