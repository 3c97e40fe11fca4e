/**
 * The sign-in formats a usage token is read from: Claude Code's `.credentials.json` (also the
 * Keychain item's content), and OpenCode's `anthropic` OAuth entry (auth.json, the DB's
 * `credential` table). Pure: text or values in, a token or why not out.
 */
import * as z from 'zod';

export type SourceResult =
  | { kind: 'none' }
  | { kind: 'unusable'; reason: 'token_not_found' | 'missing_scope'; detail: string }
  | { kind: 'token'; token: string; expiresAt?: number };

const Expiry = z.union([z.number(), z.string()]).nullable().optional();

const ClaudeFile = z.looseObject({
  claudeAiOauth: z
    .looseObject({
      accessToken: z.unknown().optional(),
      expiresAt: Expiry,
      scopes: z.array(z.unknown()).nullable().optional(),
    })
    .nullable()
    .optional(),
});

const AuthFile = z.looseObject({ anthropic: z.unknown().optional() });

const OauthEntry = z.looseObject({
  type: z.string().optional(),
  access: z.unknown().optional(),
  expires: Expiry,
});

/** Claude Code's credentials JSON (the file, or the Keychain item's content). */
export function fromClaudeJson(text: string, where: string): SourceResult {
  const parsed = parseJson(ClaudeFile, text, where);
  if (!parsed.ok) return parsed.unusable;
  const oauth = parsed.data.claudeAiOauth;
  if (!oauth) return { kind: 'none' }; // e.g. only MCP logins: no Claude.ai sign-in here
  const token = oauth.accessToken;
  if (typeof token !== 'string' || token.trim() === '') return { kind: 'unusable', reason: 'token_not_found', detail: `${where} has no access token` };
  // Old files have no scopes: allowed. Inference-only tokens (`claude setup-token`) would get 403.
  if (Array.isArray(oauth.scopes) && !oauth.scopes.includes('user:profile')) {
    return { kind: 'unusable', reason: 'missing_scope', detail: `the token in ${where} lacks the user:profile scope; sign in again with \`claude\`` };
  }
  const expiresAt = normalizeEpochMs(oauth.expiresAt);
  return { kind: 'token', token: token.trim(), ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

/** OpenCode 1.x's auth.json: its `anthropic` entry. */
export function fromOpencodeAuthJson(text: string, file: string): SourceResult {
  const parsed = parseJson(AuthFile, text, file);
  if (!parsed.ok) return parsed.unusable;
  return fromOauthEntry(parsed.data.anthropic, `the anthropic entry of ${file}`);
}

/** An OpenCode OAuth entry (`{type: 'oauth', access, expires}`); API keys count as no sign-in. */
export function fromOauthEntry(value: unknown, where: string): SourceResult {
  if (value === undefined || value === null) return { kind: 'none' };
  const parsed = OauthEntry.safeParse(value);
  if (!parsed.success) return { kind: 'unusable', reason: 'token_not_found', detail: `${where} has an unexpected shape` };
  // API keys cannot read the subscription usage: as if there were no sign-in.
  if (parsed.data.type !== 'oauth') return { kind: 'none' };
  const token = parsed.data.access;
  if (typeof token !== 'string' || token.trim() === '') return { kind: 'unusable', reason: 'token_not_found', detail: `${where} has no access token` };
  const expiresAt = normalizeEpochMs(parsed.data.expires);
  return { kind: 'token', token: token.trim(), ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

/** ms since epoch from ms, seconds or an ISO string; 0 and garbage mean "unknown". */
export function normalizeEpochMs(value: unknown): number | undefined {
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    if (!Number.isFinite(n)) {
      const ms = Date.parse(value);
      return Number.isFinite(ms) ? ms : undefined;
    }
    value = n;
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) return undefined;
  return value < 1e12 ? value * 1000 : value;
}

/** `text` as JSON of the schema's shape, or the result that says why it is not. */
function parseJson<T>(schema: z.ZodType<T>, text: string, where: string): { ok: true; data: T } | { ok: false; unusable: SourceResult } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, unusable: { kind: 'unusable', reason: 'token_not_found', detail: `${where} is not valid JSON` } };
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, unusable: { kind: 'unusable', reason: 'token_not_found', detail: `${where} has an unexpected shape` } };
  return { ok: true, data: parsed.data };
}
