/** `--since` / the panel's window: 24h, 7d, 30d, all, or N d / N h (bounded). */
import type { HistoryWindow } from './types';

/** Ten years: anything longer is a typo, not a window. */
export const MAX_SINCE_HOURS = 24 * 3660;

/** Parses a window; throws Error with a one-line reason for anything else. */
export function windowFromSince(text: string, now: number = Date.now()): HistoryWindow {
  const value = text.trim().toLowerCase();
  if (value === 'all') return { since: null, label: 'all' };
  const match = /^(\d{1,6})([dh])$/.exec(value);
  if (!match) throw new Error(`--since must be 24h, 7d, 30d, all, or a number of days (Nd) or hours (Nh); got ${JSON.stringify(text.slice(0, 40))}`);
  const n = Number(match[1]);
  const hours = match[2] === 'd' ? n * 24 : n;
  if (n === 0) throw new Error('--since must be at least 1h');
  if (hours > MAX_SINCE_HOURS) throw new Error(`--since ${value} is more than ten years; use "all"`);
  return { since: now - hours * 3_600_000, label: `${n}${match[2]}` };
}
