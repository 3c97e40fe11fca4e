/** Rows of the sessions tree for a session's work: running tools and its todo list. */
import { formatDuration, truncate } from './format';
import type { RunningTool, SessionModel, TodoItem } from '../model/model';
import { escapeMarkdown, inlineCode } from './markdown';
import type { IconSpec, PresentedNode } from './treeNodes';
import { clock, nodeId } from './treeNodes';

/** Tools not already shown as a pending request or as a sub-agent row. */
export function visibleTools(session: SessionModel, shownChildren: ReadonlySet<string>): RunningTool[] {
  const permissionCalls = new Set(session.permissions.map((p) => p.callID).filter((c): c is string => c !== undefined));
  return session.runningTools.filter((t) => {
    if (permissionCalls.has(t.callID)) return false;
    if (t.name === 'question' && session.questions.length > 0) return false;
    if (t.childSessionId !== undefined && shownChildren.has(t.childSessionId)) return false;
    return true;
  });
}

export function toolLabel(tool: RunningTool): string {
  const arg = tool.arg.replace(/\s+/g, ' ').trim();
  return arg ? `${tool.name}: ${truncate(arg, 80)}` : tool.name;
}

const TOOL_ICONS: Record<string, string> = {
  bash: 'terminal',
  task: 'hubot',
  read: 'file',
  edit: 'edit',
  write: 'new-file',
  patch: 'diff',
  grep: 'search',
  glob: 'search',
  list: 'list-tree',
  webfetch: 'globe',
  websearch: 'globe',
  todowrite: 'checklist',
  todoread: 'checklist',
  question: 'question',
};

export function toolNode(tool: RunningTool, session: SessionModel, parentId: string, now: number): PresentedNode {
  return {
    id: nodeId.tool(session.id, tool.callID),
    kind: 'tool',
    parentId,
    childIds: [],
    label: toolLabel(tool),
    ...(tool.startedAt !== undefined ? { description: formatDuration(now - tool.startedAt) } : {}),
    // Claude Code names its tools `Bash`, `Read`, …
    icon: { id: TOOL_ICONS[tool.name.toLowerCase()] ?? 'tools' },
    contextValue: 'tool',
    tooltip: [
      `Running ${inlineCode(tool.name)}${tool.startedAt !== undefined ? ` since ${clock(tool.startedAt)}` : ''}`,
      ...(tool.arg ? ['', '```', tool.arg.replace(/```/g, '` ` `'), '```'] : []),
    ].join('\n'),
    collapsible: 'none',
    ref: { instanceId: session.instanceId, sessionId: session.id },
  };
}

export function todosNode(session: SessionModel, parentId: string, itemIds: string[]): PresentedNode {
  const t = session.todos;
  const parts = [t.nextLabel ? `next: ${truncate(t.nextLabel, 60)}` : '', `${t.completed}/${t.total} done`].filter(Boolean);
  return {
    id: nodeId.todos(session.id),
    kind: 'todos',
    parentId,
    childIds: itemIds,
    label: t.currentLabel ? `Todo: ${truncate(t.currentLabel, 80)}` : 'Todos',
    description: parts.join(' · '),
    icon: { id: 'checklist' },
    contextValue: 'todos',
    tooltip: [
      `**Todos** — ${t.completed} done, ${t.inProgress} in progress, ${t.pending} pending`,
      '',
      ...t.items.map((i) => `- ${TODO_MARK[i.status] ?? '[ ]'} ${escapeMarkdown(i.content)}`),
    ].join('\n'),
    collapsible: itemIds.length > 0 ? 'collapsed' : 'none',
    ref: { instanceId: session.instanceId, sessionId: session.id },
  };
}

const TODO_MARK: Record<string, string> = { completed: '[x]', in_progress: '[~]', cancelled: '[-]' };

const TODO_ICONS: Record<string, IconSpec> = {
  completed: { id: 'pass', color: 'charts.green' },
  in_progress: { id: 'arrow-circle-right', color: 'charts.blue' },
  cancelled: { id: 'circle-slash' },
  pending: { id: 'circle-large-outline' },
};

export function todoNode(item: TodoItem, index: number, session: SessionModel, parentId: string): PresentedNode {
  return {
    id: nodeId.todo(session.id, index),
    kind: 'todo',
    parentId,
    childIds: [],
    label: truncate(item.content.replace(/\s+/g, ' '), 120),
    description: item.status.replace(/_/g, ' '),
    icon: TODO_ICONS[item.status] ?? { id: 'circle-large-outline' },
    contextValue: 'todo',
    tooltip: `${escapeMarkdown(item.content)}\n\n_${escapeMarkdown(item.status.replace(/_/g, ' '))}${item.priority ? `, ${escapeMarkdown(item.priority)} priority` : ''}_`,
    collapsible: 'none',
    ref: { instanceId: session.instanceId, sessionId: session.id },
  };
}
