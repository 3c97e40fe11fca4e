/**
 * The Insights panel's sections as HTML strings (pure: tested in Node with hostile text). Bars
 * carry their size in `data-w`/`data-x` (percent); the script sets them through the CSSOM, as the
 * CSP allows no inline style attributes. Every chart has its table (the day chart's is below it).
 */
import type { AuditFinding, AuditReport } from '../../../core/audit/historyAudit';
import type { RiskLevel } from '../../../core/audit/levels';
import type { GroupUsage, Overview, SessionPage, TokenCounts, ToolStats, Trace, TraceNode } from '../../../core/history/types';
import { html, raw } from './html';
import type { Html } from './html';
import { fmtTokens } from '../../../core/present/numbers';

export function totalTokens(t: TokenCounts): number {
  return t.input + t.output + t.reasoning + t.cacheRead + t.cacheWrite;
}

export function fmtCost(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return usd >= 100 ? `$${usd.toFixed(0)}` : `$${usd.toFixed(2)}`;
}

/** `850 ms`, `12.3 s`, `4m 05s`, `2h 10m`. */
export function fmtMs(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export function fmtTime(epochMs: number): string {
  if (!Number.isFinite(epochMs) || epochMs <= 0) return '–';
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}`;
}

const pct = (part: number, whole: number): string => (whole > 0 ? Math.max(0, Math.min(100, (part / whole) * 100)).toFixed(1) : '0');

function bar(part: number, whole: number, cls = ''): Html {
  return html`<span class="bar-track" aria-hidden="true"><span class="bar ${cls}" data-w="${pct(part, whole)}"></span></span>`;
}

function card(label: string, value: string, detail?: string): Html {
  return html`<div class="card"><div class="card-label">${label}</div><div class="card-value">${value}</div>${detail ? html`<div class="card-detail">${detail}</div>` : ''}</div>`;
}

// ── Overview ─────────────────────────────────────────────────────────────────────────────────

export function renderOverview(o: Overview): Html {
  const t = o.totals;
  const cards = html`<div class="cards">
    ${card('Sessions', String(t.sessions), `${t.rootSessions} root`)}
    ${card('Messages', String(t.messages), `${t.assistantMessages} replies`)}
    ${card('Tokens', fmtTokens(totalTokens(t.tokens)), `in ${fmtTokens(t.tokens.input)} · out ${fmtTokens(t.tokens.output)} · reasoning ${fmtTokens(t.tokens.reasoning)}`)}
    ${card('Cache', `${(t.cacheHitRatio * 100).toFixed(0)}% hit`, `read ${fmtTokens(t.tokens.cacheRead)} · write ${fmtTokens(t.tokens.cacheWrite)}`)}
    ${card('Cost', fmtCost(t.cost))}
  </div>`;
  if (t.messages === 0) return html`${cards}<p class="empty">No OpenCode activity in this window.</p>`;
  const days = o.byDay;
  const maxDay = Math.max(0, ...days.map((d) => totalTokens(d.tokens)));
  const dayTable = html`<details class="as-table"><summary>Tokens and cost per day as a table</summary>
    <table><thead><tr><th>Day</th><th class="num">Replies</th><th class="num">Input</th><th class="num">Output</th><th class="num">Cache read</th><th class="num">Tokens</th><th class="num">Cost</th></tr></thead>
    <tbody>${days.map((d) => html`<tr><td>${d.day}</td><td class="num">${d.messages}</td><td class="num">${fmtTokens(d.tokens.input)}</td><td class="num">${fmtTokens(d.tokens.output)}</td><td class="num">${fmtTokens(d.tokens.cacheRead)}</td><td class="num">${fmtTokens(totalTokens(d.tokens))}</td><td class="num">${fmtCost(d.cost)}</td></tr>`)}</tbody></table></details>`;
  return html`${cards}
    <h2>Tokens and cost per day</h2>
    <div id="day-chart" class="chart" role="img" aria-label="${`Tokens and cost per day, ${days.length} days, up to ${fmtTokens(maxDay)} tokens a day`}"></div>
    ${dayTable}
    <div class="groups">
      ${groupTable('By model', 'Model', o.byModel)}
      ${groupTable('By agent', 'Agent', o.byAgent)}
      ${groupTable('By project', 'Project', o.byProject)}
    </div>`;
}

function groupTable(title: string, column: string, groups: GroupUsage[]): Html {
  const max = Math.max(0, ...groups.map((g) => g.cost));
  const maxTokens = Math.max(0, ...groups.map((g) => totalTokens(g.tokens)));
  return html`<section class="group"><h2>${title}</h2>
    <table><thead><tr><th>${column}</th><th class="num">Sessions</th><th class="num">Replies</th><th class="num">Tokens</th><th class="num">Cost</th><th class="barcol"><span class="sr-only">share</span></th></tr></thead>
    <tbody>${groups.length === 0 ? html`<tr><td colspan="6" class="empty">none</td></tr>` : ''}${groups.map(
      (g) =>
        html`<tr><td class="key" title="${g.key}">${g.key}</td><td class="num">${g.sessions}</td><td class="num">${g.messages}</td><td class="num">${fmtTokens(totalTokens(g.tokens))}</td><td class="num">${fmtCost(g.cost)}</td><td class="barcol">${max > 0 ? bar(g.cost, max) : bar(totalTokens(g.tokens), maxTokens)}</td></tr>`,
    )}</tbody></table></section>`;
}

// ── Tools ────────────────────────────────────────────────────────────────────────────────────

export function renderTools(tools: ToolStats[]): Html {
  if (tools.length === 0) return html`<p class="empty">No tool calls in this window.</p>`;
  const max = Math.max(...tools.map((t) => t.calls));
  return html`<h2>Top tools</h2>
    <table class="tools"><thead><tr><th>Tool</th><th class="num">Calls</th><th class="barcol">Calls</th><th class="num">Errors</th><th class="num">Failure rate</th><th class="barcol">Failures</th><th class="num">Median time</th></tr></thead>
    <tbody>${tools.map(
      (t) =>
        html`<tr><td class="key">${t.tool}</td><td class="num">${t.calls}</td><td class="barcol">${bar(t.calls, max)}</td><td class="num">${t.errors}</td><td class="num ${t.failureRate >= 0.2 ? 'bad' : ''}">${(t.failureRate * 100).toFixed(1)}%</td><td class="barcol">${bar(t.failureRate, 1, 'error')}</td><td class="num">${fmtMs(t.medianMs)}</td></tr>`,
    )}</tbody></table>`;
}

// ── Sessions ─────────────────────────────────────────────────────────────────────────────────

export function renderSessions(page: SessionPage, search: string): Html {
  if (page.total === 0) return html`<p class="empty">${search ? `No session matches “${search}” in this window.` : 'No sessions in this window.'}</p>`;
  const shown = page.offset + page.items.length;
  return html`<p class="muted">${page.total} root session${page.total === 1 ? '' : 's'}${search ? html` matching “${search}”` : ''}${page.total > page.items.length ? ` · ${page.offset + 1}–${shown} shown` : ''}</p>
    <table class="sessions"><thead><tr><th>Title</th><th>Folder</th><th>Agent</th><th>Model</th><th>Last active</th><th class="num">Duration</th><th class="num">Sub-agents</th><th class="num">Tokens</th><th class="num">Cost</th></tr></thead>
    <tbody>${page.items.map(
      (s) =>
        html`<tr><td class="key"><button class="link" data-trace="${s.id}" title="Show the trace of ${s.title || s.id}">${s.title || s.id}</button></td><td class="path" title="${s.directory}">${s.directory}</td><td>${s.agent ?? '–'}</td><td>${s.model ?? '–'}</td><td>${fmtTime(s.end)}</td><td class="num">${fmtMs(s.end - s.start)}</td><td class="num">${s.children}</td><td class="num">${fmtTokens(totalTokens(s.tokens))}</td><td class="num">${fmtCost(s.cost)}</td></tr>`,
    )}</tbody></table>
    <p>${page.offset > 0 ? html`<button class="page" data-offset="0">First page</button> ` : ''}${shown < page.total ? html`<button class="page" data-offset="${shown}">Next page (${page.total - shown} more)</button>` : ''}</p>`;
}

// ── Trace ────────────────────────────────────────────────────────────────────────────────────

function flatten(node: TraceNode, out: TraceNode[] = []): TraceNode[] {
  out.push(node);
  for (const c of node.children) flatten(c, out);
  return out;
}

export function renderTrace(trace: Trace): Html {
  const nodes = flatten(trace.root);
  const start = Math.min(...nodes.map((n) => n.start));
  const end = Math.max(...nodes.map((n) => n.end));
  const span = Math.max(1, end - start);
  const r = trace.root;
  return html`<h2 class="trace-title">${r.title || r.id}</h2>
    <p class="muted">${r.id} · started ${fmtTime(r.start)} · ${fmtMs(r.durationMs)} · ${nodes.length} session${nodes.length === 1 ? '' : 's'}${trace.truncated ? ' (truncated)' : ''}</p>
    <table class="trace" aria-label="Delegation tree with timing"><thead><tr><th>Session</th><th class="wfcol">Timeline (${fmtMs(span)})</th><th class="num">Duration</th><th class="num">Tokens</th><th class="num">Cost</th><th class="num">Tools</th><th class="num">Files</th></tr></thead>
    <tbody>${nodes.map((n) => {
      const offset = pct(n.start - start, span);
      const width = Math.max(0.5, Number(pct(n.durationMs, span))).toFixed(1);
      return html`<tr class="depth-${Math.min(n.depth, 8)}"><td class="key"><span class="indent" data-depth="${Math.min(n.depth, 16)}"></span>${n.depth > 0 ? raw('<span class="branch" aria-hidden="true">└</span>') : ''}<span class="agent">${n.agent ?? 'session'}</span> <span class="node-title" title="${n.title}">${n.title}</span></td><td class="wfcol"><span class="wf-track"><span class="wf ${n.toolErrors > 0 ? 'has-errors' : ''}" data-x="${offset}" data-w="${width}" title="${`${fmtTime(n.start)} → ${fmtTime(n.end)}`}"></span></span></td><td class="num">${fmtMs(n.durationMs)}</td><td class="num" title="${`in ${n.tokens.input}, out ${n.tokens.output}, reasoning ${n.tokens.reasoning}, cache read ${n.tokens.cacheRead}, cache write ${n.tokens.cacheWrite}`}">${fmtTokens(totalTokens(n.tokens))}</td><td class="num">${fmtCost(n.cost)}</td><td class="num">${n.toolCalls}${n.toolErrors > 0 ? html` <span class="bad">(${n.toolErrors} failed)</span>` : ''}</td><td class="num" title="${n.files.join('\n')}">${n.files.length}</td></tr>`;
    })}</tbody></table>`;
}

// ── Security ─────────────────────────────────────────────────────────────────────────────────

export type KindFilter = 'all' | 'bash' | 'file' | 'fetch' | 'sequence';

export interface SecurityFilter {
  minLevel: Exclude<RiskLevel, 'none'>;
  kind: KindFilter;
  text: string;
}

const LEVEL_ORDER: RiskLevel[] = ['none', 'low', 'medium', 'high', 'critical'];

export function matchesFilter(f: AuditFinding, filter: SecurityFilter): boolean {
  if (LEVEL_ORDER.indexOf(f.level) < LEVEL_ORDER.indexOf(filter.minLevel)) return false;
  if (filter.kind === 'file' && !(f.kind === 'read' || f.kind === 'write' || f.kind === 'edit')) return false;
  if (filter.kind !== 'all' && filter.kind !== 'file' && f.kind !== filter.kind) return false;
  const needle = filter.text.trim().toLowerCase();
  if (needle && ![f.target, f.sessionTitle, f.directory, ...f.reasons, ...f.techniques].some((s) => s.toLowerCase().includes(needle))) return false;
  return true;
}

function levelBadge(level: RiskLevel, score: number): Html {
  return html`<span class="level level-${level}">${level}</span> <span class="score">${score}</span>`;
}

function findingsTable(title: string, findings: AuditFinding[], what: string): Html {
  return html`<section class="findings"><h2>${title} <span class="muted">(${findings.length})</span></h2>
    ${findings.length === 0
      ? html`<p class="empty">None at this level.</p>`
      : html`<table><thead><tr><th>Risk</th><th>Time</th><th>${what} and why</th><th>MITRE ATT&amp;CK</th><th>Session</th></tr></thead>
    <tbody>${findings.slice(0, 300).map(
      (f) =>
        html`<tr class="risk-${f.level}"><td class="nowrap">${levelBadge(f.level, f.score)}</td><td class="nowrap">${fmtTime(f.time)}</td><td class="target"><span class="tool">${f.kind === 'sequence' ? 'sequence' : f.tool}</span> <code>${f.target}</code><div class="why">${f.reasons.join('; ')}</div></td><td>${f.techniques.join(', ')}</td><td><button class="link" data-trace="${f.rootSessionId}" title="${f.directory}">${f.sessionTitle || f.sessionId}</button></td></tr>`,
    )}</tbody></table>${findings.length > 300 ? html`<p class="muted">${findings.length - 300} more: narrow the filters, or run <code>opencode-monitor audit --json</code>.</p>` : ''}`}
  </section>`;
}

export function renderSecurity(report: AuditReport, filter: SecurityFilter): Html {
  const levels: RiskLevel[] = ['critical', 'high', 'medium', 'low'];
  const counts = html`<div class="cards">${levels.map((l) => html`<div class="card level-card-${l}"><div class="card-label">${l}</div><div class="card-value">${report.counts[l]}</div></div>`)}
    ${card('Scanned', String(report.scanned.actions), `${report.byKind.bash} commands · ${report.byKind.read + report.byKind.write + report.byKind.edit} file ops · ${report.byKind.fetch} fetches`)}</div>
    <table class="sr-only"><caption>Actions by risk level</caption><tbody>${levels.map((l) => html`<tr><th>${l}</th><td>${report.counts[l]}</td></tr>`)}</tbody></table>`;
  const shown = report.findings.filter((f) => matchesFilter(f, filter));
  const critical = report.findings.filter((f) => f.level === 'critical');
  const alerts = html`<section class="alerts"><h2>Critical alerts <span class="muted">(${critical.length})</span></h2>${
    critical.length === 0
      ? html`<p class="empty">No critical action in this window.</p>`
      : html`<ul>${critical.slice(0, 20).map(
          (f) =>
            html`<li class="alert"><span class="level level-critical">critical</span> <span class="score">${f.score}</span> ${f.reasons[0] ?? ''} <span class="muted">[${f.techniques.join(', ')}]</span><br><code>${f.target}</code> <span class="muted">· ${fmtTime(f.time)} ·</span> <button class="link" data-trace="${f.rootSessionId}">${f.sessionTitle || f.sessionId}</button></li>`,
        )}</ul>`
  }</section>`;
  const by = (k: KindFilter) => shown.filter((f) => matchesFilter(f, { ...filter, kind: k, text: '' }));
  const wants = (k: KindFilter) => filter.kind === 'all' || filter.kind === k;
  return html`${counts}${alerts}
    ${report.truncated ? html`<p class="muted">Only the oldest ${report.scanned.toolCalls} tool calls of the window were scanned.</p>` : ''}
    ${wants('sequence') ? findingsTable('Sequences', by('sequence'), 'Steps') : ''}
    ${wants('bash') ? findingsTable('Commands', by('bash'), 'Command') : ''}
    ${wants('file') ? findingsTable('File operations', by('file'), 'File') : ''}
    ${wants('fetch') ? findingsTable('Fetches', by('fetch'), 'URL') : ''}`;
}

export function renderError(message: string): Html {
  return html`<span class="codicon-like" aria-hidden="true">⚠</span> ${message.split('\n')[0]}`;
}
