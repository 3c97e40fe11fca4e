/**
 * Live risk (issue 15): scores the tool calls and permission requests one server reports, feeds
 * them in order to a sequence detector per root session (a session with its sub-agents), and
 * remembers the first critical action that ran without a permission prompt.
 *
 * Bounded whatever a server sends: `maxRoots` root sessions (least recently fed dropped first),
 * `maxCalls` calls each, `maxCached` cached scores keyed by a fingerprint (never the full text).
 * A call is scored once per input: the tool updates of a running call and a steady reconcile
 * round cost a hash and a lookup.
 */
import { homedir } from 'node:os';
import { actionsFromPermission, actionsFromTool } from '../audit/actions';
import type { ActionContext, PermissionRequestLike } from '../audit/actions';
import { defaultRules, scoreAction } from '../audit/engine';
import type { AuditAction, CompiledRuleSet, RiskScore } from '../audit/engine';
import { levelOf } from '../audit/levels';
import { SequenceDetector, rootSessionId } from '../audit/sequences';
import type { SequenceMatch } from '../audit/sequences';
import type { RiskAlert, RiskModel } from '../model/model';

export interface LiveRiskOptions {
  rules?: CompiledRuleSet;
  /** The user's home folder, to recognise `~/.ssh` written as an absolute path. */
  home?: string;
  maxRoots?: number;
  maxCalls?: number;
  maxCached?: number;
  now?: () => number;
}

/** A tool call as a server reports it (a tool part). */
export interface ToolCallSeen {
  sessionId: string;
  callID: string;
  tool: string;
  /** pending → running → completed | error */
  status: string;
  input: Record<string, unknown> | undefined;
  /** The session's project folder. */
  directory?: string;
  /** The short argument shown for it (RunningTool.arg), kept for an alert. */
  arg: string;
}

export interface ToolRisk {
  risk?: RiskModel;
  /** Set when this call raised the root session's alert (that row changed too). */
  alertFor?: string;
}

interface CallRecord {
  fp: string;
  risk?: RiskModel;
  tags: readonly string[];
  /** A permission was asked for it. */
  prompted: boolean;
  /** Fed to the detector (once per call). */
  fed: boolean;
  /** Seen pending or running: it ran while we watched. */
  seenRunning: boolean;
  done: boolean;
}

interface RootRecord {
  detector: SequenceDetector;
  calls: Map<string, CallRecord>;
  alert?: RiskAlert;
}

type ParentOf = (sessionId: string) => string | undefined;

const MAX_REASONS = 5;
const MAX_TECHNIQUES = 8;

export class LiveRisk {
  private readonly rules: CompiledRuleSet;
  private readonly home: string | undefined;
  private readonly roots = new Map<string, RootRecord>();
  private readonly cache = new Map<string, RiskScore>();
  private readonly maxRoots: number;
  private readonly maxCalls: number;
  private readonly maxCached: number;
  private readonly now: () => number;
  /** Scores computed (cache misses): for tests and the bench. */
  scored = 0;

  constructor(options: LiveRiskOptions = {}) {
    this.rules = options.rules ?? defaultRules();
    this.home = options.home ?? safeHome();
    this.maxRoots = options.maxRoots ?? 100;
    this.maxCalls = options.maxCalls ?? 128;
    this.maxCached = options.maxCached ?? 1_000;
    this.now = options.now ?? Date.now;
  }

  /** A tool part seen (event or fetch): its risk, fed once to its root's sequences. */
  tool(call: ToolCallSeen, parentOf: ParentOf): ToolRisk {
    if (!call.input || Object.keys(call.input).length === 0) return {}; // `pending` with no input yet
    const rootId = rootSessionId(call.sessionId, parentOf);
    const root = this.root(rootId);
    const ctx = this.context(call.directory);
    const fp = fingerprint(['tool', call.tool, ctx.projectDir ?? '', stableInput(call.input)]);
    let rec = root.calls.get(call.callID);
    if (!rec || rec.fp !== fp) {
      const score = this.score(fp, () => actionsFromTool(call.tool, call.input, ctx));
      rec = { fp, risk: toModel(score), tags: score.tags, prompted: rec?.prompted ?? false, fed: false, seenRunning: rec?.seenRunning ?? false, done: rec?.done ?? false };
      this.remember(root, call.callID, rec);
    }
    const running = call.status === 'running' || call.status === 'pending';
    if (running) rec.seenRunning = true;
    if (!rec.fed) {
      rec.fed = true;
      const matches = root.detector.push({ tags: rec.tags });
      rec.risk = raise(rec.risk, matches);
    }
    let alertFor: string | undefined;
    if ((call.status === 'completed' || call.status === 'error') && !rec.done) {
      rec.done = true;
      // Only a call we saw run: one found finished in a first fetch may have been prompted before we watched.
      if (rec.seenRunning && !rec.prompted && rec.risk?.level === 'critical' && !root.alert) {
        root.alert = { ...rec.risk, sessionId: call.sessionId, tool: call.tool, arg: call.arg, callID: call.callID, at: this.now() };
        alertFor = rootId;
      }
    }
    return { risk: rec.risk, ...(alertFor ? { alertFor } : {}) };
  }

