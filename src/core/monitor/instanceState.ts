/**
 * The live state of one OpenCode server, kept current by its events and replaced wholesale by
 * each reconciliation fetch. Every method returns the ids of the sessions it changed, so that
 * consumers refresh only those.
 */
import { requestAskedAt } from '../opencode/ids';
import type { OpencodeEvent } from '../opencode/events';
import type { WireMessage, WirePart, WirePermissionRequest, WireQuestionRequest, WireSession, WireSessionStatus, WireStatusMap, WireTodo } from '../opencode/schemas';
import type { RunningTool, SessionModel } from '../model/model';
import { toolArg } from '../model/toolArg';
import { MAX_UNLISTED_SESSIONS } from './floodLimits';
import { LiveRisk } from './liveRisk';
import type { LiveSession, ModelOptions } from './liveSession';
import { goIdle, sessionModelOf, staleModel, toolStart } from './liveSession';
import { lastAssistantParts, runningTool, sessionErrorText, sessionInfoKey, statusKey, toPermission, toQuestion } from './wireParts';

export type { ModelOptions } from './liveSession';

export interface SessionDetails {
  messages?: WireMessage[];
  todos?: WireTodo[];
}

/** One reconciliation fetch of a server: the lists, plus details of the sessions worth it. */
export interface ReconcileData {
  /** The full session list; `undefined` in a light round (status, permissions, questions only). */
  sessions?: WireSession[];
  status: WireStatusMap;
  /** `undefined` when the server has no permission API (then the heuristic applies). */
  permissions?: WirePermissionRequest[];
  questions?: WireQuestionRequest[];
  details: Map<string, SessionDetails>;
}

export class InstanceState {
  private readonly sessions = new Map<string, LiveSession>();
  /** Sessions known only from events (never listed, no info): bounded (floodLimits.ts). */
  private readonly unlisted = new Set<string>();

  constructor(
    private readonly now: () => number = Date.now,
    /** Risk of tool calls and permissions (issue 15), with the sequences of each session and its sub-agents. */
    private readonly risk: LiveRisk = new LiveRisk({ now }),
  ) {}

  private readonly parentOf = (id: string): string | undefined => this.sessions.get(id)?.info?.parentID;

  /** A tool part seen: its running-tool row (with its risk) if it runs; `alertFor` names a root session whose alert it raised. */
  private toolOf(part: WirePart, directory: string | undefined, parentOf = this.parentOf): { tool?: RunningTool; alertFor?: string } {
    const tool = runningTool(part);
    const state = part.state;
    if (part.type !== 'tool' || !state) return {};
    const seen = this.risk.tool(
      { sessionId: part.sessionID, callID: part.callID ?? part.id, tool: part.tool ?? 'tool', status: state.status, input: state.input, directory, arg: tool?.arg ?? toolArg(part.tool ?? 'tool', state.input, state.title) },
      parentOf,
    );
    return { ...(tool ? { tool: seen.risk ? { ...tool, risk: seen.risk } : tool } : {}), ...(seen.alertFor ? { alertFor: seen.alertFor } : {}) };
  }

  get sessionIds(): string[] {
    return [...this.sessions.keys()];
  }

  has(sessionId: string): boolean {
    return this.sessions.has(sessionId);
  }

  /** This server runs (or ran most recently) the session: its live state is authoritative. */
  activeAt(sessionId: string): number | undefined {
    const s = this.sessions.get(sessionId);
    if (!s) return undefined;
    if (s.status || s.permissions.size || s.questions.size || s.tools.size) return this.now();
    return s.activeAt;
  }

