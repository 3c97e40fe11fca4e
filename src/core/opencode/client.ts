/**
 * A typed client of one OpenCode server (V1 routes, as in 1.18.33). Every method resolves with
 * validated data or rejects with an OpencodeError naming the endpoint and the instance.
 */
import type * as z from 'zod';
import type { Logger } from '../log';
import { nullLogger } from '../log';
import { OpencodeError } from './errors';
import { EventStream } from './eventStream';
import type { EventStreamOptions } from './eventStream';
import { summarizeIssues } from './events';
import { HttpTransport } from './http';
import type { HttpOptions, RequestOptions, ServerEndpoint } from './http';
import {
  healthSchema,
  messageSchema,
  partSchema,
  pathSchema,
  permissionRequestSchema,
  projectSchema,
  questionRequestSchema,
  sessionSchema,
  sessionStatusSchema,
  todoSchema,
} from './schemas';
import type {
  PermissionReply,
  WireHealth,
  WireMessage,
  WirePart,
  WirePath,
  WirePermissionRequest,
  WireProject,
  WireQuestionRequest,
  WireSession,
  WireStatusMap,
  WireTodo,
} from './schemas';

/** What a server offers, found by probing (not by trusting its version string). */
export interface Capabilities {
  version: string;
  /** The V1 routes this client speaks (`/session`, `/event`, …). */
  v1: boolean;
  /** OpenCode 2.x style `/api/*` routes. Detected and reported; not used yet. */
  v2: boolean;
  /** `GET /permission` lists pending permission requests (older servers lack it). */
  permissions: boolean;
  /** `GET /question` lists pending questions. */
  questions: boolean;
}

export interface PromptInput {
  text: string;
  agent?: string;
  model?: { providerID: string; modelID: string };
}

export type ClientOptions = HttpOptions;

type CallOptions = Pick<RequestOptions, 'signal' | 'timeoutMs'>;

export class OpencodeClient {
  readonly http: HttpTransport;
  private readonly logger: Logger;

  constructor(endpoint: ServerEndpoint, options: ClientOptions = {}) {
    this.logger = options.logger ?? nullLogger;
    this.http = new HttpTransport(endpoint, { ...options, logger: this.logger });
  }

  /** Base URL without credentials. */
  get instance(): string {
    return this.http.instance;
  }

  setPassword(password: string | undefined): void {
    this.http.setCredentials(password);
  }

  // ── Reads ────────────────────────────────────────────────────────────────

  health(o?: CallOptions): Promise<WireHealth> {
    return this.getOne('/global/health', healthSchema, o);
  }

  path(o?: CallOptions): Promise<WirePath> {
    return this.getOne('/path', pathSchema, o);
  }

  currentProject(o?: CallOptions): Promise<WireProject> {
    return this.getOne('/project/current', projectSchema, o);
  }

  /** Every session of the server's project in the shared DB (also those other processes own). */
  sessions(o?: CallOptions & { roots?: boolean }): Promise<WireSession[]> {
    return this.getList('/session', sessionSchema, o, o?.roots ? { roots: true } : undefined);
  }

  session(sessionID: string, o?: CallOptions): Promise<WireSession> {
    return this.getOne(`/session/${enc(sessionID)}`, sessionSchema, o);
  }

  children(sessionID: string, o?: CallOptions): Promise<WireSession[]> {
    return this.getList(`/session/${enc(sessionID)}/children`, sessionSchema, o);
  }

  /** Busy/retry status of the sessions this process runs; idle ones are absent. */
  async sessionStatus(o?: CallOptions): Promise<WireStatusMap> {
    const endpoint = 'GET /session/status';
    const raw = await this.http.json('GET', '/session/status', o);
    if (!isRecord(raw)) throw new OpencodeError('invalid', this.instance, endpoint, `expected an object, got ${describeType(raw)}`);
    // Entry by entry, like lists: one odd status must not blank every other session's.
    const out: WireStatusMap = {};
    let dropped = 0;
    for (const [id, value] of Object.entries(raw)) {
      const result = sessionStatusSchema.safeParse(value);
      if (result.success) out[id] = result.data;
      else dropped++;
    }
    if (dropped > 0) this.logger.warn(`${endpoint} on ${this.instance}: ignored ${dropped} malformed status entr${dropped === 1 ? 'y' : 'ies'}`);
    return out;
  }

  todos(sessionID: string, o?: CallOptions): Promise<WireTodo[]> {
    return this.getList(`/session/${enc(sessionID)}/todo`, todoSchema, o);
  }

  async messages(sessionID: string, o?: CallOptions & { limit?: number }): Promise<WireMessage[]> {
    const path = `/session/${enc(sessionID)}/message`;
    const raw = await this.http.json('GET', path, { ...o, query: { limit: o?.limit } });
    const messages = this.list(raw, messageSchema, `GET ${path}`);
    return messages.map((message) => ({
      info: message.info,
      parts: this.items(message.parts, partSchema, `GET ${path}`) as WirePart[],
    }));
  }

  permissions(o?: CallOptions): Promise<WirePermissionRequest[]> {
    return this.getList('/permission', permissionRequestSchema, o);
  }

  questions(o?: CallOptions): Promise<WireQuestionRequest[]> {
    return this.getList('/question', questionRequestSchema, o);
  }

