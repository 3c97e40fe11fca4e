/** Markdown helpers for tooltips built from untrusted text (titles, commands, error messages). */
import { terminalSafe } from './neutralize';

/** Escapes Markdown syntax and `$(icon)` references (tooltips render theme icons). */
export function escapeMarkdown(text: string): string {
  return terminalSafe(text, true).replace(/[\\`*_{}[\]()#+\-.!|<>~$]/g, '\\$&').replace(/\n/g, '  \n');
}

/** Inline code that survives backticks inside the text. */
export function inlineCode(text: string): string {
  const single = terminalSafe(text);
  const longest = Math.max(0, ...(single.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = single.startsWith('`') || single.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${single}${pad}${fence}`;
}

/** A `command:` link with JSON arguments, for MarkdownStrings trusted for that command only. */
export function commandLink(label: string, command: string, args?: unknown[]): string {
  const query = args ? `?${encodeURIComponent(JSON.stringify(args))}` : '';
  return `[${escapeMarkdown(label)}](command:${command}${query})`;
}

/** `**Key:** value` lines, skipping empty values. */
export function fieldLines(fields: Array<[string, string | number | undefined]>): string[] {
  return fields.filter(([, v]) => v !== undefined && v !== '').map(([k, v]) => `**${k}:** ${typeof v === 'number' ? v : v}`);
}
