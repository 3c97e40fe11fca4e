/** Rows of the sessions tree for sessions, and the row that folds finished sub-agents. */
import { formatDuration, truncate } from './format';
import type { SessionModel } from '../model/model';
import { escapeMarkdown, fieldLines, inlineCode } from './markdown';
import type { IconSpec, PresentedNode } from './treeNodes';
import { TERMINAL_FLAG, WARNING_COLOR, clock, nodeId } from './treeNodes';
import { displayName } from '../model/labelText';
import { compareIds } from '../util/compareIds';

/** A narrow sidebar (~300 px) shows about this much of a label before the description. */
const LABEL_MAX = 36;

/** The user's label when it has one, else its title. */
export function sessionLabel(session: SessionModel): string {
  return displayName(session);
}

export function sessionIcon(session: SessionModel): IconSpec {
  if (session.stale) return { id: 'question' };
  if (session.needsAttention) return { id: 'bell', color: WARNING_COLOR };
  if (session.status === 'retry') return { id: 'warning', color: WARNING_COLOR };
  if (session.status === 'busy') return { id: 'loading~spin' };
  return { id: 'circle-outline' };
}

/** `session+<state>`, then `+term` when its instance has a terminal to focus. */
export function sessionContextValue(session: SessionModel, terminal = false): string {
  const state = session.needsAttention ? 'needsYou' : session.stale ? 'stale' : session.status === 'idle' ? 'idle' : 'busy';
  // Claude Code sessions: no attach, no abort (those menus match the OpenCode values only).
  return `session+${state}${session.source === 'files' ? '+claude' : ''}${terminal ? TERMINAL_FLAG : ''}`;
}

/**
 * The tree's short line on a session, most important word first (the sidebar cuts the end):
 * `waiting 2m · permission`, `bash 12s`, `retry #2 in 5s`, `idle`, `unknown`. The tool's
 * argument is on its own row, everything else in the tooltip.
 */
export function sessionBrief(session: SessionModel, now: number): string {
  if (session.stale) return 'unknown · server not answering';
  if (session.needsAttention) {
    const waited = session.waitingSince ? ` ${formatDuration(now - session.waitingSince)}` : '';
    if (session.attentionReason === 'heuristic') return `maybe waiting${waited}`;
    return `waiting${waited} · ${session.attentionReason === 'question' ? 'question' : 'permission'}`;
  }
  if (session.status === 'retry') {
    const next = session.retry?.next ? ` in ${formatDuration(session.retry.next - now)}` : '';
    return `retry #${session.retry?.attempt ?? '?'}${next}`;
  }
  if (session.status === 'busy') {
    const tool = session.runningTools[session.runningTools.length - 1];
    if (tool) return `${tool.name}${tool.startedAt ? ` ${formatDuration(now - tool.startedAt)}` : ''}`;
    return 'busy';
  }
  return session.lastError ? 'idle · error' : 'idle';
}

export function sessionNode(session: SessionModel, parentId: string, childIds: string[], now: number, terminal: boolean): PresentedNode {
  return {
    id: nodeId.session(session.id),
    kind: 'session',
    parentId,
    childIds,
    label: truncate(sessionLabel(session), LABEL_MAX),
    // A labelled session still says what OpenCode calls it (after the state: the sidebar cuts the end).
    description: subAgentTiming(session, now) ?? (session.label && session.title.trim() ? `${sessionBrief(session, now)} · ${session.title.trim()}` : sessionBrief(session, now)),
    icon: sessionIcon(session),
    contextValue: sessionContextValue(session, terminal),
    tooltip: sessionTooltip(session),
    collapsible: childIds.length === 0 ? 'none' : session.needsAttention ? 'expanded' : 'collapsed',
    ref: { instanceId: session.instanceId, sessionId: session.id },
  };
}

/**
 * A sub-agent's row says how long it has been running (`bash 3s · running 1m`), and once finished
 * how long it took (`done in 2m`); its tooltip keeps the duration too.
 */
function subAgentTiming(session: SessionModel, now: number): string | undefined {
  if (!session.parentId || session.stale || session.needsAttention || session.status === 'retry' || !(session.createdAt > 0)) return undefined;
  if (session.status === 'busy') return `${sessionBrief(session, now)} · running ${formatDuration(now - session.createdAt)}`;
  if (session.lastError || !(session.updatedAt >= session.createdAt)) return undefined;
  return `done in ${formatDuration(session.updatedAt - session.createdAt)}`;
}

