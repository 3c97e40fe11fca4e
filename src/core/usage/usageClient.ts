/**
 * GET /api/oauth/usage on Anthropic's API (undocumented; docs: usage-apis.md §1). One request,
 * a 10 s deadline for headers and body, a body size cap, and failures only as UsageApiError —
 * whose messages are scrubbed of the token even if the server echoes it.
 */
import { Agent, proxyAgents, request } from '../util/undici';
import { readCapped } from '../util/readBody';
import type { Dispatcher } from 'undici';
import * as z from 'zod';
import type { UsageWindow } from '../model/model';
import type { UsageCredential } from './usageCredential';
import { redactSecrets, safeExcerpt } from './redact';
import { describeError } from '../util/describe';

export const DEFAULT_USAGE_BASE_URL = 'https://api.anthropic.com';
export const USAGE_PATH = '/api/oauth/usage';
export const ANTHROPIC_BETA = 'oauth-2025-04-20';
/** Overrides the base URL setting (meant for tests: a local fake server). */
export const BASE_URL_ENV = 'OPENCODE_MONITOR_ANTHROPIC_BASE_URL';
export const DEFAULT_USAGE_TIMEOUT_MS = 10_000;
const MAX_BODY_BYTES = 256 * 1024;

export type UsageApiErrorKind =
  | 'unauthorized' // 401: expired or revoked token
  | 'forbidden' // 403: token without the user:profile scope
  | 'rate_limited' // 429
  | 'http' // any other non-2xx
  | 'network' // refused, reset, DNS, TLS
  | 'timeout' // no complete answer within the deadline
  | 'malformed' // not JSON, or no usage windows in it
  | 'aborted' // the caller gave up
  | 'config'; // unusable base URL

export class UsageApiError extends Error {
  override readonly name = 'UsageApiError';
  constructor(
    readonly kind: UsageApiErrorKind,
    message: string,
    readonly status?: number,
    /** From Retry-After on a 429, in ms. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

export interface UsageData {
  fiveHour?: UsageWindow;
  sevenDay?: UsageWindow;
  modelWeeks?: Record<string, UsageWindow>;
}

/** What the poller needs from a client (tests fake it). */
export interface UsageFetcher {
  fetchUsage(credential: UsageCredential, signal?: AbortSignal): Promise<UsageData>;
}

export interface UsageClientOptions {
  /** Default https://api.anthropic.com; https, or http to a loopback address only. */
  baseUrl?: string;
  userAgent: string;
  timeoutMs?: number;
  dispatcher?: Dispatcher;
  /** A proxy for the usage API (VS Code's `http.proxy`); else HTTPS_PROXY / HTTP_PROXY from `env`, NO_PROXY honoured either way. */
  proxy?: string;
  env?: NodeJS.ProcessEnv;
}

/** The proxy the usage API goes through, if any: the setting first, then the usual variables. */
export function usageProxy(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return setting?.trim() || env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy || undefined;
}

/**
 * The usage API's dispatcher. Only this call goes through a proxy (corporate networks): local
 * OpenCode servers are always reached directly. NO_PROXY / no_proxy bypass it, as with curl.
 */
function usageDispatcher(options: UsageClientOptions, timeoutMs: number): Dispatcher {
  const agentOptions = { connect: { timeout: timeoutMs }, headersTimeout: 0, bodyTimeout: 0, keepAliveTimeout: 4_000, connections: 2 };
  const env = options.env ?? process.env;
  const proxy = usageProxy(options.proxy, env);
  if (!proxy) return new Agent(agentOptions);
  const noProxy = env.NO_PROXY ?? env.no_proxy ?? '';
  return new (proxyAgents().EnvHttpProxyAgent)({ ...agentOptions, httpProxy: proxy, httpsProxy: proxy, noProxy });
}

export function defaultUserAgent(version: string): string {
  return `opencode-monitor/${version}`;
}

/** `value` when it is a usable header value (printable ASCII; a setting could hold a newline), else `fallback`. */
export function userAgentOr(value: string | undefined, fallback: string): string {
  const ua = value?.trim() ?? '';
  return /^[\x20-\x7e]{1,200}$/.test(ua) ? ua : fallback;
}

/** The environment variable wins over the setting (tests), the setting over the default. */
export function resolveUsageBaseUrl(setting?: string, env: NodeJS.ProcessEnv = process.env): string {
  return env[BASE_URL_ENV]?.trim() || setting?.trim() || DEFAULT_USAGE_BASE_URL;
}

/**
 * The base URL without a trailing slash. The token goes to it, so: https, or plain http only to
 * this machine, and no credentials in the URL.
 */
export function checkUsageBaseUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageApiError('config', 'the usage base URL is not a valid URL');
  }
  if (url.username || url.password) throw new UsageApiError('config', 'the usage base URL must not contain a user or password');
  if (url.search || url.hash) throw new UsageApiError('config', 'the usage base URL must not have a query or fragment');
  const loopback = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i.test(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new UsageApiError('config', `the usage base URL must use https (plain http only to localhost): ${url.origin}`);
  }
  return url.origin + url.pathname.replace(/\/+$/, '');
}

