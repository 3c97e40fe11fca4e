/**
 * The audit over OpenCode's own history (issue 15): every bash command, file read/write/edit and
 * URL fetch recorded in `opencode.db` for a window, scored with the rule engine, plus the
 * sequences completed within each root session (its sub-agents included). Runs in the history
 * worker (HistoryDb.toolCalls); bounded: at most MAX_AUDIT_CALLS tool calls, MAX_FINDINGS findings.
 * The `target` of a finding is the agent's own text (command, path, URL): views escape it.
 */
import type { HistoryDb } from '../history/historyDb';
import type { HistoryWindow, ToolCallRow } from '../history/types';
import { actionsFromTool } from './actions';
import type { AuditAction } from './engine';
import { defaultRules, scoreAction, sequencesOver } from './engine';
import type { RiskScore } from './engine';
import { atLeast, levelOf, RISK_LEVELS } from './levels';
import type { RiskLevel } from './levels';
import { rootSessionId } from './sequences';

export const MAX_AUDIT_CALLS = 100_000;
export const MAX_FINDINGS = 2_000;
/** Longest target kept in a finding (a 1 MB command is shown by its start). */
export const MAX_TARGET_CHARS = 500;

export type AuditKind = 'bash' | 'read' | 'write' | 'edit' | 'fetch';

export interface AuditStep {
  time: number;
  tool: string;
  target: string;
}

export interface AuditFinding {
  /** 0–100. */
  score: number;
  level: RiskLevel;
  /** The rules' reasons (our text), highest score first. */
  reasons: string[];
  /** MITRE ATT&CK technique ids. */
  techniques: string[];
  ruleIds: string[];
  sessionId: string;
  /** The root of the session's delegation tree (itself for a root session). */
  rootSessionId: string;
  sessionTitle: string;
  /** The session's folder. */
  directory: string;
  /** When the tool call started (epoch ms); for a sequence, its last step. */
  time: number;
  /** The OpenCode tool (`bash`, `read`, `webfetch`, …). */
  tool: string;
  /** What was scored: a command, a file operation, a fetch, or a sequence of several actions. */
  kind: AuditKind | 'sequence';
  /** The command, path or URL (the agent's text, shortened to MAX_TARGET_CHARS). */
  target: string;
  /** The tool call's state: completed, error, running, pending. */
  status: string;
  /** For `kind: 'sequence'`: its id and the actions that made its steps. */
  sequence?: { id: string; steps: AuditStep[] };
}

export interface AuditReport {
  window: HistoryWindow;
  minLevel: RiskLevel;
  scanned: { toolCalls: number; actions: number; sessions: number };
  /** More than MAX_AUDIT_CALLS tool calls in the window: the oldest ones were scanned. */
  truncated: boolean;
  /** Scored actions (and sequences) per level, whatever minLevel. */
  counts: Record<RiskLevel, number>;
  /** Actions scanned per kind. */
  byKind: Record<AuditKind, number>;
  /** Findings at minLevel or above, highest score first, then newest; at most MAX_FINDINGS. */
  findings: AuditFinding[];
  findingsTruncated: boolean;
}

export interface AuditOptions {
  minLevel?: RiskLevel;
  /** The user's home (to recognise `~/.ssh` written as an absolute path). */
  home?: string;
  maxCalls?: number;
}

interface Scored {
  call: ToolCallRow;
  action: AuditAction;
  risk: RiskScore;
}

export function auditHistory(db: HistoryDb, window: HistoryWindow, options: AuditOptions = {}): AuditReport {
  const maxCalls = options.maxCalls ?? MAX_AUDIT_CALLS;
  const { calls, parents } = db.toolCalls(window, maxCalls + 1);
  return auditCalls(calls.slice(0, maxCalls), parents, window, { ...options, truncated: calls.length > maxCalls });
}

