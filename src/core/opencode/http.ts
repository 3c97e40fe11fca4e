/**
 * One keep-alive undici pool per OpenCode server. Every request has a deadline (OpenCode never
 * answers requests sent just after its port opens), a body size cap, and fails only with an
 * OpencodeError that names the endpoint and the instance.
 */
import { Client, Pool, errors as undiciErrors } from '../util/undici';
import type { Dispatcher } from 'undici';
import type { Logger } from '../log';
import { nullLogger } from '../log';
import { OpencodeError } from './errors';
import { parseJsonText } from './jsonText';
import { bufferedRequest } from '../util/bufferedRequest';
import type { ResponseHeaders } from '../util/bufferedRequest';
import { describeError } from '../util/describe';
import { safeExcerpt } from '../usage/redact';

export interface ServerEndpoint {
  /** Base URL, e.g. `http://127.0.0.1:4096` or `https://host/opencode`. Credentials in it are used, never shown. */
  url: string;
  /** Basic-auth password (user `opencode`), from OPENCODE_SERVER_PASSWORD on the server side. */
  password?: string;
  /** Basic-auth user; OpenCode uses `opencode`. */
  username?: string;
}

export interface HttpOptions {
  /** Deadline of one request, headers and body included. */
  timeoutMs?: number;
  /** Bodies larger than this fail with `too_large` instead of filling memory. */
  maxBodyBytes?: number;
  /** Upper bound of parallel sockets to one server. */
  connections?: number;
  logger?: Logger;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024;

export class HttpTransport {
  /** Base URL without credentials: safe to log and to show. */
  readonly instance: string;
  private readonly origin: string;
  private readonly basePath: string;
  private authorization: string | undefined;
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly logger: Logger;
  private closed = false;
  /** Event streams get a connection of their own: an aborted stream must not leave a socket in the pool. */
  private readonly streamClients = new Set<Client>();
  private readonly connectTimeoutMs: number;

  constructor(endpoint: ServerEndpoint, options: HttpOptions = {}) {
    const parsed = parseEndpointUrl(endpoint.url);
    this.origin = parsed.origin;
    this.basePath = parsed.basePath;
    this.instance = parsed.origin + parsed.basePath;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.logger = options.logger ?? nullLogger;
    this.connectTimeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.setCredentials(endpoint.password ?? parsed.password, endpoint.username ?? parsed.username);
    this.pool = new Pool(this.origin, {
      connections: options.connections ?? 8,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      // Deadlines are ours (AbortSignal); undici's own would only fire later.
      headersTimeout: 0,
      bodyTimeout: 0,
      connect: { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS },
    });
  }

  get hasPassword(): boolean {
    return this.authorization !== undefined;
  }

  setCredentials(password: string | undefined, username = 'opencode'): void {
    this.authorization =
      password === undefined || password === ''
        ? undefined
        : 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  }

