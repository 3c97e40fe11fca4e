/**
 * Pure conversions of OpenCode's wire types into pieces of the model: running tools from message
 * parts, permission and question requests, session errors, and the keys that tell whether a
 * session's info or status changed.
 */
import type { WireMessage, WirePart, WirePermissionRequest, WireQuestionRequest, WireSession, WireSessionStatus } from '../opencode/schemas';
import type { PermissionModel, QuestionModel, RiskModel, RunningTool } from '../model/model';
import { toolArg } from '../model/toolArg';
import { boundedKey } from '../util/boundedJson';

/** Tool parts of the latest assistant message: where running tools live. */
export function lastAssistantParts(messages: WireMessage[]): WirePart[] {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.info.role === 'assistant') return m.parts.filter((p) => p.type === 'tool');
  }
  return [];
}

export function runningTool(part: WirePart): RunningTool | undefined {
  const state = part.state;
  if (part.type !== 'tool' || !state || (state.status !== 'running' && state.status !== 'pending')) return undefined;
  const name = part.tool ?? 'tool';
  const child = state.metadata?.sessionId;
  return {
    callID: part.callID ?? part.id,
    name,
    arg: toolArg(name, state.input, state.title),
    ...(state.time?.start !== undefined ? { startedAt: state.time.start } : {}),
    ...(typeof child === 'string' ? { childSessionId: child } : {}),
  };
}

export function toPermission(request: WirePermissionRequest, askedAt: number, risk?: RiskModel): PermissionModel {
  const command = request.metadata.command;
  return {
    id: request.id,
    sessionId: request.sessionID,
    permission: request.permission,
    patterns: request.patterns,
    ...(typeof command === 'string' ? { command } : {}),
    always: request.always,
    ...(request.tool?.callID ? { callID: request.tool.callID } : {}),
    askedAt,
    ...(risk ? { risk } : {}),
  };
}

export function toQuestion(request: WireQuestionRequest, askedAt: number): QuestionModel {
  return {
    id: request.id,
    sessionId: request.sessionID,
    questions: request.questions.map((q) => ({
      question: q.question,
      ...(q.header ? { header: q.header } : {}),
      options: q.options.map((o) => ({ label: o.label, ...(o.description ? { description: o.description } : {}) })),
      ...(q.multiple !== undefined ? { multiple: q.multiple } : {}),
      ...(q.custom !== undefined ? { custom: q.custom } : {}),
    })),
    askedAt,
  };
}

export function sessionInfoKey(info: WireSession): string {
  return boundedKey([info.title, info.directory, info.parentID, info.cost, info.tokens, info.time.updated, info.agent, info.model]);
}

export function statusKey(status: WireSessionStatus): string {
  return boundedKey(status);
}

export function sessionErrorText(name: string | undefined, data: unknown): string {
  if (name === 'MessageAbortedError') return 'aborted';
  const message = typeof data === 'object' && data !== null && 'message' in data ? String((data as { message: unknown }).message) : '';
  return [name ?? 'error', message].filter(Boolean).join(': ').slice(0, 300);
}

export function numberField(value: object, key: string): number | undefined {
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
}

export function stringField(value: object, key: string): string | undefined {
  const v = (value as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : undefined;
}
