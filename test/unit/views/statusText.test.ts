import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { UsageModel } from '../../../src/core/model/model';
import { presentStatus, presentUsage, summarizeUsage } from '../../../src/core/present/statusText';
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

  test('the usage item: no custom colours; a window at 90 % or more gets the warning icon', () => {
    const cases: Array<[number, number, string]> = [
      [10, 20, '$(dashboard)'],
      [55, 20, '$(dashboard)'],
      [10, 75, '$(dashboard)'],
      [91, 75, '$(warning)'],
    ];
    for (const [five, seven, icon] of cases) {
      const u = presentUsage(usage(five, seven), NOW);
      assert.ok(u);
      assert.equal(u.text, `${icon} 5h ${five}% · 7d ${seven}%`);
      assert.ok(!('color' in u) && !('background' in u));
      // Usage is its own item: the sessions item never carries it.
      const p = presentStatus(makeSnapshot([makeInstance()], [], usage(five, seven)), NOW);
      assert.equal(p.text, '$(check) idle');
      assert.equal(p.background, undefined);
    }
  });

  test('stale values keep a marker, never a red background or the warning icon', () => {
    const u = presentUsage(usage(95, 40, { stale: true, error: 'rate_limited' }), NOW);
    assert.ok(u);
    assert.equal(u.text, '$(dashboard) 5h 95% · 7d 40% $(history)');
    assert.match(u.tooltip, /latest fetch failed/);
    assert.match(u.accessibilityLabel, /not current/);
  });

  test('no usage, no item; the source is named for users', () => {
    assert.equal(presentUsage(undefined, NOW), undefined);
    assert.equal(presentUsage({ stale: false, error: 'auth_not_found' }, NOW), undefined);
    assert.match(presentUsage(usage(10, 20, { source: 'claude-code' }), NOW)!.tooltip, /from Claude Code/);
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

  test('busy: a static icon, no background', () => {
    const p = presentStatus(makeSnapshot([makeInstance()], [makeSession({ id: 'a' })]), NOW);
    assert.equal(p.text, '$(pulse) 1 busy');
    assert.equal(p.background, undefined);
    assert.ok(!p.text.includes('~spin'));
  });

  test('busy counts root sessions; what needs you leads, with the warning background', () => {
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
    assert.equal(p.text, '$(bell) 1 waiting · 1 busy');
    assert.equal(p.background, 'warning');
    assert.equal(p.busy, 1);
    assert.equal(p.needsYou, 1);
    assert.equal(p.accessibilityLabel, 'OpenCode: 1 session waiting for you, 1 busy');
    // The waiting session links to the jump command with its id.
    assert.ok(p.tooltip.includes(`command:opencodeMonitor.nextNeedingMe?${encodeURIComponent(JSON.stringify(['b']))}`), p.tooltip);
    assert.ok(p.commands.includes('opencodeMonitor.nextNeedingMe'));
  });

  test('the usage tooltip shows its windows with their reset times', () => {
    const p = presentUsage(usage(72, 91, { fiveHour: { percent: 72, resetsAt: new Date(NOW + 2 * 3600_000 + 600_000).toISOString() } }), NOW)!;
    assert.ok(p.tooltip.includes('| 5\\-hour | 72% $(warning) | resets in 2h 10m |'), p.tooltip);
    assert.ok(p.tooltip.includes('| 7\\-day | 91% $(error) | not started |'), p.tooltip);
    const weekly = presentUsage(usage(10, 20, { sevenDay: { percent: 20, resetsAt: '2026-11-23T09:00:00Z' } }), NOW)!;
    assert.match(weekly.tooltip, /\| 7\\-day \| 20% \| (Sun|Mon|Tue|Wed|Thu|Fri|Sat) \d\d:\d\d \|/);
  });
});
