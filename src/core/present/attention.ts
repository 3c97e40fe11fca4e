/**
 * Which sessions need the user, in which order to visit them, and when a new incident starts
 * (for notifications). Pure: the caller passes snapshots in.
 */
import { truncate } from './format';
import { plainText } from './neutralize';
import type { MonitorSnapshot, PermissionModel, QuestionModel, SessionModel } from '../model/model';
import { permissionLabel, questionLabel, sessionLabel } from './tree';
import { riskSuffix } from './risk';

/** Longest-waiting first: the order "Jump to Next Session Needing Me" walks. */
export function sessionsNeedingYou(snapshot: MonitorSnapshot): SessionModel[] {
  return snapshot.sessions
    .filter((s) => s.needsAttention)
    .sort((a, b) => (a.waitingSince ?? Infinity) - (b.waitingSince ?? Infinity) || a.id.localeCompare(b.id));
}

/** The session after `afterId` in that order, wrapping around; the first when `afterId` is gone. */
export function nextNeedingYou(snapshot: MonitorSnapshot, afterId?: string): SessionModel | undefined {
  const list = sessionsNeedingYou(snapshot);
  if (list.length === 0) return undefined;
  const at = afterId === undefined ? -1 : list.findIndex((s) => s.id === afterId);
  return list[(at + 1) % list.length];
}

export type Incident =
  | { kind: 'needsYou'; session: SessionModel; permission?: PermissionModel; question?: QuestionModel }
  | { kind: 'finished'; session: SessionModel };

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
    for (const session of snapshot.sessions) {
      if (session.needsAttention) {
        const keys = attentionKeys(session);
        for (const key of keys) pending.add(key);
        const fresh = keys.filter((k) => !this.pending.has(k));
        if (fresh.length > 0) {
          const permission = session.permissions.find((p) => fresh.includes(`permission:${p.id}`));
          const question = session.questions.find((q) => fresh.includes(`question:${q.id}`));
          incidents.push({ kind: 'needsYou', session, ...(permission ? { permission } : question ? { question } : {}) });
        }
      }
      if (session.status !== 'idle') busy.add(session.id);
      else if (this.busy.has(session.id) && !session.needsAttention && !session.parentId) incidents.push({ kind: 'finished', session });
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
  if (incident.kind === 'finished') {
    return incident.session.lastError
      ? `OpenCode session ${title} stopped: ${truncate(incident.session.lastError, 120)}`
      : `OpenCode session ${title} finished.`;
  }
  if (incident.permission) return `OpenCode session ${title} asks permission to run ${permissionLabel(incident.permission)}${riskSuffix(incident.permission.risk)}`;
  if (incident.question) return `OpenCode session ${title} asks: ${questionLabel(incident.question)}`;
  const tool = incident.session.runningTools[incident.session.runningTools.length - 1];
  return `OpenCode session ${title} may be waiting for permission${tool ? ` (${tool.name} running)` : ''}.`;
}
