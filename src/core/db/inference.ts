/**
 * Live state inferred from OpenCode's database for sessions of a port-less TUI, following the
 * rules measured on OpenCode 1.18.33 (docs/opencode-facts.md, "The shared database").
 * Pending permissions and the `retry` status are not in the DB; permissions are inferred from
 * processes (a running `bash` part without its child process waits for the user).
 */
import { summarizeTodos } from '../model/todos';
import type { PermissionModel, QuestionModel, RunningTool, SessionModel } from '../model/model';
import { toolArg } from '../model/toolArg';
import type { DbMessageRow, DbSessionRecord, DbToolRow } from './types';

/** Busy = the newest message is an assistant message neither completed nor failed. */
export function isOpenAssistantMessage(message: DbMessageRow | undefined): message is DbMessageRow {
  return !!message && message.role === 'assistant' && message.completedAt === undefined && message.errorName === undefined;
}

export interface InferenceContext {
  now: number;
  /**
   * When the owning process started (ms since epoch). An open message created before it was
   * left behind by a process that is gone (the DB keeps "running" forever after a kill -9).
   */
  ownerStartedAt?: number;
  /** Whether a running `bash` part waits for a permission; `undefined` when it cannot be told. */
  bashWaiting(tool: DbToolRow): boolean | undefined;
  /** Any other tool running this long probably waits for the user (`heuristic`, as for servers without a permission API). */
  heuristicThresholdMs: number;
}

/** Clock slack between the process start time (from /proc, 10 ms ticks, 1 s boot time) and message times. */
const STARTED_SLACK_MS = 2_000;

export const INTERRUPTED = 'interrupted: the OpenCode process that ran it is gone';

export function inferSession(record: DbSessionRecord, instanceId: string, ctx: InferenceContext): SessionModel {
  const { session, lastMessage } = record;
  const open = isOpenAssistantMessage(lastMessage);
  const stale = open && ctx.ownerStartedAt !== undefined && lastMessage.createdAt < ctx.ownerStartedAt - STARTED_SLACK_MS;
  const busy = open && !stale;
  const fallbackAt = lastMessage?.createdAt ?? session.updatedAt;

  const runningTools: RunningTool[] = [];
  const permissions: PermissionModel[] = [];
  const questions: QuestionModel[] = [];
  let heuristicSince: number | undefined;
  if (busy) {
    for (const tool of record.tools) {
      runningTools.push(toRunningTool(tool));
      // `pending` = the model is still streaming the call's input: nothing is asked or spawned yet.
      const running = tool.status === 'running';
      if (tool.tool === 'question') {
        const question = running ? toQuestion(tool, session.id, tool.startedAt ?? fallbackAt) : undefined;
        if (question) questions.push(question);
        continue;
      }
      if (tool.tool === 'task') continue; // its sub-agent session speaks for itself
      const waiting = tool.tool === 'bash' && running ? ctx.bashWaiting(tool) : undefined;
      if (waiting === true) permissions.push(toPermission(tool, session.id, tool.startedAt ?? fallbackAt));
      else if (waiting === undefined && tool.startedAt !== undefined && ctx.now - tool.startedAt >= ctx.heuristicThresholdMs) {
        heuristicSince = Math.min(heuristicSince ?? Infinity, tool.startedAt);
      }
    }
  }
  runningTools.sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  permissions.sort((a, b) => a.askedAt - b.askedAt);
  questions.sort((a, b) => a.askedAt - b.askedAt);

  let attentionReason: SessionModel['attentionReason'];
  let waitingSince: number | undefined;
  if (permissions[0]) {
    attentionReason = 'permission';
    waitingSince = permissions[0].askedAt;
  }
  if (questions[0]) {
    attentionReason ??= 'question';
    waitingSince = Math.min(waitingSince ?? Infinity, questions[0].askedAt);
  }
  if (!attentionReason && heuristicSince !== undefined) {
    attentionReason = 'heuristic';
    waitingSince = heuristicSince;
  }

  let lastError: string | undefined;
  if (stale) lastError = INTERRUPTED;
  else if (lastMessage?.role === 'assistant' && lastMessage.errorName !== undefined) lastError = describeError(lastMessage.errorName, lastMessage.errorMessage);

  return {
    id: session.id,
    instanceId,
    title: session.title,
    directory: session.directory,
    ...(session.parentId ? { parentId: session.parentId } : {}),
    status: busy ? 'busy' : 'idle',
    runningTools,
    todos: summarizeTodos(record.todos),
    permissions,
    questions,
    needsAttention: attentionReason !== undefined,
    ...(attentionReason ? { attentionReason } : {}),
    ...(waitingSince !== undefined ? { waitingSince } : {}),
    ...(lastError ? { lastError } : {}),
    cost: session.cost,
    tokens: session.tokens,
    ...(session.agent ? { agentName: session.agent } : {}),
    ...(session.modelId ? { modelId: session.modelId } : {}),
    createdAt: session.createdAt,
    // session.time_updated is not bumped while a long tool runs: the newest message says more.
    updatedAt: Math.max(session.updatedAt, lastMessage?.updatedAt ?? 0),
    source: 'db',
  };
}

function toRunningTool(tool: DbToolRow): RunningTool {
  return {
    callID: tool.callID ?? tool.partId,
    name: tool.tool,
    arg: toolArg(tool.tool, tool.input, tool.title),
    ...(tool.startedAt !== undefined ? { startedAt: tool.startedAt } : {}),
    ...(tool.childSessionId ? { childSessionId: tool.childSessionId } : {}),
  };
}

/** No request id is stored: the part id stands in (replies need a server anyway). */
function toPermission(tool: DbToolRow, sessionId: string, askedAt: number): PermissionModel {
  const command = typeof tool.input?.command === 'string' ? tool.input.command : undefined;
  return {
    id: tool.partId,
    sessionId,
    permission: tool.tool,
    patterns: command ? [command] : [],
    ...(command ? { command } : {}),
    always: [],
    ...(tool.callID ? { callID: tool.callID } : {}),
    askedAt,
  };
}

function toQuestion(tool: DbToolRow, sessionId: string, askedAt: number): QuestionModel | undefined {
  const raw = tool.input?.questions;
  if (!Array.isArray(raw)) return undefined;
  const questions: QuestionModel['questions'] = [];
  for (const q of raw) {
    if (!isRecord(q) || typeof q.question !== 'string') continue;
    const options: Array<{ label: string; description?: string }> = [];
    if (Array.isArray(q.options)) {
      for (const o of q.options) {
        if (!isRecord(o) || typeof o.label !== 'string') continue;
        options.push({ label: o.label, ...(typeof o.description === 'string' && o.description ? { description: o.description } : {}) });
      }
    }
    questions.push({
      question: q.question,
      ...(typeof q.header === 'string' && q.header ? { header: q.header } : {}),
      options,
      ...(typeof q.multiple === 'boolean' ? { multiple: q.multiple } : {}),
      ...(typeof q.custom === 'boolean' ? { custom: q.custom } : {}),
    });
  }
  if (questions.length === 0) return undefined;
  return { id: tool.partId, sessionId, questions, askedAt };
}

/** Same wording as the live model's errors. */
function describeError(name: string, message: string | undefined): string {
  if (name === 'MessageAbortedError') return 'aborted';
  return [name || 'error', message ?? ''].filter(Boolean).join(': ').slice(0, 300);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
