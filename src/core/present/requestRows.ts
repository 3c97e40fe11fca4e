/** Rows of the sessions tree for what a session asks the user: permissions and questions. */
import { formatDuration, truncate } from './format';
import type { PermissionModel, QuestionModel, SessionModel } from '../model/model';
import { CommandId } from './commandIds';
import { escapeMarkdown, fieldLines, inlineCode } from './markdown';
import { sessionLabel } from './sessionRows';
import type { PresentedNode } from './treeNodes';
import { TERMINAL_FLAG, WARNING_COLOR, clock, nodeId } from './treeNodes';

export function permissionLabel(permission: PermissionModel): string {
  const what = permission.command ?? permission.patterns.join(', ');
  return what ? `${permission.permission}: ${truncate(what.replace(/\s+/g, ' '), 100)}` : permission.permission;
}

export function permissionNode(permission: PermissionModel, session: SessionModel, parentId: string, now: number, terminal: boolean): PresentedNode {
  const lines = [
    `**${escapeMarkdown(sessionLabel(session))}** asks permission for ${inlineCode(permission.permission)}`,
    '',
  ];
  if (permission.command) lines.push('```sh', permission.command.replace(/```/g, '` ` `'), '```', '');
  lines.push(
    ...fieldLines([
      ['Patterns', permission.patterns.length ? permission.patterns.map(inlineCode).join(', ') : undefined],
      ['“Always” allows', permission.always.length ? permission.always.map(inlineCode).join(', ') : undefined],
      ['Asked at', clock(permission.askedAt)],
    ]).map((l) => `${l}  `),
  );
  return {
    id: nodeId.permission(permission.id),
    kind: 'permission',
    parentId,
    childIds: [],
    label: permissionLabel(permission),
    // A port-less TUI has no API to answer through: only its terminal can.
    description: `${session.source !== 'live' ? 'answer in its terminal' : 'needs approval'} · ${formatDuration(now - permission.askedAt)}`,
    icon: { id: 'shield', color: WARNING_COLOR },
    contextValue: session.source !== 'live' ? 'permission+terminal' : `permission${terminal ? TERMINAL_FLAG : ''}`,
    ...(session.source !== 'live' ? { command: { id: CommandId.focusTerminal, title: 'Focus Terminal' } } : {}),
    tooltip: lines.join('\n'),
    collapsible: 'none',
    ref: { instanceId: session.instanceId, sessionId: session.id, permissionId: permission.id },
  };
}

export function questionLabel(question: QuestionModel): string {
  const first = question.questions[0];
  const text = first ? first.question.trim() || first.header || 'Question' : 'Question';
  const more = question.questions.length > 1 ? ` (+${question.questions.length - 1} more)` : '';
  return `${truncate(text.replace(/\s+/g, ' '), 100)}${more}`;
}

export function questionNode(question: QuestionModel, session: SessionModel, parentId: string, now: number, terminal: boolean): PresentedNode {
  const lines = [`**${escapeMarkdown(sessionLabel(session))}** asks:`, ''];
  for (const q of question.questions) {
    lines.push(`${q.header ? `**${escapeMarkdown(q.header)}:** ` : ''}${escapeMarkdown(q.question)}`, '');
    for (const o of q.options) lines.push(`- ${escapeMarkdown(o.label)}${o.description ? ` — ${escapeMarkdown(o.description)}` : ''}`);
    if (q.options.length) lines.push('');
  }
  return {
    id: nodeId.question(question.id),
    kind: 'question',
    parentId,
    childIds: [],
    label: questionLabel(question),
    // Most important first; the header and the options are in the tooltip.
    description: `${session.source !== 'live' ? 'answer in its terminal' : 'question'} · ${formatDuration(now - question.askedAt)}`,
    icon: { id: 'question', color: WARNING_COLOR },
    contextValue: session.source !== 'live' ? 'question+terminal' : `question${terminal ? TERMINAL_FLAG : ''}`,
    tooltip: lines.join('\n').trimEnd(),
    collapsible: 'none',
    command: session.source !== 'live' ? { id: CommandId.focusTerminal, title: 'Focus Terminal' } : { id: CommandId.answerQuestion, title: 'Answer Question' },
    ref: { instanceId: session.instanceId, sessionId: session.id, questionId: question.id },
  };
}
