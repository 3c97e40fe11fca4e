/**
 * Is there an OpenCode server behind this URL? One `GET /global/health` with a short deadline.
 * A LISTEN port of an OpenCode process is not enough: it may be an OAuth callback or still in the
 * first ~0.5 s where OpenCode accepts connections but never answers. So `no_answer` is always
 * worth retrying; only a real, different answer is `not_opencode`.
 */
import { request } from '../util/undici';
import type { Dispatcher } from 'undici';

export type ProbeResult =
  | { ok: true; version: string; healthy: boolean }
  | {
      ok: false;
      /**
       * `auth_required`: 401 with `WWW-Authenticate: Basic` — OpenCode with a password (none given, or wrong);
       * `not_opencode`: an answer, but not OpenCode's; `no_answer`: refused, timed out, reset, or 5xx.
       */
      reason: 'auth_required' | 'not_opencode' | 'no_answer';
      detail: string;
    };

export interface ProbeOptions {
  /** Deadline of the whole probe (default 1000 ms). */
  timeoutMs?: number;
  /** Basic-auth password (user `opencode`). */
  password?: string;
  username?: string;
  signal?: AbortSignal;
  /** undici dispatcher (tests); default: undici's global one. */
  dispatcher?: Dispatcher;
}

export type ProbeFn = (url: string, options?: ProbeOptions) => Promise<ProbeResult>;

export const DEFAULT_PROBE_TIMEOUT_MS = 400;
const MAX_BODY = 64 * 1024;

export async function probeOpencode(url: string, options: ProbeOptions = {}): Promise<ProbeResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return { ok: false, reason: 'no_answer', detail: 'not a valid URL' };
  }
  const username = options.username ?? (target.username ? decodeURIComponent(target.username) : 'opencode');
  const password = options.password ?? (target.password ? decodeURIComponent(target.password) : undefined);
  target.username = '';
  target.password = '';
  target.pathname = `${target.pathname.replace(/\/+$/, '')}/global/health`;
  target.search = '';

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs);
  const onAbort = (): void => controller.abort(options.signal?.reason);
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });
  const headers: Record<string, string> = { accept: 'application/json' };
  if (password !== undefined && password !== '') {
    headers.authorization = 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  }
  try {
    const res = await request(target, {
      method: 'GET',
      headers,
      signal: controller.signal,
      // One-shot: no kept-alive socket (and no open handle) after the probe.
      reset: true,
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
    });
    const text = await readCapped(res.body);
    if (res.statusCode === 401) {
      const challenge = [res.headers['www-authenticate']].flat().join(',');
      return /^\s*basic\b/i.test(challenge)
        ? { ok: false, reason: 'auth_required', detail: password ? 'password rejected (401)' : 'password required (401)' }
        : { ok: false, reason: 'not_opencode', detail: 'HTTP 401 without a Basic challenge' };
    }
    if (res.statusCode >= 500) return { ok: false, reason: 'no_answer', detail: `HTTP ${res.statusCode}` };
    if (res.statusCode !== 200) return { ok: false, reason: 'not_opencode', detail: `HTTP ${res.statusCode}` };
    if (text === undefined) return { ok: false, reason: 'not_opencode', detail: 'body too large for a health answer' };
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return { ok: false, reason: 'not_opencode', detail: 'body is not JSON' };
    }
    const health = body as { healthy?: unknown; version?: unknown } | null;
    if (health && typeof health === 'object' && typeof health.healthy === 'boolean' && typeof health.version === 'string') {
      return { ok: true, version: health.version, healthy: health.healthy };
    }
    return { ok: false, reason: 'not_opencode', detail: 'not a {healthy, version} answer' };
  } catch (error) {
    const detail = controller.signal.aborted && !options.signal?.aborted ? `no answer within ${timeoutMs} ms` : probeErrorText(error);
    return { ok: false, reason: 'no_answer', detail };
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
  }
}

/** The body as text, or undefined past MAX_BODY (the socket is then destroyed). */
async function readCapped(body: Dispatcher.ResponseData['body']): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY) {
      body.destroy();
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function probeErrorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = (error as { cause?: unknown }).cause;
    const causeCode = cause instanceof Error ? (cause as NodeJS.ErrnoException).code : undefined;
    return [code ?? causeCode, error.message].filter(Boolean).join(': ');
  }
  return String(error);
}
