/**
 * Pure mapping of a monitor snapshot to the rows of the sessions tree: ids, labels,
 * descriptions, icons, contextValues and tooltips. No `vscode` import, so it is unit-tested in
 * plain Node; `src/views/treeItems.ts` turns a PresentedNode into a vscode.TreeItem.
 *
 * Ids are built from the data's own identity (never its state), so expansion and selection
 * survive updates; `diffTrees` says which rows to refresh.
 */
import { formatDuration, instanceLabel, sessionActivity, truncate } from './format';
import type {
  InstanceModel,
  MonitorSnapshot,
  PermissionModel,
  QuestionModel,
  RunningTool,
  SessionModel,
  TodoItem,
} from '../model/model';
import { CommandId } from './commandIds';
import { escapeMarkdown, fieldLines, inlineCode } from './markdown';
import { withRisk, withRiskAlert } from './risk';

export type NodeKind = 'instance' | 'notice' | 'session' | 'permission' | 'question' | 'tool' | 'todos' | 'todo';

/** The identity a row points at: what commands invoked on it act on. */
export interface NodeRef {
  instanceId?: string;
  sessionId?: string;
  permissionId?: string;
  questionId?: string;
  /** Server URL (notices that ask for a password). */
  url?: string;
}

export interface IconSpec {
  /** Codicon id, e.g. `loading~spin`. */
  id: string;
  /** Theme color id. */
  color?: string;
}

export type Collapsible = 'none' | 'collapsed' | 'expanded';

export interface PresentedNode {
  id: string;
  kind: NodeKind;
  parentId?: string;
  childIds: string[];
  label: string;
  description?: string;
  icon: IconSpec;
  /** A type plus one flag at most, e.g. `session+needsYou`. */
  contextValue: string;
  /** Markdown (untrusted: no command links). */
  tooltip: string;
  collapsible: Collapsible;
  /** Run on click; the wrapper passes the row itself as the argument. */
  command?: { id: string; title: string };
  ref: NodeRef;
}

export interface PresentedTree {
  rootIds: string[];
  nodes: Map<string, PresentedNode>;
}

export const WARNING_COLOR = 'problemsWarningIcon.foreground';
export const ERROR_COLOR = 'problemsErrorIcon.foreground';

export const nodeId = {
  instance: (instanceId: string) => `instance:${instanceId}`,
  notice: (instanceId: string) => `notice:${instanceId}`,
  empty: (instanceId: string) => `empty:${instanceId}`,
  session: (sessionId: string) => `session:${sessionId}`,
  permission: (permissionId: string) => `permission:${permissionId}`,
  question: (questionId: string) => `question:${questionId}`,
  tool: (sessionId: string, callId: string) => `tool:${sessionId}:${callId}`,
  todos: (sessionId: string) => `todos:${sessionId}`,
  todo: (sessionId: string, index: number) => `todo:${sessionId}:${index}`,
};

export function emptyTree(): PresentedTree {
  return { rootIds: [], nodes: new Map() };
}

export function presentTree(snapshot: MonitorSnapshot, now: number): PresentedTree {
  const nodes = new Map<string, PresentedNode>();
  const sessionsById = new Map(snapshot.sessions.map((s) => [s.id, s]));
  const childrenOf = new Map<string, SessionModel[]>();
  const rootsOf = new Map<string, SessionModel[]>();
  for (const s of snapshot.sessions) {
    const parent = s.parentId !== undefined && s.parentId !== s.id ? sessionsById.get(s.parentId) : undefined;
    const list = parent ? childrenOf : rootsOf;
    const key = parent ? parent.id : s.instanceId;
    const bucket = list.get(key) ?? [];
    bucket.push(s);
    list.set(key, bucket);
  }
  const add = (node: PresentedNode): string => {
    nodes.set(node.id, node);
    return node.id;
  };
  const visited = new Set<string>();

  const addSession = (session: SessionModel, parentId: string): string => {
    visited.add(session.id);
    const id = nodeId.session(session.id);
    const childIds: string[] = [];
    for (const p of session.permissions) childIds.push(add(withRisk(permissionNode(p, session, id, now), p.risk)));
    for (const q of session.questions) childIds.push(add(questionNode(q, session, id, now)));
    const subAgents = (childrenOf.get(session.id) ?? []).filter((c) => !visited.has(c.id)).sort(byCreated);
    for (const child of subAgents) childIds.push(addSession(child, id));
    const shownChildren = new Set(subAgents.map((c) => c.id));
    for (const tool of visibleTools(session, shownChildren)) childIds.push(add(withRisk(toolNode(tool, session, id, now), tool.risk)));
    if (session.todos.total > 0) {
      const todosId = nodeId.todos(session.id);
      const itemIds = session.todos.items.map((item, index) => add(todoNode(item, index, session, todosId)));
      add(todosNode(session, id, itemIds));
      childIds.push(todosId);
    }
    add(withRiskAlert(sessionNode(session, parentId, childIds, now), session.riskAlert));
    return id;
  };

  const rootIds: string[] = [];
  for (const instance of snapshot.instances) {
    const id = nodeId.instance(instance.id);
    const childIds: string[] = [];
    const notice = noticeNode(instance, id);
    if (notice) childIds.push(add(notice));
    for (const session of (rootsOf.get(instance.id) ?? []).sort(byNewest)) childIds.push(addSession(session, id));
    if (childIds.length === 0) childIds.push(add(emptyNode(instance, id)));
    add(instanceNode(instance, snapshot.sessions, childIds, now));
    rootIds.push(id);
  }
  return { rootIds, nodes };
}

