/**
 * The self-contained HTML report (`report --html FILE`): one file, no script at all, charts as
 * inline SVG drawn here, each chart followed by the same figures as a table. A strict CSP (nothing
 * may load; only the one nonce'd style element applies) and every value from the DB HTML-escaped:
 * session titles, project paths and tool names are hostile input.
 *
 * Why SVG of our own rather than a charting library here: the report has no script (so no
 * script-src at all in its CSP) and stays readable in any browser or mail client; bars and columns
 * are all it needs. The Insights webview bundles a library instead (see README, "History and traces").
 */
import { randomBytes } from 'node:crypto';
import type { GroupUsage, Overview, SessionPage } from '../../core/history/types';
import { fmtCost, formatMs, totalTokens } from './text';
import { fmtTokens } from '../../core/present/numbers';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML content and quoted attributes; drops C0/C1 controls (tab/newline kept). */
export function escapeHtml(text: string): string {
   
  return String(text).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g, '').replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

interface Bar {
  label: string;
  value: number;
  text: string;
}

function columnChart(title: string, bars: Bar[]): string {
  const w = 720;
  const h = 180;
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const bw = bars.length > 0 ? w / bars.length : w;
  const rects = bars
    .map((b, i) => {
      const bh = (b.value / max) * (h - 20);
      return `<rect x="${(i * bw + 1).toFixed(1)}" y="${(h - bh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${bh.toFixed(1)}" fill="#4e79a7"><title>${escapeHtml(`${b.label}: ${b.text}`)}</title></rect>`;
    })
    .join('');
  const first = bars[0]?.label ?? '';
  const last = bars[bars.length - 1]?.label ?? '';
  return `<figure><svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${w} ${h + 16}" width="100%">${rects}<text x="0" y="${h + 14}" font-size="11" fill="#555">${escapeHtml(first)}</text><text x="${w}" y="${h + 14}" font-size="11" fill="#555" text-anchor="end">${escapeHtml(last)}</text></svg><figcaption>${escapeHtml(title)}</figcaption></figure>`;
}

function barChart(title: string, bars: Bar[]): string {
  const w = 720;
  const row = 20;
  const labelW = 260;
  const max = Math.max(...bars.map((b) => b.value), 1e-12);
  const body = bars
    .map((b, i) => {
      const len = (b.value / max) * (w - labelW - 90);
      const y = i * row;
      const label = b.label.length > 40 ? `…${b.label.slice(-39)}` : b.label;
      return `<text x="${labelW - 6}" y="${y + 14}" font-size="12" text-anchor="end" fill="#333">${escapeHtml(label)}</text><rect x="${labelW}" y="${y + 3}" width="${Math.max(1, len).toFixed(1)}" height="${row - 6}" fill="#59a14f"><title>${escapeHtml(`${b.label}: ${b.text}`)}</title></rect><text x="${(labelW + len + 6).toFixed(1)}" y="${y + 14}" font-size="12" fill="#333">${escapeHtml(b.text)}</text>`;
    })
    .join('');
  return `<figure><svg role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${w} ${Math.max(row, bars.length * row)}" width="100%">${body}</svg><figcaption>${escapeHtml(title)}</figcaption></figure>`;
}

