/**
 * Secret scrubbing for every text the usage feature produces (log lines, error messages, the
 * model). Defence in depth: known tokens are replaced by value, and anything shaped like an
 * Anthropic key or a bearer header is masked even when we never saw its value.
 */

const MASK = '[redacted]';
// sk-ant-oat01-…, sk-ant-ort01-…, sk-ant-api03-…
const ANTHROPIC_KEY = /sk-ant-[A-Za-z0-9_-]+/g;
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]{8,}/gi;

export function redactSecrets(text: string, secrets: ReadonlyArray<string | undefined> = []): string {
  let out = text;
  for (const secret of secrets) {
    // Short values would mask innocent text and are no tokens anyway.
    if (secret && secret.length >= 8) out = out.split(secret).join(MASK);
  }
  return out.replace(ANTHROPIC_KEY, `sk-ant-${MASK}`).replace(BEARER, `Bearer ${MASK}`);
}

/** One line, bounded, scrubbed: what may appear in an error message. */
export function safeExcerpt(text: string, secrets: ReadonlyArray<string | undefined> = [], max = 200): string {
  const flat = redactSecrets(text, secrets).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
