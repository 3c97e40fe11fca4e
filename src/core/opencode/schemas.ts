/**
 * Wire schemas for OpenCode's V1 HTTP API, as measured on 1.18.33. They check only what the
 * monitor reads, keep unknown fields (OpenCode evolves), and give optional fields defaults so
 * that a missing counter never rejects a whole session.
 */
import * as z from 'zod';

const num = z.number().finite();
const optionalNumber = num.optional().catch(undefined);

export const healthSchema = z.looseObject({
  healthy: z.boolean(),
  version: z.string(),
});
export type WireHealth = z.infer<typeof healthSchema>;

export const pathSchema = z.looseObject({
  home: z.string().optional(),
  state: z.string().optional(),
  config: z.string().optional(),
  worktree: z.string().optional(),
  directory: z.string(),
});
export type WirePath = z.infer<typeof pathSchema>;

export const projectSchema = z.looseObject({
  id: z.string(),
  worktree: z.string().optional(),
  vcs: z.string().optional().catch(undefined),
});
export type WireProject = z.infer<typeof projectSchema>;

export const tokensSchema = z.looseObject({
  input: num.catch(0).default(0),
  output: num.catch(0).default(0),
  reasoning: num.catch(0).default(0),
  cache: z
    .looseObject({ read: num.catch(0).default(0), write: num.catch(0).default(0) })
    .catch({ read: 0, write: 0 })
    .default({ read: 0, write: 0 }),
});
export type WireTokens = z.infer<typeof tokensSchema>;

export const sessionSchema = z.looseObject({
  id: z.string().min(1),
  title: z.string().catch('').default(''),
  directory: z.string().catch('').default(''),
  parentID: z.string().optional().catch(undefined),
  projectID: z.string().optional().catch(undefined),
  slug: z.string().optional().catch(undefined),
  agent: z.string().optional().catch(undefined),
  version: z.string().optional().catch(undefined),
  model: z.looseObject({ id: z.string(), providerID: z.string() }).optional().catch(undefined),
  cost: optionalNumber,
  tokens: tokensSchema.optional().catch(undefined),
  time: z
    .looseObject({ created: num.catch(0).default(0), updated: num.catch(0).default(0) })
    .catch({ created: 0, updated: 0 })
    .default({ created: 0, updated: 0 }),
});
export type WireSession = z.infer<typeof sessionSchema>;

/** `busy`, `idle` and `retry` are known; anything newer keeps its type string. */
export const sessionStatusSchema = z.union([
  z.looseObject({ type: z.literal('busy') }),
  z.looseObject({ type: z.literal('idle') }),
  z.looseObject({
    type: z.literal('retry'),
    attempt: num.catch(0).default(0),
    message: z.string().catch('').default(''),
    next: optionalNumber,
  }),
  z.looseObject({ type: z.string() }),
]);
export type WireSessionStatus = z.infer<typeof sessionStatusSchema>;

export const statusMapSchema = z.record(z.string(), sessionStatusSchema);
export type WireStatusMap = z.infer<typeof statusMapSchema>;

export const todoSchema = z.looseObject({
  content: z.string().catch('').default(''),
  /** pending | in_progress | completed | cancelled (others kept as they are). */
  status: z.string().catch('pending').default('pending'),
  priority: z.string().optional().catch(undefined),
  id: z.string().optional().catch(undefined),
});
export type WireTodo = z.infer<typeof todoSchema>;

export const toolStateSchema = z.looseObject({
  /** pending → running → completed | error */
  status: z.string(),
  input: z.record(z.string(), z.unknown()).optional().catch(undefined),
  title: z.string().optional().catch(undefined),
  metadata: z.record(z.string(), z.unknown()).optional().catch(undefined),
  error: z.string().optional().catch(undefined),
  time: z
    .looseObject({ start: optionalNumber, end: optionalNumber })
    .optional()
    .catch(undefined),
});
export type WireToolState = z.infer<typeof toolStateSchema>;

export const partSchema = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  messageID: z.string(),
  type: z.string(),
  /** Tool parts only. */
  tool: z.string().optional().catch(undefined),
  callID: z.string().optional().catch(undefined),
  state: toolStateSchema.optional().catch(undefined),
  text: z.string().optional().catch(undefined),
});
export type WirePart = z.infer<typeof partSchema>;

export const messageErrorSchema = z.looseObject({
  name: z.string().catch('UnknownError').default('UnknownError'),
  data: z.unknown().optional(),
});
export type WireMessageError = z.infer<typeof messageErrorSchema>;

export const messageInfoSchema = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  role: z.string(),
  parentID: z.string().optional().catch(undefined),
  agent: z.string().optional().catch(undefined),
  modelID: z.string().optional().catch(undefined),
  providerID: z.string().optional().catch(undefined),
  cost: optionalNumber,
  tokens: tokensSchema.optional().catch(undefined),
  error: messageErrorSchema.optional().catch(undefined),
  time: z
    .looseObject({ created: num.catch(0).default(0), completed: optionalNumber })
    .catch({ created: 0 })
    .default({ created: 0 }),
});
export type WireMessageInfo = z.infer<typeof messageInfoSchema>;

export const messageSchema = z.looseObject({
  info: messageInfoSchema,
  parts: z.array(z.unknown()).catch([]).default([]),
});
/** Parts are validated one by one so that one odd part does not drop its message. */
export interface WireMessage {
  info: WireMessageInfo;
  parts: WirePart[];
}

const toolRefSchema = z
  .looseObject({ messageID: z.string(), callID: z.string() })
  .optional()
  .catch(undefined);

export const permissionRequestSchema = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  permission: z.string().catch('unknown').default('unknown'),
  patterns: z.array(z.string()).catch([]).default([]),
  metadata: z.record(z.string(), z.unknown()).catch({}).default({}),
  always: z.array(z.string()).catch([]).default([]),
  tool: toolRefSchema,
});
export type WirePermissionRequest = z.infer<typeof permissionRequestSchema>;

export const questionOptionSchema = z.looseObject({
  label: z.string(),
  description: z.string().optional().catch(undefined),
});

export const questionInfoSchema = z.looseObject({
  question: z.string().catch('').default(''),
  header: z.string().optional().catch(undefined),
  options: z.array(questionOptionSchema).catch([]).default([]),
  multiple: z.boolean().optional().catch(undefined),
  custom: z.boolean().optional().catch(undefined),
});
export type WireQuestionInfo = z.infer<typeof questionInfoSchema>;

export const questionRequestSchema = z.looseObject({
  id: z.string(),
  sessionID: z.string(),
  questions: z.array(questionInfoSchema).catch([]).default([]),
  tool: toolRefSchema,
});
export type WireQuestionRequest = z.infer<typeof questionRequestSchema>;

export type PermissionReply = 'once' | 'always' | 'reject';
