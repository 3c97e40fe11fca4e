/**
 * Pure status-bar presentation: text, colours and tooltip from a snapshot. `src/statusBar.ts`
 * applies it to the one status-bar item.
 */
import { formatDuration, instanceLabel, sessionActivity, truncate } from './format';
import type { MonitorSnapshot, SessionModel, UsageModel, UsageWindow } from '../model/model';
import { sessionsNeedingYou } from './attention';
import { CommandId } from './commandIds';
import { commandLink, escapeMarkdown } from './markdown';
import { sessionLabel } from './tree';
import { resetCountdown, resetDay, usageLevel } from '../usage/format';
import type { UsageLevel } from '../usage/format';

/** The legacy thresholds (50/70/90) as theme colours; below 50 % the default text colour. */
export const USAGE_COLORS: Record<UsageLevel, string | undefined> = {
  green: undefined,
  yellow: 'charts.yellow',
  orange: 'charts.orange',
  red: 'charts.red',
};

export const DIMMED_COLOR = 'disabledForeground';
export const STALE_MARKER = '$(history)';
export const ERROR_MARKER = '$(warning)';

export interface StatusPresentation {
  text: string;
  /** Markdown, trusted for `commands` only. */
  tooltip: string;
  /** `statusBarItem.warningBackground` / `statusBarItem.errorBackground`. */
  background?: 'warning' | 'error';
  /** Theme colour of the text, when there is no background. */
  color?: string;
  accessibilityLabel: string;
  /** Commands the tooltip links to (the MarkdownString is trusted for these only). */
  commands: string[];
  busy: number;
  needsYou: number;
}

const LEVEL_RANK: Record<UsageLevel, number> = { green: 0, yellow: 1, orange: 2, red: 3 };

/** Root sessions at work (a busy sub-agent already makes its parent busy). */
export function busySessions(snapshot: MonitorSnapshot): SessionModel[] {
  const ids = new Set(snapshot.sessions.map((s) => s.id));
  return snapshot.sessions.filter((s) => s.status !== 'idle' && !s.needsAttention && !(s.parentId && ids.has(s.parentId)));
}

export interface UsageSummary {
  /** `5h 42% · 7d 71%`, with a marker when stale or in error; empty when nothing to show. */
  text: string;
  level: UsageLevel;
  dimmed: boolean;
}

export function summarizeUsage(usage: UsageModel | undefined): UsageSummary {
  if (!usage) return { text: '', level: 'green', dimmed: false };
  const windows: Array<[string, UsageWindow | undefined]> = [
    ['5h', usage.fiveHour],
    ['7d', usage.sevenDay],
  ];
  const shown = windows.filter((w): w is [string, UsageWindow] => w[1] !== undefined);
  // No credentials at all: the feature does not apply, say nothing.
  if (shown.length === 0) {
    return usage.error && usage.error !== 'auth_not_found'
      ? { text: `${ERROR_MARKER} usage`, level: 'green', dimmed: true }
      : { text: '', level: 'green', dimmed: false };
  }
  const level = shown.reduce<UsageLevel>((worst, [, w]) => {
    const l = usageLevel(w.percent);
    return LEVEL_RANK[l] > LEVEL_RANK[worst] ? l : worst;
  }, 'green');
  const dimmed = usage.stale || usage.error !== undefined;
  const text = shown.map(([name, w]) => `${name} ${Math.round(w.percent)}%`).join(' · ');
  return { text: dimmed ? `${text} ${usage.error && !usage.stale ? ERROR_MARKER : STALE_MARKER}` : text, level, dimmed };
}

export function presentStatus(snapshot: MonitorSnapshot, now: number): StatusPresentation {
  const busy = busySessions(snapshot);
  const waiting = sessionsNeedingYou(snapshot);
  const usage = summarizeUsage(snapshot.usage);

  const parts: string[] = [];
  if (snapshot.instances.length === 0) parts.push('$(vm-outline) OpenCode');
  else parts.push(busy.length > 0 ? `$(loading~spin) ${busy.length} busy` : '$(check) idle');
  if (waiting.length > 0) parts.push(`$(bell) ${waiting.length}`);
  if (usage.text) parts.push(usage.text);

  const background = waiting.length > 0 ? 'warning' : usage.level === 'red' && !usage.dimmed ? 'error' : undefined;
  const color = background ? undefined : usage.dimmed ? DIMMED_COLOR : USAGE_COLORS[usage.level];

  const a11y = [
    snapshot.instances.length === 0 ? 'OpenCode: no instance found' : `OpenCode: ${busy.length} busy`,
    waiting.length > 0 ? `${waiting.length} need${waiting.length === 1 ? 's' : ''} you` : '',
    usage.text ? `usage ${usage.text.replace(/\$\([^)]*\)/g, '').trim()}${usage.dimmed ? ' (not current)' : ''}` : '',
  ].filter(Boolean);

  return {
    text: parts.join('  '),
    tooltip: statusTooltip(snapshot, busy, waiting, now),
    ...(background ? { background } : {}),
    ...(color ? { color } : {}),
    accessibilityLabel: a11y.join(', '),
    commands: [CommandId.nextNeedingMe, CommandId.refresh, CommandId.showLog],
    busy: busy.length,
    needsYou: waiting.length,
  };
}