// ── Instances ──────────────────────────────────────────────────────────────

/**
 * busy/total over the instance's top-level sessions (a sub-agent's work is its parent's); a
 * session waiting for the user counts as waiting, not busy, as in the status bar.
 */
export function instanceDescription(instance: InstanceModel, sessions: readonly SessionModel[]): string {
  const ids = new Set(sessions.map((s) => s.id));
  const mine = sessions.filter((s) => s.instanceId === instance.id);
  const own = mine.filter((s) => !(s.parentId && ids.has(s.parentId)));
  const busy = own.filter((s) => s.status !== 'idle' && !s.needsAttention).length;
  const needs = mine.filter((s) => s.needsAttention).length;
  const parts: string[] = [];
  if (instance.managed) parts.push('managed');
  if (instance.container) parts.push('docker');
  if (own.length > 0 || instance.connection === 'connected') parts.push(`${busy}/${own.length} busy`);
  if (needs > 0) parts.push(`${needs} need${needs === 1 ? 's' : ''} you`);
  const state = instance.managed?.state;
  if (state === 'starting' || state === 'waitingReady') parts.push('starting…');
  else if (state === 'stopping') parts.push('stopping…');
  else if (state === 'crashed') parts.push(instance.managed?.restartPending ? 'crashed, restarting…' : instance.error ? `crashed: ${truncate(firstLine(instance.error), 40)}` : 'crashed');
  else if (instance.connection === 'connecting') parts.push('connecting…');
  if (instance.connection === 'limited') parts.push('not live');
  if (instance.connection === 'down' && state !== 'crashed') parts.push(instance.error ? `down: ${truncate(firstLine(instance.error), 40)}` : 'down');
  return parts.join(' · ');
}

export function instanceIcon(instance: InstanceModel): IconSpec {
  if (instance.managed) {
    switch (instance.managed.state) {
      case 'crashed':
        return { id: 'error', color: ERROR_COLOR };
      case 'starting':
      case 'waitingReady':
      case 'stopping':
        return { id: 'loading~spin' };
      default:
        return instance.connection === 'connected' ? { id: 'server-process', color: 'charts.green' } : { id: 'server-process' };
    }
  }
  switch (instance.connection) {
    case 'connected':
      return { id: 'vm-running', color: 'charts.green' };
    case 'connecting':
      return { id: 'vm-connect' };
    case 'limited':
      return { id: 'vm-outline', color: 'charts.yellow' };
    case 'down':
      return { id: 'debug-disconnect', color: ERROR_COLOR };
  }
}

function instanceNode(instance: InstanceModel, sessions: readonly SessionModel[], childIds: string[], now: number): PresentedNode {
  return {
    id: nodeId.instance(instance.id),
    kind: 'instance',
    childIds,
    label: instanceLabel(instance),
    description: instanceDescription(instance, sessions),
    icon: instanceIcon(instance),
    // `+managed` adds Stop/Restart; menus match `^instance\+<connection>` so the generic actions stay.
    contextValue: `instance+${instance.connection}${instance.managed ? '+managed' : ''}`,
    tooltip: instanceTooltip(instance, now),
    // Expanded even while empty: VS Code keeps a row that started as a leaf collapsed once it has children.
    collapsible: 'expanded',
    ref: { instanceId: instance.id, ...(instance.url ? { url: instance.url } : {}) },
  };
}

