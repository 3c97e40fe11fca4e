/** --since parsing, CLI argument checks, terminal and HTML escaping of hostile DB text. */
 
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { windowFromSince } from '../../../src/core/history/since';
import { parseHistoryArgs, runHistoryCommand } from '../../../src/cli/history/command';
import { escapeHtml, renderHtmlReport } from '../../../src/cli/history/html';
import { renderReport, renderTrace, safeText } from '../../../src/cli/history/text';
import type { Overview, SessionPage, TokenCounts, Trace } from '../../../src/core/history/types';

const NOW = Date.UTC(2026, 11, 5, 12);
const HOSTILE = `<script>alert(1)</script><img src=x onerror=alert(2)>"'&\u001b]8;;http://evil\u0007x\u001b[31mred\u009b2J\u202eevil`;
const tokens: TokenCounts = { input: 100, output: 10, reasoning: 0, cacheRead: 50, cacheWrite: 5 };

function overview(): Overview {
  return {
    window: { since: NOW - 7 * 86_400_000, label: '7d' },
    totals: { sessions: 2, rootSessions: 1, messages: 4, assistantMessages: 2, tokens, cacheHitRatio: 1 / 3, cost: 0.5 },
    byDay: [{ day: '2026-12-04', messages: 2, tokens, cost: 0.5 }],
    byModel: [{ key: HOSTILE, sessions: 1, messages: 2, tokens, cost: 0.5 }],
    byAgent: [{ key: 'build', sessions: 1, messages: 2, tokens, cost: 0.5 }],
    byProject: [{ key: `/home/${HOSTILE}`, sessions: 1, messages: 2, tokens, cost: 0.5 }],
    tools: [{ tool: HOSTILE, calls: 3, errors: 1, failureRate: 1 / 3, medianMs: 120 }],
  };
}
const page: SessionPage = { total: 1, offset: 0, items: [{ id: 'ses_1', title: HOSTILE, directory: HOSTILE, agent: HOSTILE, model: 'lab/fake', start: NOW - 1000, end: NOW, children: 1, tokens, cost: 0.5 }] };

describe('--since', () => {
  it('accepts the named windows and N d / N h', () => {
    assert.deepEqual(windowFromSince('all', NOW), { since: null, label: 'all' });
    assert.deepEqual(windowFromSince('24h', NOW), { since: NOW - 86_400_000, label: '24h' });
    assert.deepEqual(windowFromSince('7d', NOW), { since: NOW - 7 * 86_400_000, label: '7d' });
    assert.deepEqual(windowFromSince(' 30D ', NOW), { since: NOW - 30 * 86_400_000, label: '30d' });
    assert.equal(windowFromSince('3650d', NOW).since, NOW - 3650 * 86_400_000);
  });
  it('refuses absurd or malformed values with a clear reason', () => {
    for (const bad of ['', '7', 'd', '-7d', '1.5d', '7w', '0d', '0h', '99999d', '1000000h', '7d; rm -rf /', 'NaNd', '1e3d', 'Infinityh']) {
      assert.throws(() => windowFromSince(bad, NOW), /--since/, bad);
    }
    assert.throws(() => windowFromSince('99999d', NOW), /more than ten years; use "all"/);
  });
});

describe('report/trace arguments', () => {
  it('parses options and refuses unknown ones', () => {
    assert.deepEqual(parseHistoryArgs(['report', '--since', '30d', '--json', '--html=r.html']), { command: 'report', json: true, help: false, since: '30d', html: 'r.html' });
    assert.equal(parseHistoryArgs(['trace', 'ses_abc', '--db', '/x.db']).sessionId, 'ses_abc');
    assert.throws(() => parseHistoryArgs(['report', '--bogus']), /unknown option --bogus for report/);
    assert.throws(() => parseHistoryArgs(['trace']), /trace needs a session id/);
    assert.throws(() => parseHistoryArgs(['trace', "ses_1'; drop"]), /session id is letters/);
    assert.throws(() => parseHistoryArgs(['report', '--since']), /--since needs a value/);
    assert.throws(() => parseHistoryArgs(['trace', 'ses_1', '--since', '7d']), /unknown option --since for trace/);
  });
});

describe('report/trace failures are one line, never a stack', () => {
  const run = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await runHistoryCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env: {} });
    return { code, out, err };
  };
  it('bad arguments exit 2, a missing DB (or no node:sqlite) exits 1', async () => {
    const since = await run(['report', '--since', '0d']);
    assert.deepEqual([since.code, since.out], [2, '']);
    assert.match(since.err, /^opencode-monitor: --since must be at least 1h\n$/);
    const missing = await run(['report', '--db', '/nonexistent/dir/opencode.db']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /^opencode-monitor: (no OpenCode database at \/nonexistent\/dir\/opencode\.db|node:sqlite needs Node ≥ 22\.13; this is Node [\d.]+)\n$/);
    const noHome = await run(['trace', 'ses_1']);
    assert.match(noHome.err, /^opencode-monitor: cannot find OpenCode's database: neither HOME nor XDG_DATA_HOME is set \(use --db FILE\)\n$/);
  });
});

describe('hostile DB text', () => {
  it('never reaches a terminal as escapes or controls', () => {
    const clean = safeText(HOSTILE, 500);
    assert.doesNotMatch(clean, /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e]/);
    const text = renderReport(overview(), page);
    assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    const node = { id: 'ses_1', parentId: null, depth: 0, agent: HOSTILE, title: HOSTILE, start: NOW - 5000, end: NOW, durationMs: 5000, messages: 2, tokens, cost: 0.5, toolCalls: 3, toolErrors: 1, toolStates: { completed: 2, error: 1 }, files: [HOSTILE], children: [] };
    const trace: Trace = { root: { ...node, children: [{ ...node, id: 'ses_2', parentId: 'ses_1', depth: 1 }] }, nodes: 2, truncated: false };
    const t = renderTrace(trace);
    assert.doesNotMatch(t, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    assert.match(t, /└─ /);
  });

  it('HTML report: every value escaped, strict CSP, no script, every chart with a table', () => {
    assert.equal(escapeHtml(`<a href="x" onclick='y'>&`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;');
    const html = renderHtmlReport(overview(), page, new Date(NOW));
    assert.doesNotMatch(html, /<script|<img|<[^>]*\son\w+=|\u001b|\u009b/i);
    assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)?.[1] ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.doesNotMatch(csp, /script-src|unsafe-inline|https?:/);
    const nonce = /style-src 'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce && html.includes(`<style nonce="${nonce}">`));
    assert.doesNotMatch(html, /<[^>]*\s(?:src|href)=/i, "nothing is loaded");
    const charts = html.match(/<svg /g)?.length ?? 0;
    assert.ok(charts >= 5, `charts: ${charts}`);
    // Each section with a chart carries its table.
    for (const section of html.split('<section>').slice(1)) if (section.includes('<svg')) assert.match(section, /<table>/);
  });
});
