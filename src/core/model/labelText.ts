/**
 * A user's label on a session: one short line of plain text. It is typed by the user but also
 * arrives through files and a socket any local process of the user can write to, so it is
 * neutralised the same way everywhere it enters: no control characters (terminal escapes), no
 * bidirectional overrides, whitespace collapsed, bounded length.
 */

/** Longest label kept, in characters (code points). */
export const MAX_LABEL_LENGTH = 80;

// C0/C1 controls, DEL, zero-width and bidi controls, line/paragraph separators.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff]/g;

/**
 * The label as stored and shown; empty means "no label". Besides control characters, the two
 * syntaxes VS Code renders in plain-text places are broken up: `[text](target)` links
 * (notifications run `command:` links) and `$(icon)` references (quick picks, status bar).
 */
export function cleanLabel(text: string): string {
  const flat = text
    .replace(/\x1b\[[0-?]*[ -/]*[@-~]/g, ' ')
    .replace(UNSAFE, ' ')
    .replace(/\]\s*\(/g, '] (')
    .replace(/\$\(/g, '$ (')
    .replace(/\s+/g, ' ')
    .trim();
  const chars = [...flat];
  return chars.length <= MAX_LABEL_LENGTH ? flat : chars.slice(0, MAX_LABEL_LENGTH - 1).join('').trimEnd() + '…';
}

/** What a session is called: its label when it has one, else its title. */
export function displayName(session: { label?: string; title: string; id: string }): string {
  return session.label || session.title.trim() || `Untitled session ${session.id}`;
}