  /** Replaces everything with a fresh fetch; returns the sessions whose model changed. */
  reconcile(data: ReconcileData): Set<string> {
    const before = this.fingerprints();
    const now = this.now();
    const next = new Map<string, LiveSession>();
    const ensure = (id: string): LiveSession => {
      let s = next.get(id);
      if (!s) {
        const old = this.sessions.get(id);
        s = { tools: new Map(), permissions: new Map(), questions: new Map(), activeAt: old?.activeAt, lastError: old?.lastError };
        next.set(id, s);
      }
      return s;
    };
    if (data.sessions) for (const info of data.sessions) ensure(info.id).info = info;
    else for (const [id, old] of this.sessions) if (old.info) ensure(id).info = old.info;
    for (const [id, status] of Object.entries(data.status)) {
      if (status.type === 'idle') continue;
      const s = ensure(id);
      s.status = status;
      s.activeAt = now;
    }
    const parentOf = (id: string) => (next.get(id)?.info ?? this.sessions.get(id)?.info)?.parentID;
    for (const [id, details] of data.details) {
      const s = ensure(id);
      if (details.todos) s.todos = details.todos;
      if (details.messages && s.status) {
        for (const part of lastAssistantParts(details.messages)) {
          const { tool } = this.toolOf(part, s.info?.directory, parentOf);
          if (tool) s.tools.set(part.id, tool);
        }
      }
    }
    // Todos and tools of sessions not fetched this time stay as they were.
    for (const [id, s] of next) {
      const old = this.sessions.get(id);
      if (!old) continue;
      if (!data.details.get(id)?.todos && old.todos) s.todos = old.todos;
      if (s.status && !data.details.get(id)?.messages) for (const [k, v] of old.tools) s.tools.set(k, v);
    }
    if (data.permissions) {
      for (const request of data.permissions) {
        const s = ensure(request.sessionID);
        const known = this.sessions.get(request.sessionID)?.permissions.get(request.id);
        const risk = this.risk.permission(request, s.info?.directory, parentOf);
        s.permissions.set(request.id, toPermission(request, known?.askedAt ?? requestAskedAt(request.id, now, toolStart(s, request.tool?.callID)) ?? now, risk));
        s.activeAt = now;
      }
    }
    if (data.questions) {
      for (const request of data.questions) {
        const s = ensure(request.sessionID);
        const known = this.sessions.get(request.sessionID)?.questions.get(request.id);
        s.questions.set(request.id, toQuestion(request, known?.askedAt ?? requestAskedAt(request.id, now, toolStart(s, request.tool?.callID)) ?? now));
        s.activeAt = now;
      }
    }
    this.sessions.clear();
    this.unlisted.clear();
    for (const [id, s] of next) {
      this.sessions.set(id, s);
      if (!s.info) this.unlisted.add(id);
    }
    return diff(before, this.fingerprints());
  }

  /** Session ids this server runs according to a status map but that we know nothing of. */
  unknownIn(status: WireStatusMap): string[] {
    return Object.keys(status).filter((id) => !this.sessions.get(id)?.info);
  }

  /** Busy/retry sessions whose running tools were never fetched nor reported. */
  statusDiffers(id: string, status: WireSessionStatus | undefined): boolean {
    const mine = this.sessions.get(id)?.status;
    const theirs = status && status.type !== 'idle' ? status.type : undefined;
    return (mine?.type ?? undefined) !== theirs;
  }

  /** The session infos known to this server, newest first. */
  infos(): WireSession[] {
    const out: WireSession[] = [];
    for (const s of this.sessions.values()) if (s.info) out.push(s.info);
    return out.sort((a, b) => b.time.updated - a.time.updated);
  }

