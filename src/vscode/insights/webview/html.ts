/**
 * HTML built as strings with every interpolated value escaped: session titles, folders, tool
 * arguments and commands come from models and are hostile. `html\`…\`` escapes each `${value}`
 * unless it is itself the result of `html` (or of `raw`, for our own constant markup).
 * No DOM here: the renderers are tested in Node.
 */

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

type Part = Html | string | number | boolean | null | undefined | readonly Part[];

function render(value: Part): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map((v: Part) => render(v)).join('');
  if (value === null || value === undefined || value === false) return '';
  return esc(value);
}

export function html(strings: TemplateStringsArray, ...values: Part[]): Html {
  let out = strings[0]!;
  values.forEach((v, i) => (out += render(v) + strings[i + 1]!));
  return new Html(out);
}

/** Our own constant markup only. */
export function raw(text: string): Html {
  return new Html(text);
}