  /** A permission request: its call counts as prompted; its risk is the request's or its call's, the higher. */
  permission(request: PermissionRequestLike & { sessionID: string; tool?: { callID?: string } }, directory: string | undefined, parentOf: ParentOf): RiskModel | undefined {
    const rootId = rootSessionId(request.sessionID, parentOf);
    const root = this.root(rootId);
    const ctx = this.context(directory);
    const callID = request.tool?.callID;
    if (callID) {
      const rec = root.calls.get(callID);
      if (rec) rec.prompted = true;
      else this.remember(root, callID, { fp: '', tags: [], prompted: true, fed: false, seenRunning: false, done: false });
    }
    const fp = fingerprint(['permission', request.permission, ctx.projectDir ?? '', stableInput({ p: request.patterns ?? [], m: request.metadata ?? {}, c: request.command ?? '' })]);
    const own = toModel(this.score(fp, () => actionsFromPermission(request, ctx)));
    return higher(own, this.callRisk(request.sessionID, callID, parentOf));
  }

  /** The risk known for a call (with the sequence it completed), for a request that arrived before its tool part. */
  callRisk(sessionId: string, callID: string | undefined, parentOf: ParentOf): RiskModel | undefined {
    if (!callID) return undefined;
    return this.roots.get(rootSessionId(sessionId, parentOf))?.calls.get(callID)?.risk;
  }

  /** The alert of a root session, if one of its actions raised it. */
  alertOf(rootId: string): RiskAlert | undefined {
    return this.roots.get(rootId)?.alert;
  }

  forget(sessionId: string): void {
    this.roots.delete(sessionId);
  }

  get size(): { roots: number; cached: number } {
    return { roots: this.roots.size, cached: this.cache.size };
  }

  private context(directory: string | undefined): ActionContext {
    return { ...(directory ? { projectDir: directory } : {}), ...(this.home ? { home: this.home } : {}) };
  }

  private root(id: string): RootRecord {
    let root = this.roots.get(id);
    if (root) this.roots.delete(id);
    else root = { detector: new SequenceDetector(this.rules.sequences), calls: new Map() };
    this.roots.set(id, root);
    while (this.roots.size > this.maxRoots) this.roots.delete(this.roots.keys().next().value!);
    return root;
  }

  private remember(root: RootRecord, callID: string, rec: CallRecord): void {
    root.calls.delete(callID);
    root.calls.set(callID, rec);
    while (root.calls.size > this.maxCalls) root.calls.delete(root.calls.keys().next().value!);
  }

  private score(fp: string, actions: () => AuditAction[]): RiskScore {
    const hit = this.cache.get(fp);
    if (hit) return hit;
    this.scored++;
    const score = combine(actions().map((a) => scoreAction(a, this.rules)));
    this.cache.set(fp, score);
    while (this.cache.size > this.maxCached) this.cache.delete(this.cache.keys().next().value!);
    return score;
  }
}

/** Several actions of one call (apply_patch: one per file): the highest score, every reason. */
export function combine(scores: RiskScore[]): RiskScore {
  if (scores.length === 1) return scores[0]!;
  const sorted = [...scores].sort((a, b) => b.score - a.score);
  const uniq = (lists: string[][]) => [...new Set(lists.flat())];
  const score = sorted[0]?.score ?? 0;
  return {
    score,
    level: levelOf(score),
    reasons: uniq(sorted.map((s) => s.reasons)),
    techniques: uniq(sorted.map((s) => s.techniques)),
    ruleIds: uniq(sorted.map((s) => s.ruleIds)),
    tags: uniq(sorted.map((s) => s.tags)),
    findings: sorted.flatMap((s) => s.findings),
  };
}

/** The model's copy of a score: undefined at 0, reasons and techniques bounded. */
export function toModel(score: Pick<RiskScore, 'score' | 'reasons' | 'techniques'>): RiskModel | undefined {
  const level = levelOf(score.score);
  if (level === 'none') return undefined;
  return { score: score.score, level, reasons: score.reasons.slice(0, MAX_REASONS), techniques: score.techniques.slice(0, MAX_TECHNIQUES) };
}

/** A call's own risk raised by the sequences it completes (their reasons first). */
function raise(risk: RiskModel | undefined, matches: SequenceMatch[]): RiskModel | undefined {
  let out = risk;
  for (const m of matches) {
    const score = Math.max(m.score, out?.score ?? 0);
    out = toModel({
      score,
      // The command line may have completed the same sequence on its own: one reason, once.
      reasons: [...new Set([m.reason, ...(out?.reasons ?? [])])],
      techniques: [...new Set([...m.techniques, ...(out?.techniques ?? [])])],
    });
  }
  return out;
}

function higher(a: RiskModel | undefined, b: RiskModel | undefined): RiskModel | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.score > a.score ? b : a;
}

/** The input as text (a server sends the same input with its keys in the same order). */
function stableInput(input: Record<string, unknown>): string {
  try {
    return JSON.stringify(input);
  } catch {
    return '';
  }
}

/** Length plus two 32-bit hashes: a short cache key for text of any size. */
export function fingerprint(parts: string[]): string {
  let a = 0x811c9dc5;
  let b = 5381;
  let length = 0;
  for (const part of parts) {
    for (let i = 0; i < part.length; i++) {
      const c = part.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = (Math.imul(b, 33) + c) | 0;
    }
    a = Math.imul(a ^ 0, 0x01000193); // separator
    length += part.length + 1;
  }
  return `${length}:${(a >>> 0).toString(36)}:${(b >>> 0).toString(36)}`;
}

function safeHome(): string | undefined {
  try {
    return homedir();
  } catch {
    return undefined;
  }
}
