/**
 * The JSON of `opencode-monitor status --json`. Its fields are documented in the README and
 * kept stable: new fields may be added, none renamed or removed without a new schemaVersion.
 */
import type { InstanceModel, MonitorSnapshot, SessionModel, UsageModel } from '../core/model/model';

export interface StatusJson {
  schemaVersion: 1;
  generatedAt: string;
  summary: { instances: number; sessions: number; busy: number; needsAttention: number };
  instances: InstanceModel[];
  sessions: SessionModel[];
  usage: UsageModel | null;
}

export function toStatusJson(snapshot: MonitorSnapshot, now: number): StatusJson {
  return {
    schemaVersion: 1,
    generatedAt: new Date(now).toISOString(),
    summary: {
      instances: snapshot.instances.length,
      sessions: snapshot.sessions.length,
      busy: snapshot.sessions.filter((s) => s.status !== 'idle').length,
      needsAttention: snapshot.sessions.filter((s) => s.needsAttention).length,
    },
    instances: snapshot.instances,
    sessions: snapshot.sessions,
    usage: snapshot.usage ?? null,
  };
}