export class UsageClient implements UsageFetcher {
  readonly url: string | undefined;
  private readonly configError: UsageApiError | undefined;
  private readonly userAgent: string;
  private readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;

  constructor(options: UsageClientOptions) {
    try {
      this.url = checkUsageBaseUrl(options.baseUrl ?? DEFAULT_USAGE_BASE_URL) + USAGE_PATH;
    } catch (error) {
      // Reported on every fetch, so the model shows it instead of the feature silently failing.
      this.configError = error instanceof UsageApiError ? error : new UsageApiError('config', String(error));
    }
    this.userAgent = userAgentOr(options.userAgent, 'opencode-monitor');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_USAGE_TIMEOUT_MS;
    this.ownsDispatcher = !options.dispatcher;
    this.dispatcher = options.dispatcher ?? usageDispatcher(options, this.timeoutMs);
  }

  async fetchUsage(credential: UsageCredential, signal?: AbortSignal): Promise<UsageData> {
    if (this.configError || !this.url) throw this.configError ?? new UsageApiError('config', 'no usage URL');
    const token = credential.bearer();
    const secrets = [token];
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, this.timeoutMs);
    const onAbort = () => controller.abort(signal?.reason);
    if (signal?.aborted) onAbort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const response = await request(this.url, {
        method: 'GET',
        dispatcher: this.dispatcher,
        signal: controller.signal,
        headers: {
          authorization: `Bearer ${token}`,
          'anthropic-beta': ANTHROPIC_BETA,
          'user-agent': this.userAgent,
          accept: 'application/json',
          'content-type': 'application/json',
        },
      });
      const text = await readCapped(response, MAX_BODY_BYTES, () => new UsageApiError('malformed', `usage API body larger than ${MAX_BODY_BYTES} bytes`, response.statusCode));
      const status = response.statusCode;
      if (status >= 200 && status < 300) {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new UsageApiError('malformed', `usage API answered ${status} with a body that is not JSON: ${safeExcerpt(text, secrets, 80)}`, status);
        }
        return parseUsageResponse(body);
      }
      throw statusError(status, text, response.headers['retry-after'], secrets);
    } catch (error) {
      if (error instanceof UsageApiError) throw error;
      if (timedOut) throw new UsageApiError('timeout', `usage API: no answer within ${this.timeoutMs} ms`);
      if (signal?.aborted) throw new UsageApiError('aborted', 'usage API: request aborted');
      throw new UsageApiError('network', `usage API unreachable: ${redactSecrets(describeError(error), secrets)}`);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.destroy().catch(() => undefined);
  }
}

function statusError(status: number, text: string, retryAfter: string | string[] | undefined, secrets: string[]): UsageApiError {
  const detail = apiMessage(text, secrets);
  const tail = detail ? `: ${detail}` : '';
  switch (status) {
    case 401:
      return new UsageApiError('unauthorized', `usage API rejected the token (401; expired or revoked)${tail}`, status);
    case 403:
      return new UsageApiError('forbidden', `usage API refused the token (403; it needs the user:profile scope — sign in again with \`claude\`)${tail}`, status);
    case 429: {
      const retryAfterMs = parseRetryAfter(retryAfter);
      const wait = retryAfterMs !== undefined ? `; retry after ${Math.round(retryAfterMs / 1000)} s` : '';
      return new UsageApiError('rate_limited', `usage API rate limit (429${wait})${tail}`, status, retryAfterMs);
    }
    default:
      return new UsageApiError('http', `usage API answered HTTP ${status}${tail}`, status);
  }
}

/** The `error.message` of Anthropic's envelope, else the start of the body; scrubbed. */
function apiMessage(text: string, secrets: string[]): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } } | null;
    const message = body?.error?.message;
    if (typeof message === 'string') return safeExcerpt(message, secrets);
  } catch {
    // not JSON: the raw excerpt below
  }
  return safeExcerpt(text, secrets, 120);
}

/** Retry-After as seconds or an HTTP date, in ms (≥ 0); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!text) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

// ── response shapes ─────────────────────────────────────────────────────────

const Percent = z.union([z.number(), z.string()]).nullable().optional();
const ResetsAt = z.union([z.string(), z.number()]).nullable().optional();

/** Classic flat window: `{ utilization, resets_at }`. */
const FlatWindow = z.looseObject({ utilization: Percent, resets_at: ResetsAt });