const MAX_LISTED = 8;

function statusTooltip(snapshot: MonitorSnapshot, busy: SessionModel[], waiting: SessionModel[], now: number): string {
  const lines: string[] = ['**OpenCode Monitor**', ''];
  if (snapshot.instances.length === 0) {
    lines.push('No running OpenCode instance found.', '');
  } else {
    const sessions = snapshot.sessions.length;
    lines.push(
      `${snapshot.instances.length} instance${snapshot.instances.length === 1 ? '' : 's'} · ${sessions} session${sessions === 1 ? '' : 's'} · ${busy.length} busy · ${waiting.length} waiting for you`,
      '',
    );
  }
  const listed = (title: string, list: SessionModel[], link: boolean) => {
    if (list.length === 0) return;
    lines.push(title, '');
    for (const s of list.slice(0, MAX_LISTED)) {
      const instance = snapshot.instances.find((i) => i.id === s.instanceId);
      const name = truncate(sessionLabel(s), 60);
      const label = link ? commandLink(name, CommandId.nextNeedingMe, [s.id]) : escapeMarkdown(name);
      lines.push(`- ${label} — ${escapeMarkdown(sessionActivity(s, now))}${instance ? ` _(${escapeMarkdown(instanceLabel(instance))})_` : ''}`);
    }
    if (list.length > MAX_LISTED) lines.push(`- … and ${list.length - MAX_LISTED} more`);
    lines.push('');
  };
  listed('$(bell) **Waiting for you**', waiting, true);
  listed('$(loading~spin) **Busy**', busy, false);
  lines.push(...usageTooltip(snapshot.usage, now));
  lines.push(`${commandLink('Refresh', CommandId.refresh)} · ${commandLink('Show Log', CommandId.showLog)}`);
  return lines.join('\n');
}

function usageTooltip(usage: UsageModel | undefined, now: number): string[] {
  if (!usage) return [];
  const lines = [`**Usage**${usage.source ? ` _(${escapeMarkdown(usage.source)})_` : ''}`, ''];
  const rows: Array<[string, UsageWindow | undefined]> = [
    ['5-hour', usage.fiveHour],
    ['7-day', usage.sevenDay],
    ...Object.entries(usage.modelWeeks ?? {}).map(([model, w]): [string, UsageWindow] => [`7-day ${model}`, w]),
  ];
  const present = rows.filter((r): r is [string, UsageWindow] => r[1] !== undefined);
  if (present.length > 0) {
    lines.push('| Window | Used | Resets |', '|---|---:|---|');
    for (const [name, w] of present) {
      const level = usageLevel(w.percent);
      const mark = level === 'red' ? ' $(error)' : level === 'orange' ? ' $(warning)' : '';
      // The 5-hour window is a countdown; weekly ones are a day and time.
      const resets = name === '5-hour' ? resetCountdown(w.resetsAt, now) : resetDay(w.resetsAt);
      lines.push(`| ${escapeMarkdown(name)} | ${Math.trunc(w.percent)}%${mark} | ${resets} |`);
    }
    lines.push('');
  }
  if (usage.stale) {
    const age = usage.fetchedAt !== undefined ? ` from ${formatDuration(now - usage.fetchedAt)} ago` : '';
    lines.push(`${STALE_MARKER} _Values${age}: the latest fetch failed._`, '');
  }
  if (usage.error && usage.error !== 'auth_not_found') {
    lines.push(`${ERROR_MARKER} ${escapeMarkdown(usage.errorMessage ?? usage.error.replace(/_/g, ' '))}`, '');
  }
  return lines;
}