  /** Sends a request and returns the parsed JSON body (`undefined` for an empty body). */
  async json(method: 'GET' | 'POST' | 'DELETE' | 'PATCH', path: string, options: RequestOptions = {}): Promise<unknown> {
    const endpoint = `${method} ${path}`;
    // A kept-alive socket the server closed meanwhile fails at once; an idempotent GET may retry once.
    const attempts = method === 'GET' ? 2 : 1;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.jsonOnce(method, path, endpoint, options);
      } catch (error) {
        if (attempt < attempts && error instanceof OpencodeError && error.kind === 'network' && isStaleSocket(error)) {
          this.logger.debug(`${endpoint} on ${this.instance}: retrying on a fresh socket`);
          continue;
        }
        throw error;
      }
    }
  }

  /**
   * Opens a long-lived GET (the event stream). The caller owns the returned body and must
   * consume or destroy it; `signal` aborts it. Only the response headers have a deadline.
   */
  async openStream(path: string, signal: AbortSignal, headersTimeoutMs = this.timeoutMs): Promise<Dispatcher.ResponseData> {
    const endpoint = `GET ${path}`;
    if (this.closed) throw new OpencodeError('aborted', this.instance, endpoint, 'client closed');
    const client = new Client(this.origin, { headersTimeout: 0, bodyTimeout: 0, connect: { timeout: this.connectTimeoutMs } });
    this.streamClients.add(client);
    const release = () => {
      this.streamClients.delete(client);
      void client.destroy().catch(() => undefined);
    };
    const deadline = new Deadline(headersTimeoutMs, signal);
    try {
      const response = await client.request({
        path: this.basePath + path,
        method: 'GET',
        headers: this.headers({ accept: 'text/event-stream' }),
        signal: deadline.signal,
      });
      if (response.statusCode !== 200) {
        await discard(response);
        throw this.statusError(endpoint, response.statusCode);
      }
      // From here on the caller's signal alone governs the body.
      deadline.stopTimer();
      response.body.once('close', release);
      return response;
    } catch (error) {
      deadline.clear();
      release();
      throw this.wrap(error, endpoint, deadline);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // destroy, not close: an open event stream would keep close() waiting forever.
    const streams = [...this.streamClients].map((c) => c.destroy().catch(() => undefined));
    this.streamClients.clear();
    await Promise.all([this.pool.destroy().catch(() => undefined), ...streams]);
  }

  private async jsonOnce(method: string, path: string, endpoint: string, options: RequestOptions): Promise<unknown> {
    if (this.closed) throw new OpencodeError('aborted', this.instance, endpoint, 'client closed');
    const deadline = new Deadline(options.timeoutMs ?? this.timeoutMs, options.signal);
    try {
      const hasBody = options.body !== undefined;
      const response = await bufferedRequest(
        this.pool,
        {
          origin: this.origin,
          path: this.basePath + path + queryString(options.query),
          method: method as Dispatcher.HttpMethod,
          headers: this.headers(hasBody ? { 'content-type': 'application/json', accept: 'application/json' } : { accept: 'application/json' }),
          body: hasBody ? JSON.stringify(options.body) : undefined,
        },
        // An error's body is only shown as an excerpt, and a web page not at all.
        { limit: (status, headers) => (isSuccess(status) && !isHtml(headers) ? this.maxBodyBytes : EXCERPT_BYTES), signal: deadline.signal },
      );
      if (!isSuccess(response.statusCode)) throw this.statusError(endpoint, response.statusCode, excerptOf(response.body));
      if (isHtml(response.headers)) {
        throw new OpencodeError('no_route', this.instance, endpoint, 'answered with a web page, not the API (no such route on this server)', response.statusCode);
      }
      if (response.truncated) throw new OpencodeError('too_large', this.instance, endpoint, `body over ${this.maxBodyBytes} bytes`);
      const text = response.body.toString('utf8');
      if (text.trim() === '') return undefined;
      const parsed = parseJsonText(text);
      if (!parsed.ok) {
        throw new OpencodeError('malformed', this.instance, endpoint, `body is not JSON (${parsed.error})`);
      }
      if (parsed.cleaned > 0) {
        this.logger.warn(`${endpoint} on ${this.instance}: cleaned ${parsed.cleaned} control character(s) from the body`);
      }
      return parsed.value;
    } catch (error) {
      throw this.wrap(error, endpoint, deadline);
    } finally {
      deadline.clear();
    }
  }

  private headers(extra: Record<string, string>): Record<string, string> {
    return this.authorization ? { ...extra, authorization: this.authorization } : extra;
  }

  private statusError(endpoint: string, status: number, excerpt = ''): OpencodeError {
    if (status === 401) {
      const detail = this.authorization ? 'password rejected (401)' : 'password required (401)';
      return new OpencodeError('auth_required', this.instance, endpoint, detail, status);
    }
    const tail = excerpt ? `: ${excerpt}` : '';
    return new OpencodeError('http', this.instance, endpoint, `HTTP ${status}${tail}`, status);
  }

  private wrap(error: unknown, endpoint: string, deadline: Deadline): OpencodeError {
    if (error instanceof OpencodeError) return error;
    if (deadline.timedOut) {
      return new OpencodeError('timeout', this.instance, endpoint, `no answer within ${deadline.ms} ms`);
    }
    if (deadline.callerAborted) return new OpencodeError('aborted', this.instance, endpoint, 'aborted');
    if (error instanceof undiciErrors.HeadersTimeoutError || error instanceof undiciErrors.BodyTimeoutError) {
      return new OpencodeError('timeout', this.instance, endpoint, describeError(error));
    }
    if (error instanceof undiciErrors.ConnectTimeoutError) {
      return new OpencodeError('timeout', this.instance, endpoint, 'connect timed out');
    }
    return new OpencodeError('network', this.instance, endpoint, describeError(error));
  }
}

/** Splits a base URL into origin, path prefix and credentials; rejects what is not http(s). */
export function parseEndpointUrl(url: string): { origin: string; basePath: string; username?: string; password?: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new OpencodeError('network', redactUrl(url), 'URL', 'not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new OpencodeError('network', redactUrl(url), 'URL', `unsupported protocol ${parsed.protocol}`);
  }
  const basePath = parsed.pathname.replace(/\/+$/, '');
  return {
    origin: parsed.origin,
    basePath,
    username: parsed.username ? safeDecode(parsed.username) : undefined,
    password: parsed.password ? safeDecode(parsed.password) : undefined,
  };
}

/** A URL as it may be shown: without user and password. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a bare % in a password is the password
  }
}

function queryString(query: RequestOptions['query']): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

/** Combines the request's own deadline with the caller's signal, and remembers which fired. */
class Deadline {
  readonly signal: AbortSignal;
  timedOut = false;
  callerAborted = false;
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private readonly onCallerAbort = () => {
    this.callerAborted = true;
    this.controller.abort(this.caller?.reason);
  };

  constructor(readonly ms: number, private readonly caller?: AbortSignal) {
    this.signal = this.controller.signal;
    if (caller?.aborted) this.onCallerAbort();
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
    if (ms > 0) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.controller.abort(new Error('timeout'));
      }, ms);
    }
  }

  /** Stops the deadline but keeps forwarding the caller's abort (for streaming bodies). */
  stopTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Stops the deadline and lets go of the caller's signal (no listener piles up on it). */
  clear(): void {
    this.stopTimer();
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
}


/** Bytes of an error answer kept for its excerpt. */
const EXCERPT_BYTES = 64 * 1024;

function isSuccess(status: number): boolean {
  return status >= 200 && status < 300;
}

function isHtml(headers: ResponseHeaders): boolean {
  return /^text\/html\b/i.test(String(headers['content-type'] ?? ''));
}

/** The start of an error body as it may appear in a message (decoding 4 KB is plenty for 200 characters). */
function excerptOf(body: Buffer): string {
  return safeExcerpt(body.toString('utf8', 0, Math.min(body.length, 4 * 1024)));
}

async function discard(response: Dispatcher.ResponseData): Promise<void> {
  try {
    await response.body.dump({ limit: 64 * 1024 });
  } catch {
    response.body.destroy();
  }
}

function isStaleSocket(error: OpencodeError): boolean {
  return /other side closed|ECONNRESET|socket hang up|UND_ERR_SOCKET|EPIPE/i.test(error.message);
}

