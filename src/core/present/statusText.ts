/**
 * Pure status-bar presentation from a snapshot, for two items (src/vscode/statusBar.ts): the
 * sessions (what needs the user first) and the usage meter, each hideable on its own. VS Code's
 * status-bar guidelines: one icon, no spinning while merely busy, no custom text colours; the
 * warning background only while something waits for the user.
 */
import { formatDuration, instanceLabel, sessionActivity, truncate } from './format';
import type { MonitorSnapshot, SessionModel, UsageModel, UsageWindow } from '../model/model';
import { sessionsNeedingYou } from './attention';
import { classifyRoots, countSessions } from '../model/counts';
import type { SessionCounts } from '../model/counts';
import { CommandId } from './commandIds';
import { commandLink, escapeMarkdown } from './markdown';
import { sessionLabel } from './tree';
import { resetCountdown, resetDay, sourceLabel, usageLevel } from '../usage/format';
import type { CredentialSource } from '../usage/usageCredential';
import type { UsageLevel } from '../usage/format';

export const STALE_MARKER = '$(history)';
export const ERROR_MARKER = '$(warning)';

export interface StatusPresentation {
  text: string;
  /** Markdown, trusted for `commands` only. */
  tooltip: string;
  /** `statusBarItem.warningBackground`: only while sessions wait for the user. */
  background?: 'warning';
  accessibilityLabel: string;
  /** Commands the tooltip links to (the MarkdownString is trusted for these only). */
  commands: string[];
  busy: number;
  needsYou: number;
}

const LEVEL_RANK: Record<UsageLevel, number> = { green: 0, yellow: 1, orange: 2, red: 3 };

/** Top-level sessions at work, by the one counting rule (src/core/model/counts.ts). */
export function busySessions(snapshot: MonitorSnapshot): SessionModel[] {
  return classifyRoots(snapshot.sessions).filter((r) => r.state === 'busy').map((r) => r.session);
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
  const counts = countSessions(snapshot.sessions);

  let text: string;
  if (counts.needsYou > 0) text = `$(bell) ${counts.needsYou} waiting${counts.busy > 0 ? ` · ${counts.busy} busy` : ''}`;
  else if (snapshot.instances.length === 0) text = '$(vm-outline) OpenCode';
  else text = counts.busy > 0 ? `$(pulse) ${counts.busy} busy` : '$(check) idle';

  const a11y = [
    counts.needsYou > 0 ? `OpenCode: ${counts.needsYou} session${counts.needsYou === 1 ? '' : 's'} waiting for you` : '',
    snapshot.instances.length === 0 ? 'OpenCode: no instance found' : `${counts.needsYou > 0 ? '' : 'OpenCode: '}${counts.busy} busy`,
  ].filter(Boolean);

  return {
    text,
    tooltip: statusTooltip(snapshot, counts, busy, waiting, now),
    ...(counts.needsYou > 0 ? { background: 'warning' as const } : {}),
    accessibilityLabel: a11y.join(', '),
    commands: [CommandId.nextNeedingMe, CommandId.refresh, CommandId.showLog],
    busy: counts.busy,
    needsYou: counts.needsYou,
  };
}

export interface UsagePresentation {
  text: string;
  /** Markdown, trusted for `commands` only. */
  tooltip: string;
  accessibilityLabel: string;
  commands: string[];
}

/** The usage item, or undefined to hide it (no sign-in, meter off). A window at 90 % or more gets the warning icon, not a colour. */
export function presentUsage(usage: UsageModel | undefined, now: number): UsagePresentation | undefined {
  const summary = summarizeUsage(usage);
  if (!summary.text) return undefined;
  const icon = summary.level === 'red' && !summary.dimmed ? '$(warning)' : '$(dashboard)';
  const text = summary.text.startsWith('$(') ? summary.text : `${icon} ${summary.text}`;
  return {
    text,
    tooltip: [...usageTooltip(usage, now), commandLink('Refresh', CommandId.refresh)].join('\n'),
    accessibilityLabel: `Claude usage ${summary.text.replace(/\$\([^)]*\)/g, '').trim()}${summary.dimmed ? ' (not current)' : ''}`,
    commands: [CommandId.refresh],
  };
}

const KNOWN_SOURCES = new Set<string>(['claude-code', 'claude-code-keychain', 'opencode-auth', 'opencode-db'] satisfies CredentialSource[]);

const MAX_LISTED = 8;

function statusTooltip(snapshot: MonitorSnapshot, counts: SessionCounts, busy: SessionModel[], waiting: SessionModel[], now: number): string {
  const lines: string[] = ['**OpenCode Monitor**', ''];
  if (snapshot.instances.length === 0) {
    lines.push('No running OpenCode instance found.', '');
  } else {
    const n = counts.sessions;
    lines.push(
      `${snapshot.instances.length} instance${snapshot.instances.length === 1 ? '' : 's'} · ${n} session${n === 1 ? '' : 's'} · ${counts.busy} busy · ${counts.needsYou} waiting for you`,
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
  listed('$(pulse) **Busy**', busy, false);
  lines.push(`${commandLink('Refresh', CommandId.refresh)} · ${commandLink('Show Log', CommandId.showLog)}`);
  return lines.join('\n');
}

function usageTooltip(usage: UsageModel | undefined, now: number): string[] {
  if (!usage) return [];
  const source = usage.source ? (KNOWN_SOURCES.has(usage.source) ? sourceLabel(usage.source as CredentialSource) : usage.source) : undefined;
  const lines = [`**Claude usage**${source ? ` _(from ${escapeMarkdown(source)})_` : ''}`, ''];
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

