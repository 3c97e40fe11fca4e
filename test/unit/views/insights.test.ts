/**
 * The Insights panel's pure parts: every model-given text is escaped (titles, folders, commands,
 * agents, tool names), the page's CSP (nonce, no network), and the check of webview requests.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { insightsHtml, validRequest } from '../../../src/vscode/insights/page';
import { html, raw } from '../../../src/vscode/insights/webview/html';
import { matchesFilter, renderOverview, renderSecurity, renderSessions, renderTools, renderTrace } from '../../../src/vscode/insights/webview/render';
import type { AuditFinding, AuditReport } from '../../../src/core/audit/historyAudit';
import type { Overview, TraceNode } from '../../../src/core/history/types';

const EVIL = `<img src=x onerror=alert(1)>"'\`<script>alert(2)</script>&amp;`;
const tokens = { input: 10, output: 5, reasoning: 1, cacheRead: 3, cacheWrite: 2 };

/** No tag or attribute from EVIL survives; its text is there, escaped. */
function assertInert(markup: string): void {
  assert.doesNotMatch(markup, /<img|<script|onerror=alert\(1\)"/i);
  assert.match(markup, /&lt;img src=x onerror=alert\(1\)&gt;&quot;&#39;&#96;&lt;script&gt;/);
}

test('html`` escapes interpolations, keeps nested html and raw', () => {
  assert.equal(html`<b>${EVIL}</b>`.text.includes('<img'), false);
  assert.equal(html`<i>${html`<b>${'x<y'}</b>`}</i>`.text, '<i><b>x&lt;y</b></i>');
  assert.equal(html`${raw('<br>')}${null}${undefined}${false}${0}`.text, '<br>0');
  assert.equal(html`${['<a>', html`<b>`]}`.text, '&lt;a&gt;<b>');
});

test('overview, tools, sessions and trace escape model text', () => {
  const group = { key: EVIL, sessions: 1, messages: 2, tokens, cost: 0.5 };
  const overview: Overview = {
    window: { since: null, label: 'all' },
    totals: { sessions: 1, rootSessions: 1, messages: 2, assistantMessages: 1, tokens, cacheHitRatio: 0.2, cost: 0.5 },
    byDay: [{ day: '2026-12-01', messages: 1, tokens, cost: 0.5 }],
    byModel: [group],
    byAgent: [group],
    byProject: [group],
    tools: [],
  };
  assertInert(renderOverview(overview).text);
  assertInert(renderTools([{ tool: EVIL, calls: 3, errors: 1, failureRate: 0.5, medianMs: 20 }]).text);
  const summary = { id: 'ses_1', title: EVIL, directory: EVIL, agent: EVIL, model: EVIL, start: 1, end: 2, children: 0, tokens, cost: 1 };
  const sessions = renderSessions({ total: 1, offset: 0, items: [summary] }, EVIL).text;
  assertInert(sessions);
  const paged = renderSessions({ total: 250, offset: 100, items: Array.from({ length: 100 }, (_, i) => ({ ...summary, id: `ses_${i}` })) }, '').text;
  assert.match(paged, /101–200 shown/);
  assert.match(paged, /<button class="page" data-offset="0">First page<\/button>/);
  assert.match(paged, /<button class="page" data-offset="200">Next page \(50 more\)<\/button>/);
  const node = (id: string, depth: number, children: TraceNode[] = []): TraceNode => ({
    id, parentId: null, depth, agent: EVIL, title: EVIL, start: 1_000 + depth, end: 5_000, durationMs: 4_000 - depth, messages: 1, tokens, cost: 0.1,
    toolCalls: 2, toolErrors: 1, toolStates: { completed: 1, error: 1 }, files: [EVIL], children,
  });
  const trace = renderTrace({ root: node('ses_r', 0, [node('ses_c', 1)]), nodes: 2, truncated: false }).text;
  assertInert(trace);
  assert.equal((trace.match(/<tr class="depth-/g) ?? []).length, 2, 'one waterfall row per node');
  assert.match(trace, /data-x="[\d.]+" data-w="[\d.]+"/);
});

test('security tab: counts, critical alerts, escaped targets, filters', () => {
  const finding = (over: Partial<AuditFinding>): AuditFinding => ({
    score: 95, level: 'critical', reasons: ['Pipes a download into a shell'], techniques: ['T1059.004'], ruleIds: ['rce.pipe-to-shell'], sessionId: 'ses_1', rootSessionId: 'ses_1',
    sessionTitle: EVIL, directory: EVIL, time: 1_700_000_000_000, tool: 'bash', kind: 'bash', target: EVIL, status: 'completed', ...over,
  });
  const findings = [finding({}), finding({ score: 40, level: 'medium', kind: 'read', tool: 'read', target: '~/.ssh/config' })];
  const report: AuditReport = {
    window: { since: null, label: 'all' }, minLevel: 'low', scanned: { toolCalls: 3, actions: 3, sessions: 1 }, truncated: false,
    counts: { none: 1, low: 0, medium: 1, high: 0, critical: 1 }, byKind: { bash: 2, read: 1, write: 0, edit: 0, fetch: 0 }, findings, findingsTruncated: false,
  };
  const all = renderSecurity(report, { minLevel: 'low', kind: 'all', text: '' }).text;
  assertInert(all);
  assert.match(all, /Critical alerts <span class="muted">\(1\)/);
  assert.match(all, /File operations <span class="muted">\(1\)/);
  const onlyFiles = renderSecurity(report, { minLevel: 'low', kind: 'file', text: '' }).text;
  assert.doesNotMatch(onlyFiles, /<h2>Commands/);
  assert.equal(matchesFilter(findings[1]!, { minLevel: 'high', kind: 'all', text: '' }), false);
  assert.equal(matchesFilter(findings[1]!, { minLevel: 'low', kind: 'all', text: 'SSH' }), true);
  assert.equal(matchesFilter(findings[0]!, { minLevel: 'low', kind: 'all', text: 't1059' }), true);
});

test('the page: nonce on the one script, no network, no inline style or script allowed', () => {
  const page = insightsHtml({ cspSource: 'https://file+.vscode-resource.test', script: 'https://file+.vscode-resource.test/dist/insights.js', style: 'https://file+.vscode-resource.test/dist/insights.css', nonce: 'bm9uY2U=' });
  const csp = /Content-Security-Policy" content="([^"]+)"/.exec(page)?.[1] ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'nonce-bm9uY2U='(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:\/\/\*|connect-src/);
  assert.equal((page.match(/<script/g) ?? []).length, 1);
  assert.match(page, /<script nonce="bm9uY2U=" src=/);
});

test('webview requests are checked and bounded', () => {
  assert.deepEqual(validRequest({ view: 'overview', since: '7d' }), { view: 'overview', since: '7d' });
  assert.equal(validRequest({ view: 'overview', since: '99999d' }), undefined);
  assert.equal(validRequest({ view: 'trace', sessionId: '../../etc/passwd' }), undefined);
  assert.equal(validRequest({ view: 'trace', sessionId: 'x'.repeat(101) }), undefined);
  assert.deepEqual(validRequest({ view: 'trace', sessionId: 'ses_abc-1' }), { view: 'trace', sessionId: 'ses_abc-1' });
  const s = validRequest({ view: 'sessions', since: 'all', search: 'y'.repeat(10_000), offset: -5 });
  assert.deepEqual(s, { view: 'sessions', since: 'all', search: 'y'.repeat(200), offset: 0 });
  assert.equal(validRequest({ view: 'drop tables' }), undefined);
  assert.equal(validRequest(null), undefined);
});
