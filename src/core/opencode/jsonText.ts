/**
 * JSON.parse that survives the control characters some tool outputs leak into OpenCode's
 * bodies (raw ESC, NUL, unescaped newlines inside strings). Cleaning is lossless inside
 * strings (the character is escaped) and drops stray ones between tokens.
 */
import { describeError } from '../util/describe';
export type JsonParseResult =
  | { ok: true; value: unknown; cleaned: number }
  | { ok: false; error: string };

export function parseJsonText(text: string): JsonParseResult {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  try {
    return { ok: true, value: JSON.parse(body), cleaned: 0 };
  } catch (first) {
    const { text: fixed, cleaned } = cleanControlCharacters(body);
    if (cleaned === 0) return { ok: false, error: describeError(first) };
    try {
      return { ok: true, value: JSON.parse(fixed), cleaned };
    } catch (second) {
      return { ok: false, error: describeError(second) };
    }
  }
}

/** Escapes control characters inside JSON strings and drops those outside them. */
export function cleanControlCharacters(text: string): { text: string; cleaned: number } {
  let out = '';
  let cleaned = 0;
  let inString = false;
  let escaped = false;
  let runStart = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (escaped) {
        escaped = false;
        // An escape followed by a raw control character is itself invalid: drop the pair's tail.
        if (code < 0x20) {
          out += text.slice(runStart, i) + escapeControl(code).slice(1);
          runStart = i + 1;
          cleaned++;
        }
        continue;
      }
      if (code === 0x5c) escaped = true;
      else if (code === 0x22) inString = false;
      else if (code < 0x20) {
        out += text.slice(runStart, i) + escapeControl(code);
        runStart = i + 1;
        cleaned++;
      }
      continue;
    }
    if (code === 0x22) inString = true;
    else if (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) {
      out += text.slice(runStart, i);
      runStart = i + 1;
      cleaned++;
    }
  }
  return { text: out + text.slice(runStart), cleaned };
}

function escapeControl(code: number): string {
  switch (code) {
    case 0x08: return '\\b';
    case 0x09: return '\\t';
    case 0x0a: return '\\n';
    case 0x0c: return '\\f';
    case 0x0d: return '\\r';
    default: return '\\u' + code.toString(16).padStart(4, '0');
  }
}
