/** Snapshot building, instances: what one entry's row says (connection, problem text, hint, facts). */
import { redactUrl } from '../opencode/http';
import type { ContainerInfo, InstanceModel, InstanceProblem, ManagedInfo } from '../model/model';
import type { ManagedServerInfo } from '../servers/types';
import type { Entry } from './entries';
import type { ContainerTarget, LimitedSessionSource } from './ports';

const LIMITED_HINT = 'Start OpenCode with `--port 0` (or `opencode serve`) for live monitoring.';

export function instanceRow(entry: Entry, limitedSessions: LimitedSessionSource | undefined): InstanceModel {
  const p = entry.process;
  const watcher = entry.watcher;
  let connection: InstanceModel['connection'];
  let problem: InstanceProblem | undefined;
  let hint: string | undefined;
  const managed = entry.managed;
  if (watcher) {
    connection = watcher.connection;
    problem = watcher.problem;
    if (problem?.kind === 'auth') hint = 'Set the server password to monitor it.';
    else if (connection !== 'connected' && entry.container?.hint) hint = entry.container.hint;
  } else if (managed) {
    ({ connection, problem, hint } = managedConnection(managed));
  } else if (p && p.kind === 'tui' && p.ports.length === 0) {
    connection = 'limited';
    problem = { kind: 'noPort', text: 'limited (no port)' };
    const unavailable = limitedSessions?.unavailableReason;
    hint = unavailable ? `${LIMITED_HINT} Sessions from OpenCode's database are unavailable: ${unavailable}.` : LIMITED_HINT;
  } else {
    connection = 'connecting';
  }
  const pid = p?.pid ?? managed?.pid;
  const capabilities = watcher?.capabilities;
  return {
    id: entry.id,
    agent: 'opencode',
    kind: entry.kind,
    ...(entry.container ? { label: entry.container.name } : entry.endpoint?.label ? { label: entry.endpoint.label } : {}),
    ...(pid !== undefined ? { pid } : {}),
    ...(p ? { ppid: p.ppid } : {}),
    ...(entry.url ? { url: redactUrl(entry.url), port: portOf(entry.url) } : {}),
    ...(p?.tty ? { tty: p.tty } : {}),
    ...((p?.cwd ?? managed?.folder) ? { cwd: p?.cwd ?? managed?.folder } : {}),
    ...(p?.dataDir ? { dataDir: p.dataDir } : {}),
    ...((watcher?.version ?? entry.version) ? { version: watcher?.version ?? entry.version } : {}),
    connection,
    ...(problem ? { problem, error: problem.text } : {}),
    ...(hint ? { hint } : {}),
    ...(capabilities ? { capabilities: { v1: capabilities.v1, v2: capabilities.v2, permissions: capabilities.permissions, questions: capabilities.questions } } : {}),
    ...(managed ? { managed: managedInfo(managed) } : {}),
    ...(entry.container ? { container: containerInfo(entry.container) } : {}),
    sessionIds: [],
    firstSeen: entry.firstSeen,
  };
}

/** A managed server that is not watched right now: what its row says. */
function managedConnection(m: ManagedServerInfo): { connection: InstanceModel['connection']; problem?: InstanceProblem; hint?: string } {
  switch (m.state) {
    case 'starting':
      return { connection: 'connecting', problem: { kind: 'transition', text: 'starting' } };
    case 'waitingReady':
      return { connection: 'connecting', problem: { kind: 'transition', text: 'waiting until it answers' } };
    case 'stopping':
      return { connection: 'connecting', problem: { kind: 'transition', text: 'stopping' } };
    case 'running':
      return { connection: 'connecting' };
    case 'crashed':
    case 'stopped':
      return {
        connection: 'down',
        problem: { kind: 'stopped', text: m.lastError ?? m.state },
        hint: m.nextRestartAt !== undefined ? 'It is restarted automatically in a moment.' : 'Restart it, or look at its log.',
      };
  }
}

function managedInfo(m: ManagedServerInfo): ManagedInfo {
  return {
    serverId: m.id,
    state: m.state,
    folder: m.folder,
    ...(m.runningSince !== undefined ? { runningSince: m.runningSince } : {}),
    restarts: m.restarts,
    ...(m.state === 'crashed' && m.nextRestartAt !== undefined ? { restartPending: true } : {}),
    ...(m.lastError ? { lastError: m.lastError } : {}),
    ...(m.logFile ? { logFile: m.logFile } : {}),
    passwordProtected: m.passwordProtected,
  };
}

function containerInfo(c: ContainerTarget): ContainerInfo {
  return { id: c.id, name: c.name, image: c.image, hostPort: c.hostPort, containerPort: c.containerPort };
}

function portOf(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (u.port) return Number(u.port);
    return u.protocol === 'https:' ? 443 : 80;
  } catch {
    return undefined;
  }
}
