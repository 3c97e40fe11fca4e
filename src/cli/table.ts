/** The `watch` screen: instances and their sessions as an indented, coloured table. */
import type { MonitorSnapshot, RiskModel, SessionModel } from '../core/model/model';
import { AGENT_NAMES } from '../core/model/model';
import { countSessions } from '../core/model/counts';
import { riskSummary, standsOut } from '../core/audit/levels';
import { showsRisk } from '../core/present/risk';
import { formatDuration, instanceLabel, sessionActivity, truncate } from '../core/present/format';
import { terminalSafeDeep } from '../core/present/neutralize';
import { displayName } from '../core/model/labelText';

export interface TableOptions {
  now: number;
  width: number;
  color: boolean;
  /** The time in the header (a terminal redrawn in place); piped output leaves it out, so it only changes with the content. */
  clock?: boolean;
  /** A last line, e.g. how to quit (terminal only). */
  footer?: string;
}

/** Permission (and question) lines shown per session; the rest are counted (issue 11). */
export const MAX_PERMISSION_LINES = 5;

const codes = { reset: '\x1b[0m', dim: '\x1b[2m', bold: '\x1b[1m', red: '\x1b[31m', green: '\x1b[32m', yellow: '\x1b[33m', blue: '\x1b[34m' };

export function renderTable(unsafe: MonitorSnapshot, options: TableOptions): string {
  // Every server string made terminal-safe before it is laid out (issue 11): escapes, C1, bidi.
  const snapshot = terminalSafeDeep(unsafe);
  const paint = (code: keyof typeof codes, text: string) => (options.color ? codes[code] + text + codes.reset : text);
  const lines: string[] = [];
  // The one counting rule of every view (src/core/model/counts.ts).
  const { sessions, busy, needsYou: needs } = countSessions(snapshot.sessions);
  const clock = options.clock === false ? '' : `  ${new Date(options.now).toLocaleTimeString()}`;
  const summary = `OpenCode Monitor — ${snapshot.instances.length} instance(s), ${sessions} session(s), ${busy} busy`;
  lines.push(paint('bold', summary) + (needs ? '  ' + paint('red', `${needs} need${needs === 1 ? 's' : ''} you`) : '') + (clock ? paint('dim', clock) : ''));
  if (snapshot.usage && (snapshot.usage.fiveHour || snapshot.usage.error)) {
    const u = snapshot.usage;
    const part = u.error && !u.fiveHour ? `usage: ${u.error}` : `5h ${Math.trunc(u.fiveHour?.percent ?? 0)}%  7d ${Math.trunc(u.sevenDay?.percent ?? 0)}%${u.stale ? ' (stale)' : ''}`;
    lines.push(paint('dim', part));
  }
  if (snapshot.instances.length === 0) {
    lines.push(paint('dim', 'No OpenCode instance found. Start one with `opencode serve` or `opencode --port 0`.'));
  }
  const byParent = new Map<string | undefined, SessionModel[]>();
  for (const s of snapshot.sessions) {
    const key = s.parentId && snapshot.sessions.some((p) => p.id === s.parentId) ? s.parentId : undefined;
    byParent.set(key, [...(byParent.get(key) ?? []), s]);
  }
  for (const instance of snapshot.instances) {
    const icon =
      instance.connection === 'connected' ? paint('green', '●') : instance.connection === 'limited' ? paint('yellow', '◐') : instance.connection === 'down' ? paint('red', '✕') : paint('dim', '◌');
    const meta = [
      instance.agent !== 'opencode' ? AGENT_NAMES[instance.agent] : '',
      instance.managed ? `managed ${instance.managed.state}${instance.managed.restarts ? ` (${instance.managed.restarts} restarts)` : ''}` : '',
      instance.container ? `docker ${instance.container.image}` : '',
      instance.pid ? `pid ${instance.pid}` : '',
      instance.tty ?? '',
      instance.tmuxPane ? `tmux ${instance.tmuxPane}` : '',
      instance.version ? `v${instance.version}` : '',
      instance.connection,
    ]
      .filter(Boolean)
      .join('  ');
    lines.push('');
    lines.push(`${icon} ${paint('bold', instanceLabel(instance))}  ${paint('dim', meta)}${instance.error && instance.error !== instance.connection ? '  ' + paint('yellow', instance.error) : ''}`);
    if (instance.hint && instance.connection !== 'connected') lines.push(paint('dim', `   ${instance.hint}`));
    const roots = (byParent.get(undefined) ?? []).filter((s) => s.instanceId === instance.id);
    const walk = (session: SessionModel, depth: number) => {
      lines.push(sessionLine(session, depth, options, paint));
      for (const p of session.permissions.slice(0, MAX_PERMISSION_LINES)) {
        lines.push(detail(depth, paint('red', `🔐 ${p.permission}: ${truncate(p.command ?? p.patterns.join(' '), options.width - 20)}`)));
        lines.push(...riskLines(depth, p.risk, paint));
      }
      if (session.permissions.length > MAX_PERMISSION_LINES) lines.push(detail(depth, paint('red', `… and ${session.permissions.length - MAX_PERMISSION_LINES} more`)));
      for (const q of session.questions.slice(0, MAX_PERMISSION_LINES)) lines.push(detail(depth, paint('red', `❓ ${truncate(q.questions[0]?.question ?? '', options.width - 20)}`)));
      if (session.questions.length > MAX_PERMISSION_LINES) lines.push(detail(depth, paint('red', `… and ${session.questions.length - MAX_PERMISSION_LINES} more`)));
      lines.push(...toolRiskLines(session, depth, options, paint));
      if (session.todos.total > 0 && session.status !== 'idle') {
        const t = session.todos;
        const label = t.currentLabel ? ` ${truncate(t.currentLabel, 50)}` : '';
        lines.push(detail(depth, paint('blue', `☑ ${t.completed}/${t.total}${label}`)));
      }
      for (const child of byParent.get(session.id) ?? []) walk(child, depth + 1);
    };
    for (const root of roots) walk(root, 1);
  }
  if (options.footer) lines.push('', paint('dim', options.footer));
  return lines.map((l) => truncateVisible(l, options.width)).join('\n');
}