  /**
   * Probes the route families in parallel; a route that fails is reported absent. OpenCode 2.x
   * answers `/api/info` where 1.x answers `/global/health`, so either one identifies a server.
   */
  async capabilities(o?: CallOptions): Promise<Capabilities> {
    const [health, v2, status, permissions, questions] = await Promise.all([
      this.health(o).catch((error: unknown) => error as OpencodeError),
      this.v2Info(o),
      this.probe('/session/status', o),
      this.probe('/permission', o),
      this.probe('/question', o),
    ]);
    if (health instanceof OpencodeError && (health.kind === 'auth_required' || !v2)) throw health;
    return {
      version: health instanceof OpencodeError ? v2?.version ?? 'unknown' : health.version,
      v1: status !== undefined,
      v2: v2 !== undefined,
      permissions: Array.isArray(permissions),
      questions: Array.isArray(questions),
    };
  }

  /** OpenCode 2.x routes (`/api/*`): their version when offered, else undefined. */
  async v2Info(o?: CallOptions): Promise<{ version?: string } | undefined> {
    const [info, active] = await Promise.all([this.probe('/api/info', o), this.probe('/api/session/active', o)]);
    if (info === undefined && active === undefined) return undefined;
    return isRecord(info) && typeof info.version === 'string' ? { version: info.version } : {};
  }

  /** The body of a route, or undefined when the server does not offer it (a wrong password still throws). */
  private async probe(path: string, o?: CallOptions): Promise<unknown> {
    try {
      return (await this.http.json('GET', path, o)) ?? null;
    } catch (error) {
      if (error instanceof OpencodeError && error.kind === 'auth_required') throw error;
      return undefined;
    }
  }

  // ── Actions ──────────────────────────────────────────────────────────────

  /** Starts a prompt and returns at once (204); progress arrives as events. */
  async promptAsync(sessionID: string, input: PromptInput, o?: CallOptions): Promise<void> {
    await this.http.json('POST', `/session/${enc(sessionID)}/prompt_async`, {
      ...o,
      body: {
        parts: [{ type: 'text', text: input.text }],
        ...(input.agent ? { agent: input.agent } : {}),
        ...(input.model ? { model: input.model } : {}),
      },
    });
  }

  async createSession(input: { title?: string; parentID?: string } = {}, o?: CallOptions): Promise<WireSession> {
    const raw = await this.http.json('POST', '/session', { ...o, body: input });
    return this.parse(raw, sessionSchema, 'POST /session');
  }

  async abort(sessionID: string, o?: CallOptions): Promise<boolean> {
    return (await this.http.json('POST', `/session/${enc(sessionID)}/abort`, o)) === true;
  }

  async replyPermission(requestID: string, reply: PermissionReply, message?: string, o?: CallOptions): Promise<void> {
    await this.http.json('POST', `/permission/${enc(requestID)}/reply`, {
      ...o,
      body: message === undefined ? { reply } : { reply, message },
    });
  }

  /** One array of selected labels (or free text) per question of the request. */
  async replyQuestion(requestID: string, answers: string[][], o?: CallOptions): Promise<void> {
    await this.http.json('POST', `/question/${enc(requestID)}/reply`, { ...o, body: { answers } });
  }

  async rejectQuestion(requestID: string, o?: CallOptions): Promise<void> {
    await this.http.json('POST', `/question/${enc(requestID)}/reject`, o);
  }

  // ── Events ───────────────────────────────────────────────────────────────

  /** A started, self-reconnecting event stream on this server's pool. */
  events(options: EventStreamOptions): EventStream {
    return new EventStream(this.http, { logger: this.logger, ...options }).start();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  // ── Validation at the edge ───────────────────────────────────────────────

  private async getOne<S extends z.ZodType>(path: string, schema: S, o?: CallOptions): Promise<z.infer<S>> {
    return this.parse(await this.http.json('GET', path, o), schema, `GET ${path}`);
  }

  private async getList<S extends z.ZodType>(path: string, schema: S, o?: CallOptions, query?: RequestOptions['query']): Promise<z.infer<S>[]> {
    const raw = await this.http.json('GET', path, { ...o, query });
    return this.list(raw, schema, `GET ${path}`);
  }

  private parse<S extends z.ZodType>(raw: unknown, schema: S, endpoint: string): z.infer<S> {
    const result = schema.safeParse(raw);
    if (!result.success) {
      throw new OpencodeError('invalid', this.instance, endpoint, `unexpected body: ${summarizeIssues(result.error)}`);
    }
    return result.data;
  }

  private list<S extends z.ZodType>(raw: unknown, schema: S, endpoint: string): z.infer<S>[] {
    if (!Array.isArray(raw)) {
      throw new OpencodeError('invalid', this.instance, endpoint, `expected a list, got ${describeType(raw)}`);
    }
    return this.items(raw, schema, endpoint);
  }

  /** Keeps the valid items of a list; one odd item is logged, not fatal for the rest. */
  private items<S extends z.ZodType>(raw: unknown[], schema: S, endpoint: string): z.infer<S>[] {
    const out: z.infer<S>[] = [];
    let dropped = 0;
    let firstIssue = '';
    for (const item of raw) {
      const result = schema.safeParse(item);
      if (result.success) out.push(result.data);
      else {
        dropped++;
        firstIssue ||= summarizeIssues(result.error);
      }
    }
    if (dropped > 0) {
      this.logger.warn(`${endpoint} on ${this.instance}: ignored ${dropped} malformed item(s): ${firstIssue}`);
    }
    return out;
  }
}

function enc(segment: string): string {
  return encodeURIComponent(segment);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : typeof value;
}