function htmlTable(headers: string[], rows: (string | number)[][]): string {
  const head = headers.map((h) => `<th scope="col">${escapeHtml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(String(c))}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

function groupSection(title: string, groups: GroupUsage[]): string {
  if (groups.length === 0) return '';
  const bars = groups.slice(0, 15).map((g) => ({ label: g.key, value: g.cost > 0 ? g.cost : totalTokens(g.tokens), text: g.cost > 0 ? fmtCost(g.cost) : `${fmtTokens(totalTokens(g.tokens))} tokens` }));
  const rows = groups.map((g) => [g.key, g.sessions, g.messages, g.tokens.input, g.tokens.output, g.tokens.reasoning, g.tokens.cacheRead, g.tokens.cacheWrite, g.cost.toFixed(4)]);
  return `<section><h2>${escapeHtml(title)}</h2>${barChart(`${title}: cost`, bars)}${htmlTable(['', 'sessions', 'replies', 'input', 'output', 'reasoning', 'cache read', 'cache write', 'cost (USD)'], rows)}</section>`;
}

export function renderHtmlReport(overview: Overview, sessions: SessionPage, generatedAt = new Date()): string {
  const nonce = randomBytes(16).toString('base64');
  const t = overview.totals;
  const windowText = overview.window.label === 'all' ? 'all time' : `last ${overview.window.label}`;
  const days = overview.byDay;
  const sections = [
    `<section><h2>Totals</h2>${htmlTable(
      ['sessions', 'root sessions', 'messages', 'input', 'output', 'reasoning', 'cache read', 'cache write', 'cache hit', 'cost (USD)'],
      [[t.sessions, t.rootSessions, t.messages, t.tokens.input, t.tokens.output, t.tokens.reasoning, t.tokens.cacheRead, t.tokens.cacheWrite, `${(t.cacheHitRatio * 100).toFixed(1)}%`, t.cost.toFixed(4)]],
    )}</section>`,
    days.length === 0
      ? ''
      : `<section><h2>Per day</h2>${columnChart('Cost per day', days.map((d) => ({ label: d.day, value: d.cost, text: fmtCost(d.cost) })))}${columnChart(
          'Tokens per day',
          days.map((d) => ({ label: d.day, value: totalTokens(d.tokens), text: `${fmtTokens(totalTokens(d.tokens))} tokens` })),
        )}${htmlTable(['day', 'replies', 'input', 'output', 'reasoning', 'cache read', 'cache write', 'cost (USD)'], days.map((d) => [d.day, d.messages, d.tokens.input, d.tokens.output, d.tokens.reasoning, d.tokens.cacheRead, d.tokens.cacheWrite, d.cost.toFixed(4)]))}</section>`,
    groupSection('By model', overview.byModel),
    groupSection('By agent', overview.byAgent),
    groupSection('By project', overview.byProject),
    overview.tools.length === 0
      ? ''
      : `<section><h2>Tools</h2>${barChart('Tool calls', overview.tools.map((x) => ({ label: x.tool, value: x.calls, text: `${x.calls} calls, ${(x.failureRate * 100).toFixed(1)}% failed` })))}${htmlTable(
          ['tool', 'calls', 'errors', 'failure rate', 'median duration'],
          overview.tools.map((x) => [x.tool, x.calls, x.errors, `${(x.failureRate * 100).toFixed(1)}%`, x.medianMs === null ? '—' : formatMs(x.medianMs)]),
        )}</section>`,
    sessions.items.length === 0
      ? ''
      : `<section><h2>Recent root sessions (${sessions.items.length} of ${sessions.total})</h2>${htmlTable(
          ['id', 'title', 'directory', 'agent', 'model', 'start', 'last update', 'sub-agents', 'cost (USD)'],
          sessions.items.map((s) => [s.id, s.title, s.directory, s.agent ?? '', s.model ?? '', new Date(s.start).toISOString(), new Date(s.end).toISOString(), s.children, s.cost.toFixed(4)]),
        )}</section>`,
  ];
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>OpenCode history — ${escapeHtml(windowText)}</title>
<style nonce="${nonce}">
body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em;font-size:12px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:right}
td:first-child,th:first-child{text-align:left;overflow-wrap:anywhere}figure{margin:0}figcaption{font-size:12px;color:#555}
@media (prefers-color-scheme:dark){body{background:#1e1e1e;color:#ddd}th,td{border-color:#444}svg text{fill:#ccc}}
</style></head><body>
<h1>OpenCode history — ${escapeHtml(windowText)}</h1>
<p>Generated ${escapeHtml(generatedAt.toISOString())} by opencode-monitor from OpenCode's own database. Every chart is followed by its figures as a table.</p>
${sections.join('\n')}
</body></html>
`;
}
