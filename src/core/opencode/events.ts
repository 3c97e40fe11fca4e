/**
 * OpenCode's event stream messages (`GET /event`, `GET /global/event`) as a typed union.
 * Known types are validated; anything else (or a known type of an unexpected shape) passes
 * through as `unknown` so that a newer OpenCode never breaks the stream.
 */
import * as z from 'zod';
import {
  messageErrorSchema,
  messageInfoSchema,
  partSchema,
  permissionRequestSchema,
  questionRequestSchema,
  sessionSchema,
  sessionStatusSchema,
  todoSchema,
} from './schemas';
import type {
  WireMessageError,
  WireMessageInfo,
  WirePart,
  WirePermissionRequest,
  WireQuestionRequest,
  WireSession,
  WireSessionStatus,
  WireTodo,
} from './schemas';
import { parseJsonText } from './jsonText';

interface Base<T extends string, P> {
  type: T;
  properties: P;
  /** `evt_…` id when the server sent one. */
  id?: string;
  /** Set for `/global/event` messages: the project directory the event belongs to. */
  directory?: string;
}

export type KnownEvent =
  | Base<'server.connected', Record<string, unknown>>
  | Base<'server.heartbeat', Record<string, unknown>>
  | Base<'session.status', { sessionID: string; status: WireSessionStatus }>
  | Base<'session.idle', { sessionID: string }>
  | Base<'session.created', SessionInfoProps>
  | Base<'session.updated', SessionInfoProps>
  | Base<'session.deleted', SessionInfoProps>
  | Base<'session.error', { sessionID?: string; error?: WireMessageError }>
  | Base<'message.updated', { sessionID?: string; info: WireMessageInfo }>
  | Base<'message.removed', { sessionID: string; messageID: string }>
  | Base<'message.part.updated', { sessionID?: string; part: WirePart; time?: number }>
  | Base<'message.part.removed', { sessionID: string; messageID: string; partID: string }>
  | Base<'message.part.delta', { sessionID: string; messageID: string; partID: string; field: string; delta: string }>
  | Base<'todo.updated', { sessionID: string; todos: WireTodo[] }>
  | Base<'permission.asked', WirePermissionRequest>
  | Base<'permission.replied', { sessionID: string; requestID: string; reply: string }>
  | Base<'question.asked', WireQuestionRequest>
  | Base<'question.replied', QuestionDoneProps>
  | Base<'question.rejected', QuestionDoneProps>;

interface SessionInfoProps {
  sessionID?: string;
  info: WireSession;
}

interface QuestionDoneProps {
  sessionID: string;
  requestID: string;
}

export interface UnknownEvent {
  type: 'unknown';
  /** The type string the server sent (or `''` when it sent none). */
  originalType: string;
  properties: unknown;
  id?: string;
  directory?: string;
  /** Why a known type was not accepted, when that is the reason it is here. */
  invalid?: string;
}

export type OpencodeEvent = KnownEvent | UnknownEvent;
export type KnownEventType = KnownEvent['type'];

const sid = z.string().min(1);
const passthrough = z.record(z.string(), z.unknown()).catch({});

const propertySchemas: { [K in KnownEventType]: z.ZodType } = {
  'server.connected': passthrough,
  'server.heartbeat': passthrough,
  'session.status': z.looseObject({ sessionID: sid, status: sessionStatusSchema }),
  'session.idle': z.looseObject({ sessionID: sid }),
  'session.created': z.looseObject({ sessionID: z.string().optional(), info: sessionSchema }),
  'session.updated': z.looseObject({ sessionID: z.string().optional(), info: sessionSchema }),
  'session.deleted': z.looseObject({ sessionID: z.string().optional(), info: sessionSchema }),
  'session.error': z.looseObject({
    sessionID: z.string().optional().catch(undefined),
    error: messageErrorSchema.optional().catch(undefined),
  }),
  'message.updated': z.looseObject({ sessionID: z.string().optional(), info: messageInfoSchema }),
  'message.removed': z.looseObject({ sessionID: sid, messageID: z.string() }),
  'message.part.updated': z.looseObject({ sessionID: z.string().optional(), part: partSchema, time: z.number().optional().catch(undefined) }),
  'message.part.removed': z.looseObject({ sessionID: sid, messageID: z.string(), partID: z.string() }),
  'message.part.delta': z.looseObject({
    sessionID: sid,
    messageID: z.string(),
    partID: z.string(),
    field: z.string(),
    delta: z.string(),
  }),
  'todo.updated': z.looseObject({ sessionID: sid, todos: z.array(todoSchema) }),
  'permission.asked': permissionRequestSchema,
  'permission.replied': z.looseObject({ sessionID: sid, requestID: z.string(), reply: z.string() }),
  'question.asked': questionRequestSchema,
  'question.replied': z.looseObject({ sessionID: sid, requestID: z.string() }),
  'question.rejected': z.looseObject({ sessionID: sid, requestID: z.string() }),
};

const envelopeSchema = z.looseObject({
  id: z.string().optional().catch(undefined),
  type: z.string(),
  properties: z.unknown().optional(),
});

/** The result of reading one SSE `data:` payload. */
export type DecodedMessage =
  | { kind: 'event'; event: OpencodeEvent; cleaned: number }
  /** `/global/event` also carries `sync` replication records: not events of their own. */
  | { kind: 'ignored'; reason: string }
  | { kind: 'error'; error: string };

export function decodeEventData(data: string): DecodedMessage {
  const parsed = parseJsonText(data);
  if (!parsed.ok) return { kind: 'error', error: `event is not JSON (${parsed.error})` };
  let raw = parsed.value;
  let directory: string | undefined;
  // /global/event wraps each event: {directory?, project?, payload}.
  if (isRecord(raw) && 'payload' in raw && !('type' in raw)) {
    directory = typeof raw.directory === 'string' ? raw.directory : undefined;
    raw = raw.payload;
  }
  const envelope = envelopeSchema.safeParse(raw);
  if (!envelope.success) return { kind: 'error', error: 'event has no type' };
  const { id, type, properties } = envelope.data;
  if (type === 'sync') return { kind: 'ignored', reason: 'sync record' };
  // Own keys only: a type named `toString` or `constructor` is just an unknown type.
  const schema = Object.hasOwn(propertySchemas, type) ? (propertySchemas as Record<string, z.ZodType>)[type] : undefined;
  const extra = { ...(id ? { id } : {}), ...(directory !== undefined ? { directory } : {}) };
  if (!schema) {
    return { kind: 'event', event: { type: 'unknown', originalType: type, properties, ...extra }, cleaned: parsed.cleaned };
  }
  const result = schema.safeParse(properties ?? {});
  if (!result.success) {
    const invalid = summarizeIssues(result.error);
    return { kind: 'event', event: { type: 'unknown', originalType: type, properties, invalid, ...extra }, cleaned: parsed.cleaned };
  }
  return { kind: 'event', event: { type, properties: result.data, ...extra } as KnownEvent, cleaned: parsed.cleaned };
}

export function summarizeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
