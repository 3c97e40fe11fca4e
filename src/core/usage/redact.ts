/**
 * Secret scrubbing for every text the usage feature produces (log lines, error messages, the
 * model). Defence in depth: known tokens are replaced by value, and anything shaped like an
 * Anthropic key or a bearer header is masked even when we never saw its value.
 */

const MASK = '[redacted]';
// sk-ant-oat01-…, sk-ant-ort01-…, sk-ant-api03-…
const ANTHROPIC_KEY = /sk-ant-[A-Za-z0-9_-]+/g;
const ESCAPED_ANTHROPIC_KEY = /sk(?:-|\\u002d)ant(?:-|\\u002d)(?:[A-Za-z0-9_-]|\\u00[0-9a-f]{2})+/gi;
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;

export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    // Short values would mask innocent text and are no tokens anyway.
    if (!secret || secret.length < 8) continue;
    for (const form of encodedForms(secret)) out = out.split(form).join(MASK);
  }
  return out.replace(ESCAPED_ANTHROPIC_KEY, `sk-ant-${MASK}`).replace(ANTHROPIC_KEY, `sk-ant-${MASK}`).replace(BEARER, `Bearer ${MASK}`);
}

/**
 * The token as it may appear in an error body (issue 11): as is, JSON-escaped, `\u002d`-escaped
 * (any character as \uXXXX, either hex case), and base64/base64url at any of the three alignments
 * (inside a longer encoded string such as `Bearer <token>`).
 */
export function encodedForms(secret: string): string[] {
  const forms = new Set<string>([secret, JSON.stringify(secret).slice(1, -1)]);
  const hex = (c: string) => c.charCodeAt(0).toString(16).padStart(4, '0');
  forms.add(secret.replace(/[^A-Za-z0-9]/g, (c) => `\\u${hex(c)}`));
  forms.add(secret.replace(/[^A-Za-z0-9]/g, (c) => `\\u${hex(c).toUpperCase()}`));
  forms.add(secret.replace(/[\s\S]/g, (c) => `\\u${hex(c)}`));
  forms.add(secret.replace(/-/g, '\\u002d'));
  forms.add(secret.replace(/-/g, '\\u002D'));
  const bytes = Buffer.from(secret, 'utf8');
  for (let shift = 0; shift < 3; shift++) {
    const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
    for (const encoding of ['base64', 'base64url'] as const) {
      // Skip the characters touched by the unknown bytes before and after: the middle is stable.
      const text = padded.toString(encoding).replace(/=+$/, '');
      const stable = text.slice(shift === 0 ? 0 : shift + 1, text.length - 3);
      if (stable.length >= 12) forms.add(stable);
    }
  }
  return [...forms].sort((a, b) => b.length - a.length);
}

/** One line, bounded, scrubbed: what may appear in an error message. */
export function safeExcerpt(text: string, secrets: ReadonlyArray<string | undefined> = [], max = 200): string {
  const flat = redactSecrets(text, secrets).replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
