/**
 * The local API's JSON-lines protocol, independent of the socket: one request object per line,
 * one response object per line, in order. Documented in the README ("Local API").
 *
 *   → {"id":1,"cmd":"list"}
 *   ← {"id":1,"ok":true,"sessions":[…]}
 *   → {"id":2,"cmd":"label","session":"ses_ab","text":"review MR"}
 *   → {"id":3,"cmd":"focus","query":"review"}
 *   → {"id":4,"cmd":"stop","session":"ses_ab"}
 *   ← {"id":4,"ok":false,"error":{"code":"cannot","message":"…"}}
 */
import type { InstanceModel, MonitorSnapshot, SessionModel } from '../model/model';
import { MAX_LABEL_LENGTH } from '../model/labelText';
import { findSession, findSessionById } from '../present/sessionQuery';
import { describeError } from '../util/describe';

export const API_PROTOCOL_VERSION = 1;
/** Longest request line accepted (bytes); longer ones get an error and the connection is closed. */
export const MAX_REQUEST_LINE_BYTES = 64 * 1024;

export type ApiErrorCode = 'bad_json' | 'bad_request' | 'unknown_cmd' | 'not_found' | 'ambiguous' | 'cannot' | 'line_too_long' | 'failed';

/** A session as the API and `list --json` show it. */
export interface ApiSession {
  id: string;
  agent: string;
  /** `busy`, `idle`, `retry`, or `waiting` (it needs the user). */
  state: 'busy' | 'idle' | 'retry' | 'waiting';
  /** What it waits for: `permission`, `question`, or `heuristic` (a tool runs suspiciously long). */
  waitingFor?: string;
  /** Since when it waits for the user (ms since epoch). */
  waitingSince?: number;
  label?: string;
  title: string;
  folder: string;
  parentId?: string;
  instance: { id: string; kind: string; connection: string; url?: string; pid?: number };
  /** The terminal it runs in, when known (`pts/3`, `ttys003`). */
  terminal?: { tty: string };
  updatedAt: number;
}

export type FocusResult =
  | { where: 'tmux'; target: string }
  | { where: 'none'; reason: string; tty?: string }
  /** A host with its own notion of focus (VS Code) says what it did. */
  | { where: string; target?: string; reason?: string };

/** What the protocol acts on; the daemon wires it to a Monitor and a LabelStore. */
export interface ApiBackend {
  snapshot(): MonitorSnapshot;
  /** Resolves with the label as stored (undefined: removed). */
  setLabel(sessionId: string, text: string): Promise<string | undefined>;
  focus(session: SessionModel, instance: InstanceModel | undefined): Promise<FocusResult>;
  /** Through the monitor's abort action; rejects when the owning instance gives no safe way. */
  stop(sessionId: string): Promise<void>;
}

export type ApiResponse = { id?: unknown; ok: true; [key: string]: unknown } | { id?: unknown; ok: false; error: { code: ApiErrorCode; message: string }; [key: string]: unknown };

export function toApiSession(session: SessionModel, instance: InstanceModel | undefined): ApiSession {
  const state = session.needsAttention ? 'waiting' : session.status;
  return {
    id: session.id,
    agent: instance?.agent ?? 'opencode',
    state,
    ...(session.needsAttention && session.attentionReason ? { waitingFor: session.attentionReason } : {}),
    ...(session.needsAttention && session.waitingSince !== undefined ? { waitingSince: session.waitingSince } : {}),
    ...(session.label ? { label: session.label } : {}),
    title: session.title,
    folder: session.directory,
    ...(session.parentId ? { parentId: session.parentId } : {}),
    instance: {
      id: session.instanceId,
      kind: instance?.kind ?? 'unknown',
      connection: instance?.connection ?? 'down',
      ...(instance?.url ? { url: instance.url } : {}),
      ...(instance?.pid !== undefined ? { pid: instance.pid } : {}),
    },
    ...(instance?.tty ? { terminal: { tty: instance.tty } } : {}),
    updatedAt: session.updatedAt,
  };
}

export function listSessions(snapshot: MonitorSnapshot): ApiSession[] {
  const instances = new Map(snapshot.instances.map((i) => [i.id, i]));
  return snapshot.sessions.map((s) => toApiSession(s, instances.get(s.instanceId)));
}

export function errorResponse(id: unknown, code: ApiErrorCode, message: string, extra: Record<string, unknown> = {}): ApiResponse {
  return { ...(id !== undefined ? { id } : {}), ok: false, error: { code, message }, ...extra };
}

