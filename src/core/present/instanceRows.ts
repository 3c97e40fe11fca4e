/** Rows of the sessions tree for instances: the instance row, its notice and its empty row. */
import { formatDuration, instanceLabel, truncate } from './format';
import type { InstanceModel, SessionModel } from '../model/model';
import { AGENT_NAMES } from '../model/model';
import { countSessions } from '../model/counts';
import { CommandId } from './commandIds';
import { escapeMarkdown, fieldLines, inlineCode } from './markdown';
import type { IconSpec, PresentedNode } from './treeNodes';
import { ERROR_COLOR, TERMINAL_FLAG, WARNING_COLOR, clock, firstLine, nodeId } from './treeNodes';

/**
 * Whether "Focus Terminal" can find a terminal for the instance: a process with a controlling
 * terminal (a TUI, or a server started in a terminal). A headless `opencode serve` (a service,
 * a server this monitor started) has none, nor has a configured endpoint or a container. Windows reports no
 * TTY: there a TUI is assumed to run in a terminal.
 */
export function hasTerminal(instance: InstanceModel): boolean {
  // A managed server runs detached, without a terminal.
  if (instance.pid === undefined || instance.managed || instance.kind === 'endpoint' || instance.kind === 'container') return false;
  return instance.tty !== undefined || instance.kind === 'tui';
}

/**
 * Short, most important word first (a narrow sidebar cuts the end): what needs the user, what
 * works, then the state, then what it is. Counts follow the one rule (src/core/model/counts.ts);
 * the tooltip carries the rest.
 */
export function instanceDescription(instance: InstanceModel, sessions: readonly SessionModel[]): string {
  const counts = countSessions(sessions.filter((s) => s.instanceId === instance.id));
  const parts: string[] = [];
  if (counts.needsYou > 0) parts.push(`${counts.needsYou} waiting`);
  if (counts.busy > 0) parts.push(`${counts.busy} busy`);
  const state = instance.managed?.state;
  if (state === 'starting' || state === 'waitingReady') parts.push('starting…');
  else if (state === 'stopping') parts.push('stopping…');
  else if (state === 'crashed') parts.push(instance.managed?.restartPending ? 'crashed, restarting…' : 'crashed');
  else if (instance.connection === 'connecting') parts.push('connecting…');
  else if (instance.connection === 'down') parts.push('down');
  else if (instance.connection === 'limited') parts.push('no port');
  else if (parts.length === 0) parts.push(counts.sessions > 0 ? 'idle' : 'no sessions');
  if (instance.agent !== 'opencode') parts.push(AGENT_NAMES[instance.agent]);
  if (instance.managed) parts.push('managed');
  if (instance.container) parts.push('docker');
  return parts.join(' · ');
}

export function instanceIcon(instance: InstanceModel): IconSpec {
  if (instance.agent === 'claude') return { id: 'sparkle', color: 'charts.orange' };
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

export function instanceNode(instance: InstanceModel, sessions: readonly SessionModel[], childIds: string[], now: number): PresentedNode {
  return {
    id: nodeId.instance(instance.id),
    kind: 'instance',
    childIds,
    label: instanceLabel(instance),
    description: instanceDescription(instance, sessions),
    icon: instanceIcon(instance),
    // `+managed` adds Stop/Restart; menus match `^instance\+<connection>` so the generic actions stay.
    contextValue: `instance+${instance.agent === 'claude' ? 'claude' : instance.connection}${instance.managed ? '+managed' : ''}${hasTerminal(instance) ? TERMINAL_FLAG : ''}`,
    tooltip: instanceTooltip(instance, sessions, now),
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
export function instanceTooltip(instance: InstanceModel, sessions: readonly SessionModel[], now: number): string {
  const m = instance.managed;
  const c = instance.container;
  const counts = countSessions(sessions.filter((s) => s.instanceId === instance.id));
  const lines = [
    instance.agent === 'opencode'
      ? `**${escapeMarkdown(instanceLabel(instance))}** — OpenCode ${escapeMarkdown(instance.kind)}${m ? ', started by OpenCode Monitor' : ''}`
      : `**${escapeMarkdown(instanceLabel(instance))}** — ${AGENT_NAMES[instance.agent]}`,
    '',
    ...fieldLines([
      ['State', escapeMarkdown(CONNECTION_TEXT[instance.connection])],
      ['Sessions', counts.sessions > 0 ? `${counts.sessions} (${counts.busy} busy, ${counts.needsYou} waiting for you)` : undefined],
      ['Server', m ? escapeMarkdown(MANAGED_STATE_TEXT[m.state]) : undefined],
      ['Running since', m?.runningSince !== undefined && m.state === 'running' ? `${clock(m.runningSince)} (up ${uptime(now - m.runningSince)})` : undefined],
      ['Restarts', m && m.restarts > 0 ? m.restarts : undefined],
      ['Password', m?.passwordProtected ? 'required (kept in secret storage)' : undefined],
      // The file's name only: **Show Server Log** opens it (a full /tmp path is noise here).
      ['Log', m?.logFile ? inlineCode(m.logFile.split(/[\\/]/).pop() ?? m.logFile) : undefined],
      ['Container', c ? `${escapeMarkdown(c.name)} (${inlineCode(c.id)})` : undefined],
      ['Image', c ? inlineCode(c.image) : undefined],
      ['Ports', c ? `${c.hostPort} → ${c.containerPort}` : undefined],
      ['PID', instance.pid],
      // A server this monitor started is its child: its parent PID says nothing.
      ['Parent PID', m ? undefined : instance.ppid],
      ['TTY', instance.tty ? inlineCode(instance.tty) : undefined],
      ['tmux pane', instance.tmuxPane ? inlineCode(instance.tmuxPane) : undefined],
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

/** Whole minutes: `less than a minute`, `5m`, `2h 03m`. */
function uptime(ms: number): string {
  return ms < 60_000 ? 'less than a minute' : formatDuration(Math.floor(ms / 60_000) * 60_000);
}

export function noticeNode(instance: InstanceModel, parentId: string): PresentedNode | undefined {
  if (instance.connection === 'connected' || (!instance.hint && !instance.error)) return undefined;
  const needsPassword = instance.problem?.kind === 'auth' && instance.url !== undefined;
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

/**
 * Says why an instance row has nothing under it, and what would put something there; a row
 * at all because VS Code keeps an expanded row that started as a leaf collapsed.
 */
export function emptyNode(instance: InstanceModel, parentId: string): PresentedNode {
  const connecting = instance.connection === 'connecting';
  const where = instance.kind === 'tui' ? 'in its terminal' : 'from a client (`opencode attach`, the web UI)';
  return {
    id: nodeId.empty(instance.id),
    kind: 'notice',
    parentId,
    childIds: [],
    label: connecting ? 'Connecting…' : 'No recent sessions',
    ...(connecting ? {} : { description: instance.kind === 'tui' ? 'start one in its terminal' : 'waiting for a client' }),
    icon: connecting ? { id: 'loading~spin' } : { id: 'info' },
    contextValue: 'empty',
    tooltip: connecting ? 'Waiting for the server to answer.' : `This OpenCode instance has no running or recent session. Sessions started ${where} show here.`,
    collapsible: 'none',
    ref: { instanceId: instance.id },
  };
}