function sessionLine(session: SessionModel, depth: number, options: TableOptions, paint: (c: keyof typeof codes, t: string) => string): string {
  const indent = '   '.repeat(depth);
  const icon = session.needsAttention ? paint('red', '⚠') : session.status === 'busy' ? paint('blue', '●') : session.status === 'retry' ? paint('yellow', '↻') : paint('dim', '○');
  const title = truncate(displayName(session), 40);
  const activity = sessionActivity(session, options.now);
  const age = session.status === 'idle' ? paint('dim', `  ${formatDuration(options.now - session.updatedAt)} ago`) : '';
  return `${indent}${icon} ${title.padEnd(Math.min(40, title.length + 2))} ${session.needsAttention ? paint('red', activity) : activity}${age}`;
}

/** Issue 15: the risk of a permission (medium and up), on its own line so the width never cuts it. */
function riskLines(depth: number, risk: RiskModel | undefined, paint: (c: keyof typeof codes, t: string) => string): string[] {
  if (!showsRisk(risk)) return [];
  return [detail(depth, paint(standsOut(risk.level) ? 'red' : 'yellow', `  ⚠ ${riskSummary(risk, 3)}`))];
}

/** Running tools with a risk (not those shown as a permission), and a critical action that ran without a prompt. */
function toolRiskLines(session: SessionModel, depth: number, options: TableOptions, paint: (c: keyof typeof codes, t: string) => string): string[] {
  const asked = new Set(session.permissions.map((p) => p.callID));
  const out: string[] = [];
  for (const t of session.runningTools.filter((t) => showsRisk(t.risk) && !asked.has(t.callID)).slice(0, MAX_PERMISSION_LINES)) {
    out.push(detail(depth, `▶ ${t.name}: ${truncate(t.arg, options.width - 20)}`), ...riskLines(depth, t.risk, paint));
  }
  const alert = session.riskAlert;
  if (alert) {
    out.push(detail(depth, paint('red', `🚨 ran without a permission prompt: ${alert.tool}: ${truncate(alert.arg, options.width - 50)}`)), ...riskLines(depth, alert, paint));
  }
  return out;
}

function detail(depth: number, text: string): string {
  return '   '.repeat(depth + 1) + text;
}

/** Cuts a line to the terminal width, counting only visible characters (not colour codes). */
function truncateVisible(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      // Only our own colour codes (SGR) pass; any other escape is dropped, never half-copied.
      const sgr = /^\x1b\[[0-9;]*m/.exec(line.slice(i, i + 16));
      if (sgr) out += sgr[0];
      i += sgr ? sgr[0].length - 1 : 0;
      continue;
    }
    if (visible >= width) break;
    out += line[i];
    visible++;
  }
  return out;
}
