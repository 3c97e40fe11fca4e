/**
 * What the monitor keeps of one session of a live server (its info, status, tools, todos and
 * pending requests) and how that becomes the session's model, live or stale.
 */
import type { WireSession, WireSessionStatus, WireTodo } from '../opencode/schemas';
import type { PermissionModel, QuestionModel, RunningTool, SessionModel } from '../model/model';
import { emptyTokens } from '../model/model';
import { summarizeTodos } from '../model/todos';
import { numberField, stringField } from './wireParts';

export interface LiveSession {
  info?: WireSession;
  status?: WireSessionStatus;
  tools: Map<string, RunningTool>;
  todos?: WireTodo[];
  permissions: Map<string, PermissionModel>;
  questions: Map<string, QuestionModel>;
  lastError?: string;
  /** Last time this server reported work of this session (it runs it, so it owns it). */
  activeAt?: number;
}

export interface ModelOptions {
  /** Servers without a permission API: a non-`task` tool running this long probably waits for a permission. */
  heuristicThresholdMs: number;
  /** Whether the server lists permissions (if not, the heuristic applies). */
  hasPermissionApi: boolean;
  /** The server is not connected: its live state is unknown and must count nowhere. */
  stale?: boolean;
}

export function sessionModelOf(s: LiveSession, info: WireSession, instanceId: string, options: ModelOptions, now: number): SessionModel {
  const status = s.status?.type === 'busy' ? 'busy' : s.status?.type === 'retry' ? 'retry' : s.status ? 'busy' : 'idle';
  const runningTools = [...s.tools.values()].sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0));
  const permissions = [...s.permissions.values()].sort((a, b) => a.askedAt - b.askedAt);
  const questions = [...s.questions.values()].sort((a, b) => a.askedAt - b.askedAt);
  let attentionReason: SessionModel['attentionReason'];
  let waitingSince: number | undefined;
  if (permissions.length > 0) {
    attentionReason = 'permission';
    waitingSince = permissions[0]!.askedAt;
  }
  if (questions.length > 0) {
    attentionReason ??= 'question';
    waitingSince = Math.min(waitingSince ?? Infinity, questions[0]!.askedAt);
  }
  if (!attentionReason && !options.hasPermissionApi && status !== 'idle') {
    const stuck = runningTools.find((t) => t.name !== 'task' && t.startedAt !== undefined && now - t.startedAt >= options.heuristicThresholdMs);
    if (stuck) {
      attentionReason = 'heuristic';
      waitingSince = stuck.startedAt;
    }
  }
  const retry =
    s.status?.type === 'retry'
      ? {
          attempt: numberField(s.status, 'attempt') ?? 0,
          message: stringField(s.status, 'message') ?? '',
          next: numberField(s.status, 'next'),
        }
      : undefined;
  return {
    id: info.id,
    instanceId,
    title: info.title,
    directory: info.directory,
    parentId: info.parentID,
    status,
    retry,
    runningTools: status === 'idle' ? [] : runningTools,
    todos: summarizeTodos(s.todos ?? []),
    permissions,
    questions,
    needsAttention: attentionReason !== undefined,
    attentionReason,
    waitingSince,
    lastError: s.lastError,
    cost: info.cost ?? 0,
    tokens: info.tokens
      ? {
          input: info.tokens.input,
          output: info.tokens.output,
          reasoning: info.tokens.reasoning,
          cacheRead: info.tokens.cache.read,
          cacheWrite: info.tokens.cache.write,
        }
      : emptyTokens(),
    agentName: info.agent,
    modelId: info.model ? `${info.model.providerID}/${info.model.id}` : undefined,
    createdAt: info.time.created,
    updatedAt: info.time.updated,
    source: 'live',
  };
}

/** What is still true of a session whose server stopped answering: who it is, not what it does. */
export function staleModel(live: SessionModel): SessionModel {
  const { retry: _retry, attentionReason: _reason, waitingSince: _since, ...rest } = live;
  return { ...rest, status: 'idle', runningTools: [], permissions: [], questions: [], needsAttention: false, stale: true };
}

export function goIdle(s: LiveSession): boolean {
  const changed = s.status !== undefined || s.tools.size > 0;
  s.status = undefined;
  s.tools.clear();
  return changed;
}

export function toolStart(s: LiveSession, callID: string | undefined): number | undefined {
  if (!callID) return undefined;
  for (const tool of s.tools.values()) if (tool.callID === callID) return tool.startedAt;
  return undefined;
}