  /** Applies one event; returns the sessions whose model changed (empty: nothing to show). */
  apply(event: OpencodeEvent): Set<string> {
    const changed = new Set<string>();
    const touch = (id: string | undefined, mutate: (s: LiveSession) => boolean | void) => {
      if (!id) return;
      let s = this.sessions.get(id);
      const created = !s;
      if (!s && this.unlisted.size >= MAX_UNLISTED_SESSIONS && event.type !== 'session.created' && event.type !== 'session.updated') return;
      if (!s) s = { tools: new Map(), permissions: new Map(), questions: new Map() };
      const result = mutate(s);
      if (s.info) this.unlisted.delete(id);
      else if (created) this.unlisted.add(id);
      if (created || result !== false) {
        this.sessions.set(id, s);
        if (result !== false) changed.add(id);
      }
    };
    const now = this.now();
    switch (event.type) {
      case 'session.created':
      case 'session.updated': {
        const info = event.properties.info;
        touch(info.id, (s) => {
          const same = s.info !== undefined && sessionInfoKey(s.info) === sessionInfoKey(info);
          s.info = info;
          return !same;
        });
        break;
      }
      case 'session.deleted':
        this.unlisted.delete(event.properties.info.id);
        this.risk.forget(event.properties.info.id);
        if (this.sessions.delete(event.properties.info.id)) changed.add(event.properties.info.id);
        break;
      case 'session.status': {
        const { sessionID, status } = event.properties;
        touch(sessionID, (s) => {
          s.activeAt = now;
          if (status.type === 'idle') return goIdle(s);
          const same = s.status !== undefined && statusKey(s.status) === statusKey(status);
          s.status = status;
          if (status.type === 'busy' && s.lastError) {
            s.lastError = undefined;
            return true;
          }
          return !same;
        });
        break;
      }
      case 'session.idle':
        touch(event.properties.sessionID, (s) => {
          s.activeAt = now;
          return goIdle(s);
        });
        break;
      case 'session.error': {
        const { sessionID, error } = event.properties;
        touch(sessionID, (s) => {
          s.activeAt = now;
          s.lastError = sessionErrorText(error?.name, error?.data);
        });
        break;
      }
      case 'message.updated': {
        const info = event.properties.info;
        if (info.error && info.role === 'assistant') {
          touch(info.sessionID, (s) => {
            const text = sessionErrorText(info.error?.name, info.error?.data);
            if (s.lastError === text) return false;
            s.lastError = text;
            return true;
          });
        }
        break;
      }
      case 'message.part.updated': {
        const part = event.properties.part;
        if (part.type !== 'tool') break;
        let alertFor: string | undefined;
        touch(part.sessionID, (s) => {
          s.activeAt = now;
          const seen = this.toolOf(part, s.info?.directory);
          const tool = seen.tool;
          alertFor = seen.alertFor;
          const old = s.tools.get(part.id);
          if (tool) {
            if (old && old.arg === tool.arg && old.childSessionId === tool.childSessionId && old.startedAt === tool.startedAt && old.risk?.score === tool.risk?.score) return false;
            s.tools.set(part.id, tool);
            return true;
          }
          return s.tools.delete(part.id) || alertFor === part.sessionID;
        });
        if (alertFor && this.sessions.has(alertFor)) changed.add(alertFor);
        break;
      }
      case 'message.part.removed':
        touch(event.properties.sessionID, (s) => s.tools.delete(event.properties.partID));
        break;
      case 'todo.updated':
        touch(event.properties.sessionID, (s) => {
          const same = s.todos !== undefined && JSON.stringify(s.todos) === JSON.stringify(event.properties.todos);
          s.todos = event.properties.todos;
          return !same;
        });
        break;
      case 'permission.asked': {
        const request = event.properties;
        touch(request.sessionID, (s) => {
          s.activeAt = now;
          const risk = this.risk.permission(request, s.info?.directory, this.parentOf);
          s.permissions.set(request.id, toPermission(request, s.permissions.get(request.id)?.askedAt ?? now, risk));
        });
        break;
      }
      case 'permission.replied':
        touch(event.properties.sessionID, (s) => s.permissions.delete(event.properties.requestID));
        break;
      case 'question.asked': {
        const request = event.properties;
        touch(request.sessionID, (s) => {
          s.activeAt = now;
          s.questions.set(request.id, toQuestion(request, s.questions.get(request.id)?.askedAt ?? now));
        });
        break;
      }
      case 'question.replied':
      case 'question.rejected':
        touch(event.properties.sessionID, (s) => s.questions.delete(event.properties.requestID));
        break;
      default:
        break;
    }
    return changed;
  }

  /** Drops everything (the server went away). Returns the sessions that were there. */
  clear(): Set<string> {
    const ids = new Set(this.sessions.keys());
    this.sessions.clear();
    return ids;
  }

  /** The normalized model of one session, or undefined when its info is not known yet. */
  toModel(sessionId: string, instanceId: string, options: ModelOptions): SessionModel | undefined {
    const s = this.sessions.get(sessionId);
    if (!s?.info) return undefined;
    const model = sessionModelOf(s, s.info, instanceId, options, this.now());
    if (options.stale) return staleModel(model);
    // A request that arrived before its tool part gets the risk its call has since (with sequences).
    const permissions = model.permissions.map((p) => {
      const call = this.risk.callRisk(sessionId, p.callID, this.parentOf);
      return call && call.score > (p.risk?.score ?? 0) ? { ...p, risk: call } : p;
    });
    const riskAlert = this.risk.alertOf(sessionId);
    return { ...model, permissions, ...(riskAlert ? { riskAlert } : {}) };
  }

  private fingerprints(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [id, s] of this.sessions) {
      out.set(
        id,
        JSON.stringify([
          s.info ? sessionInfoKey(s.info) : null,
          s.status ? statusKey(s.status) : null,
          [...s.tools.entries()],
          s.todos ?? null,
          [...s.permissions.keys()],
          [...s.questions.keys()],
          s.lastError ?? null,
          this.risk.alertOf(id)?.callID ?? null,
        ]),
      );
    }
    return out;
  }
}

function diff(before: Map<string, string>, after: Map<string, string>): Set<string> {
  const changed = new Set<string>();
  for (const [id, key] of after) if (before.get(id) !== key) changed.add(id);
  for (const id of before.keys()) if (!after.has(id)) changed.add(id);
  return changed;
}
