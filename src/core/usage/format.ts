/** * Pure text helpers for showing usage and spend (status bar, tooltips, CLI). No clock of their
 * own: callers pass `now`. Times are the machine's local time.
 */
import type { UsageErrorCode, UsageModel } from '../model/model';
import type { CredentialSource } from './usageCredential';

/** The legacy menu-bar colours: ≥90 red, ≥70 orange, ≥50 yellow, else green. */
export type UsageLevel = 'green' | 'yellow' | 'orange' | 'red';

export function usageLevel(percent: number): UsageLevel {
  if (!Number.isFinite(percent)) return 'green';
  if (percent >= 90) return 'red';
  if (percent >= 70) return 'orange';
  if (percent >= 50) return 'yellow';
  return 'green';
}

/** Whole percent, truncated like the legacy file (45.9 → "45%"). */
export function formatPercent(percent: number): string {
  return `${Number.isFinite(percent) ? Math.trunc(Math.min(100, Math.max(0, percent))) : 0}%`;
}

const NOT_STARTED = 'not started';

/** "resets in 2h 14m", "resets in 14m", "resets in <1m", "resets in 3d 4h"; "not started" without a time. */
export function resetCountdown(resetsAt: string | undefined, now: number): string {
  const at = resetsAt ? Date.parse(resetsAt) : NaN;
  if (!Number.isFinite(at)) return NOT_STARTED;
  const ms = at - now;
  if (ms <= 0) return 'resets now';
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'resets in <1m';
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  if (days > 0) return `resets in ${days}d${hours ? ` ${hours}h` : ''}`;
  if (hours > 0) return `resets in ${hours}h${mins ? ` ${mins}m` : ''}`;
  return `resets in ${mins}m`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'] as const;

/** Local weekday and time of the reset: "Mon 09:00"; "not started" without a time. */
export function resetDay(resetsAt: string | undefined): string {
  const at = resetsAt ? Date.parse(resetsAt) : NaN;
  if (!Number.isFinite(at)) return NOT_STARTED;
  const d = new Date(at);
  return `${DAYS[d.getDay()]} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "just now", "4m ago", "2h 5m ago", "3d ago": the age of fetched values. */
export function usageAge(fetchedAt: number | undefined, now: number): string {
  if (fetchedAt === undefined || !Number.isFinite(fetchedAt)) return 'never';
  const minutes = Math.floor(Math.max(0, now - fetchedAt) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes}m ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours}h${minutes % 60 ? ` ${minutes % 60}m` : ''} ago`;
  return `${Math.floor(hours / 24)}d ago`;
}

/** What an error code means for the user, one short sentence. */
export function usageErrorText(code: UsageErrorCode): string {
  switch (code) {
    case 'auth_not_found':
      return 'No Claude sign-in found';
    case 'token_not_found':
      return 'Claude sign-in found, but no usable token in it';
    case 'token_expired':
      return 'Claude token expired — open Claude Code (or OpenCode) to refresh it';
    case 'missing_scope':
      return 'Claude token cannot read usage (missing user:profile scope) — sign in again with `claude`';
    case 'rate_limited':
      return 'Usage API rate limit — retrying later';
    case 'api_error':
      return 'Usage API unavailable';
  }
}

/** One line for a tooltip: "Usage API unavailable — values from 12m ago". */
export function usageStatusLine(usage: UsageModel, now: number): string {
  const parts: string[] = [];
  if (usage.error) parts.push(usageErrorText(usage.error));
  if (usage.fetchedAt !== undefined) parts.push(`${usage.stale ? 'values from' : 'updated'} ${usageAge(usage.fetchedAt, now)}`);
  return parts.join(' — ');
}

/** "$1.23", "<$0.01", "$0"; dollars as OpenCode records them. */
export function formatCost(usd: number): string {
  if (!Number.isFinite(usd) || usd <= 0) return '$0';
  if (usd < 0.01) return '<$0.01';
  if (usd < 1000) return `$${usd.toFixed(2)}`;
  return `$${Math.round(usd).toLocaleString('en-US')}`;
}

/** 950 → "950", 12 345 → "12.3k", 1 234 567 → "1.2M". */
export function formatTokens(count: number): string {
  if (!Number.isFinite(count) || count <= 0) return '0';
  if (count < 1000) return String(Math.round(count));
  if (count < 1_000_000) return `${trimZero((count / 1000).toFixed(count < 10_000 ? 1 : 0))}k`;
  return `${trimZero((count / 1_000_000).toFixed(1))}M`;
}

/**
 * Spend in one phrase. Subscription (OAuth) sessions record cost 0, so then only tokens mean
 * anything: "123k tokens"; otherwise "$1.23 · 123k tokens".
 */
export function spendText(cost: number, totalTokens: number): string {
  const tokens = `${formatTokens(totalTokens)} tokens`;
  return cost > 0 ? `${formatCost(cost)} · ${tokens}` : tokens;
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

function trimZero(text: string): string {
  return text.replace(/\.0$/, '');
}

/** A credential source as users know it. */
export function sourceLabel(source: CredentialSource): string {
  switch (source) {
    case 'claude-code':
      return 'Claude Code';
    case 'claude-code-keychain':
      return 'the Claude Code Keychain item';
    case 'opencode-auth':
      return "OpenCode's auth.json";
    case 'opencode-db':
      return "OpenCode's database";
  }
}
