/**
 * The one place that makes text from outside (servers, sessions, the model, error messages) safe
 * to show. Everything a server or a model says is hostile: a session title may carry
 * `[run](command:…)` (a notification renders it as a link that runs the command), `$(icon)`
 * syntax, newlines that forge extra lines, terminal escapes or bidi overrides that reorder text.
 */

/**
 * C0 controls except tab, DEL, C1 controls (U+0080–U+009F, `\x9b` is CSI on 8-bit terminals),
 * and the bidi embeddings/overrides/isolates (U+202A–U+202E, U+2066–U+2069).
 */
 
const CONTROLS = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
 
const CONTROLS_AND_NEWLINES = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;
 
const ESCAPE_SEQUENCE = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;

/**
 * Text for a terminal: escape sequences and control characters removed (tab kept). With
 * `keepNewlines`, line breaks stay (multi-line output of our own); otherwise they become spaces.
 */
export function terminalSafe(text: string, keepNewlines = false): string {
  const noSequences = text.replace(ESCAPE_SEQUENCE, '');
  if (keepNewlines) return noSequences.replace(/\r\n?/g, '\n').replace(CONTROLS_AND_NEWLINES, '');
  return noSequences.replace(/[\r\n]+/g, ' ').replace(CONTROLS, '');
}

/**
 * Text for a VS Code notification, quick pick, input box, status bar or tree label: one line,
 * no control characters, `$(icon)` broken up (`$ (icon)`), and links inert (`[x](command:…)` is no
 * longer a link, a `command:` URI is no longer one either).
 */
export function plainText(text: string): string {
  return terminalSafe(text)
    // `$ (` in every surface: a backslash escape would show as a stray `\` in notifications.
    .replace(/\$\(/g, '$ (')
    .replace(/\]\s*\(/g, '] (')
    .replace(/<(?=[a-z][a-z0-9+.-]*:)/gi, '‹')
    .replace(/\b(command|vscode|vscode-insiders|file)\s*:/gi, '$1 :');
}

/** Every string in a JSON-like value made terminal-safe; nesting bounded (deeper values dropped). */
export function terminalSafeDeep<T>(value: T, depth = 64): T {
  return deep(value, depth) as T;
}

function deep(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return terminalSafe(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth <= 0) return undefined;
  if (Array.isArray(value)) return value.map((v) => deep(v, depth - 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[terminalSafe(k)] = deep(v, depth - 1);
  return out;
}

/** JSON for a terminal: C1 and bidi characters written as `\uXXXX` escapes (still the same JSON). */
export function terminalSafeJson(json: string): string {
  return json.replace(/[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
