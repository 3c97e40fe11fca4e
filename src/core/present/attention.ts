/**
 * Which sessions need the user, in which order to visit them, and when a new incident starts
 * (for notifications). Pure: the caller passes snapshots in.
 */
import { truncate } from './format';
import { plainText } from './neutralize';
import type { AgentKind, MonitorSnapshot, PermissionModel, QuestionModel, SessionModel } from '../model/model';
import { AGENT_NAMES } from '../model/model';
import { permissionLabel, questionLabel, sessionLabel } from './tree';
import { riskSuffix } from './risk';
import { compareIds } from '../util/compareIds';

/** Longest-waiting first: the order "Jump to Next Session Needing Me" walks. */
export function sessionsNeedingYou(snapshot: MonitorSnapshot): SessionModel[] {
  return snapshot.sessions
    .filter((s) => s.needsAttention)
    .sort((a, b) => (a.waitingSince ?? Infinity) - (b.waitingSince ?? Infinity) || compareIds(a.id, b.id));
}

/** The session after `afterId` in that order, wrapping around; the first when `afterId` is gone. */
export function nextNeedingYou(snapshot: MonitorSnapshot, afterId?: string): SessionModel | undefined {
  const list = sessionsNeedingYou(snapshot);
  if (list.length === 0) return undefined;
  const at = afterId === undefined ? -1 : list.findIndex((s) => s.id === afterId);
  return list[(at + 1) % list.length];
}

/** `agent` is the session's owning instance's agent (OpenCode when left out). */
export type Incident =
  | { kind: 'needsYou'; session: SessionModel; permission?: PermissionModel; question?: QuestionModel; agent?: AgentKind }
  | { kind: 'finished'; session: SessionModel; agent?: AgentKind };

/**
 * Turns successive snapshots into incidents: a session starts needing the user (one incident per
 * new permission or question, or per heuristic wait), or a busy root session goes idle.
 */
export class IncidentTracker {
  private pending = new Set<string>();
  private busy = new Set<string>();

  update(snapshot: MonitorSnapshot): Incident[] {
    const incidents: Incident[] = [];
    const pending = new Set<string>();
    const busy = new Set<string>();
    const agentOf = new Map(snapshot.instances.map((i) => [i.id, i.agent]));
    for (const session of snapshot.sessions) {
      const agent = agentOf.get(session.instanceId);
      const tag = agent && agent !== 'opencode' ? { agent } : {};
      if (session.needsAttention) {
        const keys = attentionKeys(session);
        for (const key of keys) pending.add(key);
        const fresh = keys.filter((k) => !this.pending.has(k));
        if (fresh.length > 0) {
          const permission = session.permissions.find((p) => fresh.includes(`permission:${p.id}`));
          const question = session.questions.find((q) => fresh.includes(`question:${q.id}`));
          incidents.push({ kind: 'needsYou', session, ...(permission ? { permission } : question ? { question } : {}), ...tag });
        }
      }
      if (session.status !== 'idle') busy.add(session.id);
      // Stale (its server stopped answering) is not finished: it stays busy until known again.
      else if (session.stale) {
        if (this.busy.has(session.id)) busy.add(session.id);
      } else if (this.busy.has(session.id) && !session.needsAttention && !session.parentId) incidents.push({ kind: 'finished', session, ...tag });
    }
    this.pending = pending;
    this.busy = busy;
    return incidents;
  }
}

function attentionKeys(session: SessionModel): string[] {
  const keys = [...session.permissions.map((p) => `permission:${p.id}`), ...session.questions.map((q) => `question:${q.id}`)];
  return keys.length > 0 ? keys : [`waiting:${session.id}:${session.waitingSince ?? ''}`];
}

/** The text of a notification for an incident: outside text neutralised (VS Code renders links in it). */
export function incidentMessage(incident: Incident): string {
  return plainText(rawIncidentMessage(incident));
}

function rawIncidentMessage(incident: Incident): string {
  const title = `“${truncate(sessionLabel(incident.session), 60)}”`;
  const who = `${AGENT_NAMES[incident.agent ?? 'opencode']} session`;
  if (incident.kind === 'finished') {
    return incident.session.lastError
      ? `${who} ${title} stopped: ${truncate(incident.session.lastError, 120)}`
      : `${who} ${title} finished.`;
  }
  if (incident.permission) return `${who} ${title} asks permission to run ${permissionLabel(incident.permission)}${riskSuffix(incident.permission.risk)}`;
  if (incident.question) return `${who} ${title} asks: ${questionLabel(incident.question)}`;
  if (incident.session.waitingFor) return `${who} ${title} is waiting: ${truncate(incident.session.waitingFor, 60)}.`;
  const tool = incident.session.runningTools[incident.session.runningTools.length - 1];
  return `${who} ${title} may be waiting for permission${tool ? ` (${tool.name} running)` : ''}.`;
}
