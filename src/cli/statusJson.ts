/**
 * The JSON of `opencode-monitor status --json`. Its fields are documented in the README and
 * kept stable: new fields may be added, none renamed or removed without a new schemaVersion.
 */
import type { InstanceModel, MonitorSnapshot, SessionModel, UsageModel } from '../core/model/model';
import { countSessions } from '../core/model/counts';

export interface StatusJson {
  schemaVersion: 1;
  generatedAt: string;
  summary: { instances: number; sessions: number; busy: number; needsAttention: number };
  instances: InstanceModel[];
  sessions: SessionModel[];
  usage: UsageModel | null;
}

function countSummary(sessions: SessionModel[]): { sessions: number; busy: number; needsAttention: number } {
  const c = countSessions(sessions);
  return { sessions: c.sessions, busy: c.busy, needsAttention: c.needsYou };
}

export function toStatusJson(snapshot: MonitorSnapshot, now: number): StatusJson {
  return {
    schemaVersion: 1,
    generatedAt: new Date(now).toISOString(),
    summary: {
      instances: snapshot.instances.length,
      // Top-level sessions, by the one counting rule of every view (src/core/model/counts.ts).
      ...countSummary(snapshot.sessions),
    },
    instances: snapshot.instances,
    sessions: snapshot.sessions,
    usage: snapshot.usage ?? null,
  };
}