/** Finished sub-agents of one session, folded into one collapsed row. */
export function finishedNode(parent: SessionModel, parentId: string, childIds: string[]): PresentedNode {
  const n = childIds.length;
  return {
    id: nodeId.finished(parent.id),
    kind: 'finished',
    parentId,
    childIds,
    label: `${n} finished sub-agent${n === 1 ? '' : 's'}`,
    icon: { id: 'check-all' },
    contextValue: 'finished',
    tooltip: `${n} sub-agent${n === 1 ? '' : 's'} of **${escapeMarkdown(sessionLabel(parent))}** finished their work.`,
    collapsible: 'collapsed',
    ref: { instanceId: parent.instanceId, sessionId: parent.id },
  };
}

function statusText(session: SessionModel): string {
  if (session.stale) return 'unknown: its server is not answering';
  if (session.needsAttention) return session.attentionReason === 'heuristic' ? 'maybe waiting for permission' : 'waiting for you';
  return session.status === 'retry' ? 'retrying' : session.status;
}

/** Time-free on purpose: rows are refreshed when their tooltip changes, not every second. */
export function sessionTooltip(session: SessionModel): string {
  const tokens = session.tokens.input + session.tokens.output + session.tokens.reasoning;
  const todos = session.todos.total > 0 ? `${session.todos.completed}/${session.todos.total} done` : undefined;
  const tool = session.runningTools[session.runningTools.length - 1];
  const lines = [
    `**${escapeMarkdown(sessionLabel(session))}**${session.parentId ? ' (sub-agent)' : ''}`,
    '',
    ...fieldLines([
      ['Status', statusText(session)],
      ['Waiting since', session.needsAttention && session.waitingSince !== undefined ? clock(session.waitingSince) : undefined],
      ['Title', session.label && session.title.trim() ? escapeMarkdown(session.title.trim()) : undefined],
      ['Running', tool ? `${inlineCode(tool.name)}${tool.arg ? ` ${escapeMarkdown(truncate(tool.arg.replace(/\s+/g, ' '), 120))}` : ''}` : undefined],
      ['Session', inlineCode(session.id)],
      ['Folder', session.directory ? inlineCode(session.directory) : undefined],
      ['Branch', session.gitBranch ? inlineCode(session.gitBranch) : undefined],
      ['Waiting for', session.waitingFor ? escapeMarkdown(session.waitingFor) : undefined],
      ['Agent', session.agentName ? escapeMarkdown(session.agentName) : undefined],
      ['Model', session.modelId ? escapeMarkdown(session.modelId) : undefined],
      ['Todos', todos],
      ['Tokens', tokens > 0 ? tokens.toLocaleString('en-US') : undefined],
      ['Cost', session.cost > 0 ? `$${session.cost.toFixed(2)}` : undefined],
      ['Took', session.parentId && session.status === 'idle' && !session.stale && session.updatedAt >= session.createdAt && session.createdAt > 0 ? formatDuration(session.updatedAt - session.createdAt) : undefined],
      ['Last error', session.lastError ? escapeMarkdown(truncate(session.lastError, 300)) : undefined],
      ['Retry', session.retry ? `#${session.retry.attempt}: ${escapeMarkdown(truncate(session.retry.message, 300))}` : undefined],
    ]).map((l) => `${l}  `),
  ];
  if (session.source === 'db') lines.push('', '_Inferred from OpenCode’s database: the instance has no port._');
  if (session.source === 'files') lines.push('', '_Read from Claude Code’s session files: answer it in its terminal._');
  return lines.join('\n');
}

/**
 * Newest first, and nothing else: rows must not move under the pointer when a session changes
 * state (its icon and the badge say that). Only a new session shifts the rows below it.
 */
export function byNewest(a: SessionModel, b: SessionModel): number {
  return b.createdAt - a.createdAt || compareIds(a.id, b.id);
}

/** Waiting the longest first (sessions that wait before those that do not), then newest first. */
export function byLongestWaiting(a: SessionModel, b: SessionModel): number {
  return waitKey(a) - waitKey(b) || byNewest(a, b);
}

export function waitKey(s: SessionModel): number {
  return s.needsAttention ? (s.waitingSince ?? Number.MAX_SAFE_INTEGER - 1) : Number.MAX_SAFE_INTEGER;
}

export function byCreated(a: SessionModel, b: SessionModel): number {
  return a.createdAt - b.createdAt || compareIds(a.id, b.id);
}