/** Answers one request line. Never throws: every failure is an error response. */
export async function handleRequestLine(line: string, backend: ApiBackend): Promise<ApiResponse> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return errorResponse(undefined, 'bad_json', 'the request is not JSON (one JSON object per line)');
  }
  if (!request || typeof request !== 'object' || Array.isArray(request)) return errorResponse(undefined, 'bad_request', 'the request must be a JSON object');
  const r = request as Record<string, unknown>;
  const id = isEchoableId(r.id) ? r.id : undefined;
  try {
    return await handle(r, id, backend);
  } catch (error) {
    return errorResponse(id, 'failed', describeError(error));
  }
}

async function handle(r: Record<string, unknown>, id: unknown, backend: ApiBackend): Promise<ApiResponse> {
  const ok = (body: Record<string, unknown>): ApiResponse => ({ ...(id !== undefined ? { id } : {}), ok: true, ...body });
  switch (r.cmd) {
    case 'list':
      return ok({ version: API_PROTOCOL_VERSION, sessions: listSessions(backend.snapshot()) });
    case 'label': {
      const session = stringParam(r, 'session', 200);
      if (session === undefined) return errorResponse(id, 'bad_request', '"session" (a session id or unique id prefix) is required');
      const text = r.text === undefined || r.text === null ? '' : r.text;
      if (typeof text !== 'string' || text.length > MAX_LABEL_LENGTH * 8) return errorResponse(id, 'bad_request', `"text" must be a string of at most ${MAX_LABEL_LENGTH} characters ("" removes the label)`);
      const snapshot = backend.snapshot();
      const match = findSessionById(snapshot.sessions, session);
      if (match.kind === 'ambiguous') return errorResponse(id, 'ambiguous', `"${session}" matches ${match.candidates.length} sessions`, { candidates: summaries(snapshot, match.candidates) });
      if (match.kind === 'none') return errorResponse(id, 'not_found', `no session with id or id prefix "${session}"`);
      const label = await backend.setLabel(match.session.id, text);
      return ok({ session: match.session.id, ...(label !== undefined ? { label } : {}) });
    }
    case 'focus': {
      const query = stringParam(r, 'query', 500) ?? stringParam(r, 'session', 200);
      if (query === undefined) return errorResponse(id, 'bad_request', '"query" (a session id, id prefix, or words of its label, title or folder) is required');
      const snapshot = backend.snapshot();
      const match = findSession(snapshot.sessions, query);
      if (match.kind === 'ambiguous') return errorResponse(id, 'ambiguous', `"${query}" matches ${match.candidates.length} sessions: add words or use an id`, { candidates: summaries(snapshot, match.candidates) });
      if (match.kind === 'none') return errorResponse(id, 'not_found', `no session matches "${query}"`);
      const instance = snapshot.instances.find((i) => i.id === match.session.instanceId);
      const focus = await backend.focus(match.session, instance);
      return ok({ session: toApiSession(match.session, instance), focus });
    }
    case 'stop': {
      const session = stringParam(r, 'session', 200);
      if (session === undefined) return errorResponse(id, 'bad_request', '"session" (a session id or unique id prefix) is required');
      const snapshot = backend.snapshot();
      const match = findSessionById(snapshot.sessions, session);
      if (match.kind === 'ambiguous') return errorResponse(id, 'ambiguous', `"${session}" matches ${match.candidates.length} sessions`, { candidates: summaries(snapshot, match.candidates) });
      if (match.kind === 'none') return errorResponse(id, 'not_found', `no session with id or id prefix "${session}"`);
      try {
        await backend.stop(match.session.id);
      } catch (error) {
        return errorResponse(id, 'cannot', `cannot stop session ${match.session.id}: ${describeError(error)}`);
      }
      return ok({ session: match.session.id, stopped: true });
    }
    case undefined:
      return errorResponse(id, 'bad_request', '"cmd" is required: list, label, focus or stop');
    default:
      return errorResponse(id, 'unknown_cmd', `unknown cmd ${JSON.stringify(String(r.cmd).slice(0, 40))}: list, label, focus or stop`);
  }
}

function summaries(snapshot: MonitorSnapshot, sessions: SessionModel[]): ApiSession[] {
  const instances = new Map(snapshot.instances.map((i) => [i.id, i]));
  return sessions.slice(0, 20).map((s) => toApiSession(s, instances.get(s.instanceId)));
}

function stringParam(r: Record<string, unknown>, key: string, max: number): string | undefined {
  const v = r[key];
  return typeof v === 'string' && v.trim() !== '' && v.length <= max ? v.trim() : undefined;
}

/** Request ids are echoed back: small strings and numbers only. */
function isEchoableId(v: unknown): boolean {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.length <= 200);
}