/** Pure: the audit of tool calls (oldest first) with the sessions' parents. */
export function auditCalls(calls: readonly ToolCallRow[], parents: ReadonlyMap<string, string>, window: HistoryWindow, options: AuditOptions & { truncated?: boolean } = {}): AuditReport {
  const minLevel = options.minLevel ?? 'low';
  const rules = defaultRules();
  const counts = Object.fromEntries(RISK_LEVELS.map((l) => [l, 0])) as Record<RiskLevel, number>;
  const byKind: Record<AuditKind, number> = { bash: 0, read: 0, write: 0, edit: 0, fetch: 0 };
  const findings: AuditFinding[] = [];
  const perRoot = new Map<string, Scored[]>();
  const sessions = new Set<string>();
  let actions = 0;
  const rootOf = (id: string): string => rootSessionId(id, (s) => parents.get(s));
  for (const call of calls) {
    sessions.add(call.sessionId);
    for (const action of actionsFromTool(call.tool, call.input, { projectDir: call.directory || undefined, home: options.home })) {
      if (action.kind === 'other') continue;
      actions++;
      byKind[action.kind]++;
      const risk = scoreAction(action, rules);
      counts[risk.level]++;
      const root = rootOf(call.sessionId);
      const list = perRoot.get(root) ?? [];
      list.push({ call, action, risk });
      perRoot.set(root, list);
      if (risk.level !== 'none' && atLeast(risk.level, minLevel)) findings.push(findingOf(call, action, risk, root));
    }
  }
  for (const [root, scored] of perRoot) {
    for (const m of sequencesOver(scored.map((s) => s.risk), rules)) {
      const steps = m.steps.map((i) => scored[i]!).filter(Boolean);
      const last = steps[steps.length - 1];
      // A command that completes the sequence on its own (`curl -d @.env …`) already carries it.
      if (!last || steps.some((s) => s.risk.ruleIds.includes(m.sequenceId))) continue;
      const level = levelOf(m.score);
      counts[level]++;
      if (!atLeast(level, minLevel)) continue;
      findings.push({
        score: m.score,
        level,
        reasons: [m.reason],
        techniques: [...m.techniques],
        ruleIds: [m.sequenceId],
        sessionId: last.call.sessionId,
        rootSessionId: root,
        sessionTitle: last.call.title,
        directory: last.call.directory,
        time: last.call.time,
        tool: last.call.tool,
        kind: 'sequence',
        target: short(steps.map((s) => targetOf(s.action)).join(' → ')),
        status: last.call.status,
        sequence: { id: m.sequenceId, steps: steps.map((s) => ({ time: s.call.time, tool: s.call.tool, target: short(targetOf(s.action)) })) },
      });
    }
  }
  findings.sort((a, b) => b.score - a.score || b.time - a.time);
  return {
    window,
    minLevel,
    scanned: { toolCalls: calls.length, actions, sessions: sessions.size },
    truncated: options.truncated ?? false,
    counts,
    byKind,
    findings: findings.slice(0, MAX_FINDINGS),
    findingsTruncated: findings.length > MAX_FINDINGS,
  };
}

function findingOf(call: ToolCallRow, action: AuditAction, risk: RiskScore, root: string): AuditFinding {
  return {
    score: risk.score,
    level: risk.level,
    reasons: risk.reasons,
    techniques: risk.techniques,
    ruleIds: risk.ruleIds.filter((_, i) => (risk.findings[i]?.score ?? 0) > 0),
    sessionId: call.sessionId,
    rootSessionId: root,
    sessionTitle: call.title,
    directory: call.directory,
    time: call.time,
    tool: call.tool,
    kind: action.kind as AuditKind,
    target: short(targetOf(action)),
    status: call.status,
  };
}

function targetOf(action: AuditAction): string {
  return action.command ?? action.path ?? action.url ?? '';
}

function short(text: string): string {
  return text.length > MAX_TARGET_CHARS ? `${text.slice(0, MAX_TARGET_CHARS - 1)}…` : text;
}
