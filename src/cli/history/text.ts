/** Plain-text rendering of history for a terminal: DB text is cleaned before it is printed. */
import { cleanLine } from '../../core/servers/outputLines';
import { formatDuration, truncate } from '../../core/present/format';
import type { GroupUsage, Overview, SessionPage, TokenCounts, Trace, TraceNode } from '../../core/history/types';
import { fmtTokens } from '../../core/present/numbers';

// Bidirectional overrides and isolates can reorder what a terminal shows.
const BIDI = /[\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/** DB text made safe for a terminal: no escapes, no C0/C1 controls, no bidi overrides, one line. */
export function safeText(text: string, max = 80): string {
  return truncate(cleanLine(text.replace(/[\t\r\n]+/g, ' ')).replace(BIDI, ''), max);
}

export function fmtCost(usd: number): string {
  return usd >= 100 ? `$${usd.toFixed(0)}` : `$${usd.toFixed(2)}`;
}

export function totalTokens(t: TokenCounts): number {
  return t.input + t.output + t.reasoning + t.cacheRead + t.cacheWrite;
}

function table(headers: string[], rows: string[][], right: boolean[]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => (right[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)];
}

function groupTable(title: string, groups: GroupUsage[], limit = 10): string[] {
  if (groups.length === 0) return [];
  const rows = groups.slice(0, limit).map((g) => [safeText(g.key, 50), String(g.sessions), String(g.messages), fmtTokens(totalTokens(g.tokens)), fmtCost(g.cost)]);
  return ['', title, ...table(['', 'sessions', 'replies', 'tokens', 'cost'], rows, [false, true, true, true, true]).map((l) => `  ${l}`)];
}

export function renderReport(overview: Overview, sessions: SessionPage): string {
  const t = overview.totals;
  const out = [
    `OpenCode history — ${overview.window.label === 'all' ? 'all time' : `last ${overview.window.label}`}`,
    `  sessions ${t.sessions} (${t.rootSessions} root)   messages ${t.messages}   cost ${fmtCost(t.cost)}`,
    `  tokens: input ${fmtTokens(t.tokens.input)}  output ${fmtTokens(t.tokens.output)}  reasoning ${fmtTokens(t.tokens.reasoning)}  cache read ${fmtTokens(t.tokens.cacheRead)}  cache write ${fmtTokens(t.tokens.cacheWrite)}  cache hit ${(t.cacheHitRatio * 100).toFixed(0)}%`,
  ];
  if (overview.byDay.length > 0) {
    const max = Math.max(...overview.byDay.map((d) => d.cost), 1e-9);
    out.push('', 'per day');
    for (const d of overview.byDay.slice(-31)) out.push(`  ${d.day}  ${fmtCost(d.cost).padStart(8)}  ${fmtTokens(totalTokens(d.tokens)).padStart(6)}  ${'█'.repeat(Math.round((d.cost / max) * 30))}`);
  }
  out.push(...groupTable('by model', overview.byModel), ...groupTable('by agent', overview.byAgent), ...groupTable('by project', overview.byProject));
  if (overview.tools.length > 0) {
    const rows = overview.tools.slice(0, 15).map((x) => [safeText(x.tool, 30), String(x.calls), String(x.errors), `${(x.failureRate * 100).toFixed(1)}%`, x.medianMs === null ? '—' : formatMs(x.medianMs)]);
    out.push('', 'top tools', ...table(['', 'calls', 'errors', 'failed', 'median'], rows, [false, true, true, true, true]).map((l) => `  ${l}`));
  }
  if (sessions.items.length > 0) {
    out.push('', `recent root sessions (${sessions.items.length} of ${sessions.total}; trace one with: opencode-monitor trace <id>)`);
    const rows = sessions.items.map((s) => [s.id, new Date(s.end).toISOString().slice(0, 16).replace('T', ' '), String(s.children), fmtCost(s.cost), safeText(s.title, 50)]);
    out.push(...table(['id', 'last active', 'sub', 'cost', 'title'], rows, [false, false, true, true, false]).map((l) => `  ${l}`));
  }
  return `${out.join('\n')}\n`;
}

export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : formatDuration(ms);
}

export function renderTrace(trace: Trace): string {
  const out: string[] = [];
  const root = trace.root;
  // A sub-agent can outlive its parent's last message: the timeline spans the whole tree.
  const lastEnd = (n: TraceNode): number => Math.max(n.end, ...n.children.map(lastEnd));
  const span = Math.max(1, lastEnd(root) - root.start);
  const walk = (node: TraceNode, prefix: string, last: boolean, top: boolean): void => {
    const branch = top ? '' : `${prefix}${last ? '└─ ' : '├─ '}`;
    const offset = node.start - root.start;
    const bar = timeline(offset / span, node.durationMs / span, 20);
    out.push(
      `${branch}${safeText(node.agent ?? '?', 20)}: ${safeText(node.title, 60)}`,
      `${top ? '' : `${prefix}${last ? '   ' : '│  '}`}  ${bar} +${formatMs(offset)} for ${formatMs(node.durationMs)}  ${fmtTokens(totalTokens(node.tokens))} tok  ${fmtCost(node.cost)}  ${node.toolCalls} tools${node.toolErrors ? ` (${node.toolErrors} failed)` : ''}${node.files.length ? `  ${node.files.length} files` : ''}  ${node.id}`,
    );
    const childPrefix = top ? '' : `${prefix}${last ? '   ' : '│  '}`;
    node.children.forEach((c, i) => walk(c, childPrefix, i === node.children.length - 1, false));
  };
  walk(root, '', true, true);
  if (trace.truncated) out.push(`(tree truncated at ${trace.nodes} sessions)`);
  return `${out.join('\n')}\n`;
}

function timeline(start: number, length: number, width: number): string {
  const a = Math.min(width - 1, Math.max(0, Math.floor(start * width)));
  const n = Math.max(1, Math.min(width - a, Math.round(length * width)));
  return `[${' '.repeat(a)}${'▇'.repeat(n)}${' '.repeat(width - a - n)}]`;
}