/** 2026 generic limit: `{ kind, group, percent, resets_at, scope: { model: { id, display_name } }, is_active }`. */
const Limit = z.looseObject({
  kind: z.string().nullable().optional(),
  group: z.string().nullable().optional(),
  percent: Percent,
  utilization: Percent,
  resets_at: ResetsAt,
  is_active: z.boolean().nullable().optional(),
  scope: z
    .looseObject({
      model: z.looseObject({ id: z.string().nullable().optional(), display_name: z.string().nullable().optional() }).nullable().optional(),
    })
    .nullable()
    .optional(),
});

const UsageBody = z.looseObject({
  five_hour: z.unknown().optional(),
  seven_day: z.unknown().optional(),
  limits: z.array(z.unknown()).nullable().optional(),
});

/** Weekly keys that are not per-model windows. */
const NOT_MODEL_WEEKS = new Set(['oauth_apps']);

/**
 * Maps both response shapes onto UsageData. The flat `five_hour`/`seven_day` win when present;
 * `limits[]` fills what they lack and carries the per-model weeks of newer accounts. A window the
 * API reports as `null` has not started: 0 % without a reset time.
 */
export function parseUsageResponse(body: unknown): UsageData {
  const parsed = UsageBody.safeParse(body);
  if (!parsed.success) throw new UsageApiError('malformed', 'usage API answered with JSON that is not an object');
  const raw = parsed.data;
  const out: UsageData = {};
  const hasFlat = 'five_hour' in raw || 'seven_day' in raw;
  const hasLimits = Array.isArray(raw.limits);
  if (!hasFlat && !hasLimits) throw new UsageApiError('malformed', 'usage API answer has no usage windows (five_hour, seven_day or limits)');

  const fiveHour = flatWindow(raw, 'five_hour');
  const sevenDay = flatWindow(raw, 'seven_day');
  if (fiveHour) out.fiveHour = fiveHour;
  if (sevenDay) out.sevenDay = sevenDay;
  const weeks: Record<string, UsageWindow> = {};
  for (const [key, value] of Object.entries(raw)) {
    const m = /^seven_day_(.+)$/.exec(key);
    if (!m?.[1] || NOT_MODEL_WEEKS.has(m[1]) || value === null || value === undefined) continue;
    const w = parseFlat(value);
    if (w) weeks[m[1]] = w;
  }

  for (const item of raw.limits ?? []) {
    const limit = Limit.safeParse(item);
    if (!limit.success || limit.data.is_active === false) continue;
    const percent = limit.data.percent ?? limit.data.utilization;
    const w = windowFrom(percent, limit.data.resets_at);
    if (!w) continue;
    const kind = limit.data.kind ?? '';
    if (kind === 'session' || (kind === '' && limit.data.group === 'session')) {
      out.fiveHour ??= w;
    } else if (kind === 'weekly_all') {
      out.sevenDay ??= w;
    } else if (kind === 'weekly_scoped') {
      const model = limit.data.scope?.model;
      const name = slug(model?.display_name ?? model?.id ?? '');
      if (name && !(name in weeks)) weeks[name] = w;
    }
  }
  if (Object.keys(weeks).length > 0) out.modelWeeks = weeks;
  if (!out.fiveHour && !out.sevenDay && !out.modelWeeks) {
    throw new UsageApiError('malformed', 'usage API answer has no readable usage window');
  }
  return out;
}

function flatWindow(raw: Record<string, unknown>, key: 'five_hour' | 'seven_day'): UsageWindow | undefined {
  if (!(key in raw)) return undefined;
  const value = raw[key];
  if (value === null) return { percent: 0 };
  return parseFlat(value);
}

function parseFlat(value: unknown): UsageWindow | undefined {
  const parsed = FlatWindow.safeParse(value);
  return parsed.success ? windowFrom(parsed.data.utilization, parsed.data.resets_at) : undefined;
}

function windowFrom(percentValue: unknown, resetsValue: unknown): UsageWindow | undefined {
  let percent: number;
  if (percentValue === null || percentValue === undefined) percent = 0;
  else {
    const n = typeof percentValue === 'string' ? Number(percentValue.trim() || NaN) : Number(percentValue);
    if (!Number.isFinite(n)) return undefined;
    percent = Math.min(100, Math.max(0, n));
  }
  const resetsAt = normalizeResetsAt(resetsValue);
  return resetsAt ? { percent, resetsAt } : { percent };
}

/**
 * ISO-8601 as returned when it has a zone (the legacy file keeps UTC strings verbatim); a
 * zone-less ISO string is UTC; epoch seconds or ms become ISO. Anything else: unknown.
 */
export function normalizeResetsAt(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    return new Date(value < 1e12 ? value * 1000 : value).toISOString();
  }
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return normalizeResetsAt(Number(text));
  if (/(Z|[+-]\d{2}:?\d{2})$/i.test(text)) return Number.isFinite(Date.parse(text)) ? text : undefined;
  const utc = Date.parse(text + 'Z');
  return Number.isFinite(utc) ? new Date(utc).toISOString() : undefined;
}

function slug(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9.]+/g, '-')
    .replace(/^-+|-+$/g, '');
}


