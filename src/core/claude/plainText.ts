/**
 * Text from Claude Code's files is model or user text: one line, no control characters
 * (terminal escapes, C1), no bidi overrides, bounded. Views still escape it for their medium.
 */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

export function plainText(text: string, max: number): string {
  const one = text.replace(UNSAFE, ' ').replace(/\s+/g, ' ').trim();
  return one.length <= max ? one : `${one.slice(0, Math.max(0, max - 1))}…`;
}