const CONNECTION_TEXT: Record<InstanceModel['connection'], string> = {
  connected: 'connected (live)',
  connecting: 'connecting',
  limited: 'limited: no port, sessions from the shared database',
  down: 'not answering',
};

const MANAGED_STATE_TEXT: Record<NonNullable<InstanceModel['managed']>['state'], string> = {
  stopped: 'stopped',
  starting: 'starting',
  waitingReady: 'started, waiting until it answers',
  running: 'running',
  stopping: 'stopping',
  crashed: 'crashed',
};

/**
 * A row refreshes when its tooltip changes (VS Code keeps a resolved tooltip until then): the
 * uptime of a running managed server is in whole minutes, so that happens once a minute.
 */
export function instanceTooltip(instance: InstanceModel, now: number): string {
  const m = instance.managed;
  const c = instance.container;
  const lines = [
    `**${escapeMarkdown(instanceLabel(instance))}** — OpenCode ${escapeMarkdown(instance.kind)}${m ? ', started by OpenCode Monitor' : ''}`,
    '',
    ...fieldLines([
      ['State', escapeMarkdown(CONNECTION_TEXT[instance.connection])],
      ['Server', m ? escapeMarkdown(MANAGED_STATE_TEXT[m.state]) : undefined],
      ['Running since', m?.runningSince !== undefined && m.state === 'running' ? `${clock(m.runningSince)} (up ${uptime(now - m.runningSince)})` : undefined],
      ['Restarts', m && m.restarts > 0 ? m.restarts : undefined],
      ['Password', m?.passwordProtected ? 'required (kept in secret storage)' : undefined],
      ['Log', m?.logFile ? inlineCode(m.logFile) : undefined],
      ['Container', c ? `${escapeMarkdown(c.name)} (${inlineCode(c.id)})` : undefined],
      ['Image', c ? inlineCode(c.image) : undefined],
      ['Ports', c ? `${c.hostPort} → ${c.containerPort}` : undefined],
      ['PID', instance.pid],
      ['Parent PID', instance.ppid],
      ['TTY', instance.tty ? inlineCode(instance.tty) : undefined],
      ['URL', instance.url ? inlineCode(instance.url) : undefined],
      ['Version', instance.version ? escapeMarkdown(instance.version) : undefined],
      ['Folder', instance.cwd ? inlineCode(instance.cwd) : undefined],
      ['Error', instance.error ? escapeMarkdown(instance.error) : undefined],
    ]).map((l) => `${l}  `),
  ];
  // The hint is the core's own text and uses `code` on purpose.
  if (instance.hint) lines.push('', instance.hint);
  return lines.join('\n');
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

/** Whole minutes: `less than a minute`, `5m`, `2h 03m`. */
function uptime(ms: number): string {
  return ms < 60_000 ? 'less than a minute' : formatDuration(Math.floor(ms / 60_000) * 60_000);
}

function noticeNode(instance: InstanceModel, parentId: string): PresentedNode | undefined {
  if (instance.connection === 'connected' || (!instance.hint && !instance.error)) return undefined;
  const needsPassword = instance.error === 'password required' && instance.url !== undefined;
  const state = instance.managed?.state;
  const transient = state === 'starting' || state === 'waitingReady' || state === 'stopping';
  const showLog = instance.managed?.logFile !== undefined && !transient;
  return {
    id: nodeId.notice(instance.id),
    kind: 'notice',
    parentId,
    childIds: [],
    // A start failure carries stderr lines: the row shows the first, the tooltip all of them.
    label: instance.error ? truncate(firstLine(instance.error), 120) : 'not connected',
    ...(instance.hint ? { description: instance.hint.replace(/`/g, '') } : {}),
    icon: transient ? { id: 'loading~spin' } : instance.connection === 'down' ? { id: 'warning', color: WARNING_COLOR } : { id: 'info' },
    contextValue: needsPassword ? 'notice+password' : showLog ? 'notice+managed' : 'notice',
    tooltip: [instance.error ? `**${escapeMarkdown(instance.error)}**` : '', instance.hint ?? ''].filter(Boolean).join('\n\n'),
    collapsible: 'none',
    ...(needsPassword
      ? { command: { id: CommandId.setServerPassword, title: 'Set Server Password' } }
      : showLog
        ? { command: { id: CommandId.showServerLog, title: 'Show Server Log' } }
        : {}),
    ref: { instanceId: instance.id, ...(instance.url ? { url: instance.url } : {}) },
  };
}

/** Says why an instance row has nothing under it. */
function emptyNode(instance: InstanceModel, parentId: string): PresentedNode {
  const connecting = instance.connection === 'connecting';
  return {
    id: nodeId.empty(instance.id),
    kind: 'notice',
    parentId,
    childIds: [],
    label: connecting ? 'Connecting…' : 'No recent sessions',
    icon: connecting ? { id: 'loading~spin' } : { id: 'info' },
    contextValue: 'empty',
    tooltip: connecting ? 'Waiting for the server to answer.' : 'This OpenCode instance has no running or recent session.',
    collapsible: 'none',
    ref: { instanceId: instance.id },
  };
}

// ── Sessions ───────────────────────────────────────────────────────────────

export function sessionLabel(session: SessionModel): string {
  return session.title.trim() || `Untitled session ${session.id}`;
}

export function sessionIcon(session: SessionModel): IconSpec {
  if (session.needsAttention) return { id: 'bell', color: WARNING_COLOR };
  if (session.status === 'retry') return { id: 'warning', color: WARNING_COLOR };
  if (session.status === 'busy') return { id: 'loading~spin' };
  return { id: 'circle-outline' };
}

export function sessionContextValue(session: SessionModel): string {
  if (session.needsAttention) return 'session+needsYou';
  return session.status === 'idle' ? 'session+idle' : 'session+busy';
}

function sessionNode(session: SessionModel, parentId: string, childIds: string[], now: number): PresentedNode {
  return {
    id: nodeId.session(session.id),
    kind: 'session',
    parentId,
    childIds,
    label: sessionLabel(session),
    description: sessionActivity(session, now),
    icon: sessionIcon(session),
    contextValue: sessionContextValue(session),
    tooltip: sessionTooltip(session),
    collapsible: childIds.length === 0 ? 'none' : session.needsAttention ? 'expanded' : 'collapsed',
    ref: { instanceId: session.instanceId, sessionId: session.id },
  };
}

function statusText(session: SessionModel): string {
  if (session.needsAttention) return session.attentionReason === 'heuristic' ? 'maybe waiting for permission' : 'waiting for you';
  return session.status === 'retry' ? 'retrying' : session.status;
}

/** Time-free on purpose: rows are refreshed when their tooltip changes, not every second. */
export function sessionTooltip(session: SessionModel): string {
  const tokens = session.tokens.input + session.tokens.output + session.tokens.reasoning;
  const todos = session.todos.total > 0 ? `${session.todos.completed}/${session.todos.total} done` : undefined;
  const lines = [
    `**${escapeMarkdown(sessionLabel(session))}**${session.parentId ? ' (sub-agent)' : ''}`,
    '',
    ...fieldLines([
      ['Status', statusText(session)],
      ['Session', inlineCode(session.id)],
      ['Folder', session.directory ? inlineCode(session.directory) : undefined],
      ['Agent', session.agentName ? escapeMarkdown(session.agentName) : undefined],
      ['Model', session.modelId ? escapeMarkdown(session.modelId) : undefined],
      ['Todos', todos],
      ['Tokens', tokens > 0 ? tokens.toLocaleString('en-US') : undefined],
      ['Cost', session.cost > 0 ? `$${session.cost.toFixed(2)}` : undefined],
      ['Last error', session.lastError ? escapeMarkdown(truncate(session.lastError, 300)) : undefined],
      ['Retry', session.retry ? `#${session.retry.attempt}: ${escapeMarkdown(truncate(session.retry.message, 300))}` : undefined],
    ]).map((l) => `${l}  `),
  ];
  if (session.source === 'db') lines.push('', '_Inferred from OpenCode’s database: the instance has no port._');
  return lines.join('\n');
}

/**
 * Newest first, and nothing else: rows must not move under the pointer when a session changes
 * state (its icon and the badge say that). Only a new session shifts the rows below it.
 */
function byNewest(a: SessionModel, b: SessionModel): number {
  return b.createdAt - a.createdAt || a.id.localeCompare(b.id);
}

function byCreated(a: SessionModel, b: SessionModel): number {
  return a.createdAt - b.createdAt || a.id.localeCompare(b.id);
}

// ── Requests ───────────────────────────────────────────────────────────────

export function permissionLabel(permission: PermissionModel): string {
  const what = permission.command ?? permission.patterns.join(', ');
  return what ? `${permission.permission}: ${truncate(what.replace(/\s+/g, ' '), 100)}` : permission.permission;
}

function permissionNode(permission: PermissionModel, session: SessionModel, parentId: string, now: number): PresentedNode {
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
    description: `${session.source === 'db' ? 'answer in its terminal' : 'needs approval'} · ${formatDuration(now - permission.askedAt)}`,
    icon: { id: 'shield', color: WARNING_COLOR },
    contextValue: session.source === 'db' ? 'permission+terminal' : 'permission',
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

function questionNode(question: QuestionModel, session: SessionModel, parentId: string, now: number): PresentedNode {
  const lines = [`**${escapeMarkdown(sessionLabel(session))}** asks:`, ''];
  for (const q of question.questions) {
    lines.push(`${q.header ? `**${escapeMarkdown(q.header)}:** ` : ''}${escapeMarkdown(q.question)}`, '');
    for (const o of q.options) lines.push(`- ${escapeMarkdown(o.label)}${o.description ? ` — ${escapeMarkdown(o.description)}` : ''}`);
    if (q.options.length) lines.push('');
  }
  const header = question.questions[0]?.header;
  return {
    id: nodeId.question(question.id),
    kind: 'question',
    parentId,
    childIds: [],
    label: questionLabel(question),
    description: `${header ? `${truncate(header, 30)} · ` : ''}${session.source === 'db' ? 'answer in its terminal' : 'question'} · ${formatDuration(now - question.askedAt)}`,
    icon: { id: 'question', color: WARNING_COLOR },
    contextValue: session.source === 'db' ? 'question+terminal' : 'question',
    tooltip: lines.join('\n').trimEnd(),
    collapsible: 'none',
    command: session.source === 'db' ? { id: CommandId.focusTerminal, title: 'Focus Terminal' } : { id: CommandId.answerQuestion, title: 'Answer Question' },
    ref: { instanceId: session.instanceId, sessionId: session.id, questionId: question.id },
  };
}

// ── Tools and todos ────────────────────────────────────────────────────────

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

function toolNode(tool: RunningTool, session: SessionModel, parentId: string, now: number): PresentedNode {
  return {
    id: nodeId.tool(session.id, tool.callID),
    kind: 'tool',
    parentId,
    childIds: [],
    label: toolLabel(tool),
    ...(tool.startedAt !== undefined ? { description: formatDuration(now - tool.startedAt) } : {}),
    icon: { id: TOOL_ICONS[tool.name] ?? 'tools' },
    contextValue: 'tool',
    tooltip: [
      `Running ${inlineCode(tool.name)}${tool.startedAt !== undefined ? ` since ${clock(tool.startedAt)}` : ''}`,
      ...(tool.arg ? ['', '```', tool.arg.replace(/```/g, '` ` `'), '```'] : []),
    ].join('\n'),
    collapsible: 'none',
    ref: { instanceId: session.instanceId, sessionId: session.id },
  };
}

function todosNode(session: SessionModel, parentId: string, itemIds: string[]): PresentedNode {
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

function todoNode(item: TodoItem, index: number, session: SessionModel, parentId: string): PresentedNode {
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

// ── Change detection ───────────────────────────────────────────────────────

/**
 * The rows to refresh between two trees: `all` when the top level changed, otherwise the rows
 * whose own presentation or list of children changed, without those inside another refreshed
 * row (refreshing a row refreshes its subtree).
 */
export function diffTrees(prev: PresentedTree, next: PresentedTree): 'all' | string[] {
  if (!sameList(prev.rootIds, next.rootIds)) return 'all';
  const changed = new Set<string>();
  for (const [id, node] of next.nodes) {
    const before = prev.nodes.get(id);
    if (!before) continue; // new rows come with their parent's changed child list
    if (!sameList(before.childIds, node.childIds) || presentationKey(before) !== presentationKey(node)) changed.add(id);
  }
  const result: string[] = [];
  for (const id of changed) {
    let ancestor = next.nodes.get(id)?.parentId;
    let covered = false;
    while (ancestor !== undefined) {
      if (changed.has(ancestor)) {
        covered = true;
        break;
      }
      ancestor = next.nodes.get(ancestor)?.parentId;
    }
    if (!covered) result.push(id);
  }
  return result;
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}

function presentationKey(n: PresentedNode): string {
  return JSON.stringify([n.label, n.description, n.icon, n.contextValue, n.tooltip, n.collapsible, n.command, n.parentId]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
