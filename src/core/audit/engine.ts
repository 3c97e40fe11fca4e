/**
 * Scores one action (a bash command, a file read/written/edited, a URL fetched) against the rule
 * data: findings of every matching rule (with context adjustments), the files and URLs a command
 * touches scored as reads/writes/fetches too, sequences inside the command line; the action's
 * score is the highest finding.
 */
import { resolveScript } from './commands';
import type { ResolvedCommand } from './commands';
import { levelOf } from './levels';
import type { RiskLevel } from './levels';
import { argGlobToRegExp, globToRegExp, isRemoteSpec, normalizePath, parseUrlish } from './paths';
import type { NormalPath, PathContext } from './paths';
import { RULE_DATA } from './rules';
import { validateRuleSet } from './ruleSchema';
import type { PathCond, Rule, Sequence, UrlClass, ValidRuleSet } from './ruleSchema';
import { detectSequences, SequenceDetector } from './sequences';
import type { SequenceMatch } from './sequences';
import { DEFAULT_LIMITS } from './shellTypes';
import type { ShellLimits } from './shellTypes';

export type ActionKind = 'bash' | 'read' | 'write' | 'edit' | 'fetch' | 'other';

export interface AuditAction {
  kind: ActionKind;
  /** For `bash`. */
  command?: string;
  /** For `read` / `write` / `edit`. */
  path?: string;
  /** For `fetch`. */
  url?: string;
  /** Working folder of the command (defaults to projectDir). */
  cwd?: string;
  /** The session's project folder. */
  projectDir?: string;
  /** The user's home folder (to recognise `~/.ssh` written as an absolute path). */
  home?: string;
}

export interface Finding {
  ruleId: string;
  score: number;
  reason: string;
  techniques: string[];
}

export interface RiskScore {
  /** 0–100. */
  score: number;
  level: RiskLevel;
  /** Rule reasons, highest score first, without duplicates. */
  reasons: string[];
  /** MITRE ATT&CK technique ids, in the order of the reasons. */
  techniques: string[];
  ruleIds: string[];
  /** Sequence signals (credential-read, net-out, …) for SequenceDetector. */
  tags: string[];
  findings: Finding[];
}

interface CompiledRule {
  rule: Rule;
  programs: Set<string>;
  programGlobs: RegExp[];
  anyProgram: boolean;
  pipedFrom?: Set<string>;
  pipedAny: boolean;
  substFrom?: Set<string>;
  substAny: boolean;
  anyArg?: RegExp[];
}

export interface CompiledRuleSet {
  data: ValidRuleSet;
  bashByProgram: Map<string, CompiledRule[]>;
  bashGeneric: CompiledRule[];
  fileRules: CompiledRule[];
  fetchRules: CompiledRule[];
  locations: Map<string, { globs: RegExp[]; except: RegExp[] }>;
  hostGlobs: Map<string, RegExp[]>;
  sequences: Sequence[];
  tooComplex?: Rule;
  limits: ShellLimits;
}

/** Validates and compiles rule data; throws RuleSetError naming a broken rule. */
export function loadRules(data: unknown = RULE_DATA, limits: ShellLimits = DEFAULT_LIMITS): CompiledRuleSet {
  const valid = validateRuleSet(data);
  const expand = (list: readonly string[]) => list.flatMap((p) => (p.startsWith('@') ? valid.programSets[p]! : [p]));
  const set: CompiledRuleSet = {
    data: valid,
    bashByProgram: new Map(),
    bashGeneric: [],
    fileRules: [],
    fetchRules: [],
    locations: new Map(valid.locations.map((l) => [l.id, { globs: l.globs.map((g) => globToRegExp(g)), except: (l.except ?? []).map((g) => globToRegExp(g)) }])),
    hostGlobs: new Map(),
    sequences: valid.sequences,
    limits,
  };
  for (const rule of valid.rules) {
    const cmd = rule.command;
    const names = cmd ? expand(cmd.program) : [];
    const piped = cmd?.pipedFrom ? expand(cmd.pipedFrom) : undefined;
    const subst = cmd?.substFrom ? expand(cmd.substFrom) : undefined;
    const compiled: CompiledRule = {
      rule,
      programs: new Set(names.filter((n) => n !== '*' && !n.includes('/') && !n.startsWith('~'))),
      programGlobs: names.filter((n) => n.includes('/') || n.startsWith('~')).map(argGlobToRegExp),
      anyProgram: names.includes('*'),
      pipedFrom: piped ? new Set(piped) : undefined,
      pipedAny: piped?.includes('*') ?? false,
      substFrom: subst ? new Set(subst) : undefined,
      substAny: subst?.includes('*') ?? false,
      anyArg: cmd?.anyArg?.map(argGlobToRegExp),
    };
    if (rule.url?.host) set.hostGlobs.set(rule.id, rule.url.host.map((h) => globToRegExp(h.toLowerCase())));
    if (cmd?.program.includes('(too-complex)')) set.tooComplex = rule;
    if (rule.target.includes('bash')) {
      if (compiled.anyProgram || compiled.programGlobs.length > 0) set.bashGeneric.push(compiled);
      for (const p of compiled.programs) {
        const list = set.bashByProgram.get(p) ?? [];
        list.push(compiled);
        set.bashByProgram.set(p, list);
      }
    }
    if (rule.target.some((k) => k === 'read' || k === 'write' || k === 'edit')) set.fileRules.push(compiled);
    if (rule.target.includes('fetch')) set.fetchRules.push(compiled);
  }
  return set;
}

let defaultSet: CompiledRuleSet | undefined;

/** The rule set in rules.ts, validated once. */
export function defaultRules(): CompiledRuleSet {
  defaultSet ??= loadRules(RULE_DATA);
  return defaultSet;
}

// ── matching ─────────────────────────────────────────────────────────────────────────────────

function inLocation(set: CompiledRuleSet, id: string, path: string): boolean {
  const loc = set.locations.get(id);
  if (!loc) return false;
  return loc.globs.some((g) => g.test(path)) && !loc.except.some((g) => g.test(path));
}

function pathMatches(set: CompiledRuleSet, cond: PathCond, np: NormalPath): boolean {
  if (np.unknown) return false;
  if (cond.outsideProject === true && np.inProject !== false) return false;
  if (cond.outsideProject === false && np.inProject !== true) return false;
  if (cond.location && !cond.location.some((id) => inLocation(set, id, np.path))) return false;
  if (cond.notLocation && cond.notLocation.some((id) => inLocation(set, id, np.path))) return false;
  return true;
}

function isOutside(set: CompiledRuleSet, np: NormalPath): boolean {
  return !np.unknown && np.inProject === false && !inLocation(set, 'temp', np.path) && !inLocation(set, 'null', np.path);
}

const MAX_ARG_MATCH = 4096;

const URL_PROGRAMS = new Set(['curl', 'wget', 'aria2c', 'http', 'https', 'xh', 'fetch', 'lwp-download', 'lwp-request', 'nc', 'ncat', 'netcat', 'telnet', 'ssh', 'ftp', 'tftp', 'socat', 'git', 'invoke-webrequest', 'iwr']);
const DOWNLOADERS = new Set(['curl', 'wget', 'aria2c', 'http', 'https', 'xh', 'fetch', 'lwp-download', 'lwp-request', 'invoke-webrequest', 'iwr']);

function urlsOf(cmd: ResolvedCommand): Array<{ host: string; class: UrlClass }> {
  const out: Array<{ host: string; class: UrlClass }> = [];
  const bare = URL_PROGRAMS.has(cmd.program) && cmd.program !== 'git';
  const list = bare ? cmd.positionals : cmd.args;
  for (const a of list) {
    const u = parseUrlish(a.replace(/^--url=/, ''), bare);
    if (u) out.push(u);
    if (out.length > 32) break;
  }
  if (cmd.program === 'socat') {
    for (const a of cmd.args) {
      const m = /^(?:TCP|TCP4|TCP6|UDP|OPENSSL|SSL)[^:]*:([^:,]+):\d+/i.exec(a);
      if (m) out.push({ host: m[1]!, class: parseUrlish(m[1]!, true)?.class ?? 'hostname' });
    }
  }
  return out;
}

function commandMatches(set: CompiledRuleSet, c: CompiledRule, cmd: ResolvedCommand, ctx: PathContext, urls: () => Array<{ class: UrlClass }>, paths: () => NormalPath[]): boolean {
  const m = c.rule.command!;
  if (!c.anyProgram && !c.programs.has(cmd.program) && !c.programs.has(cmd.program.replace(/[\d.]+$/, '')) && !c.programGlobs.some((g) => g.test(cmd.rawProgram))) return false;
  if (c.anyProgram && cmd.program === '' && !m.assigns && !m.redirectTo) return false;
  if (m.sub && !m.sub.includes(cmd.positionals[0] ?? '')) return false;
  if (m.sub2 && !m.sub2.includes(cmd.positionals[1] ?? '')) return false;
  if (m.anyFlag && !m.anyFlag.some((f) => cmd.flags.has(f))) return false;
  if (m.allFlags && !m.allFlags.every((group) => group.some((f) => cmd.flags.has(f)))) return false;
  if (m.noFlag && m.noFlag.some((f) => cmd.flags.has(f))) return false;
  // Globs with several `*` backtrack: look at the first 4 KB of an argument only (hostile 1 MB arguments stay fast).
  if (c.anyArg && !cmd.args.some((a) => c.anyArg!.some((re) => re.test(a.length > MAX_ARG_MATCH ? a.slice(0, MAX_ARG_MATCH) : a)))) return false;
  if (m.assigns && !cmd.assigns.some((a) => m.assigns!.includes(a))) return false;
  if (c.pipedFrom && !(c.pipedAny ? cmd.upstream.length > 0 : cmd.upstream.some((p) => c.pipedFrom!.has(p)))) return false;
  if (c.substFrom && !(c.substAny ? cmd.substPrograms.length > 0 : cmd.substPrograms.some((p) => c.substFrom!.has(p)))) return false;
  if (m.stdinProgram !== undefined) {
    // `python -m x`, `node -e code`, `perl -e`: the program is given, not read from stdin.
    const given = ['-c', '-m', '-e', '-E', '--eval', '-p', '--print', '-r'].some((f) => cmd.flags.has(f)) && !cmd.flags.has('-s');
    const fromStdin = !given && (cmd.positionals.length === 0 || cmd.positionals.every((p) => p === '-') || cmd.flags.has('-s'));
    if (m.stdinProgram !== fromStdin) return false;
  }
  if (m.remoteArg !== undefined && m.remoteArg !== cmd.positionals.some(isRemoteSpec)) return false;
  if (m.argUrl && !urls().some((u) => m.argUrl!.includes(u.class))) return false;
  if (m.argPath && !paths().some((p) => pathMatches(set, m.argPath!, p))) return false;
  if (m.redirectTo && !cmd.redirects.some((r) => pathMatches(set, m.redirectTo!, normalizePath(r.target, ctx)))) return false;
  return true;
}

function finding(rule: Rule, score: number): Finding {
  return { ruleId: rule.id, score: Math.max(0, Math.min(100, score)), reason: rule.reason, techniques: rule.techniques };
}

/** Programs whose arguments are not files they read (or that use keys legitimately). */
const NOT_READERS = new Set(['echo', 'printf', 'mkdir', 'touch', 'which', 'type', 'command', 'cd', 'pushd', 'test', '[', '[[', 'ssh', 'ssh-add', 'ssh-keygen', 'ssh-copy-id', 'chmod', 'chown', 'chgrp', 'rm', 'rmdir', 'unlink', 'shred', 'srm', 'export', 'unset', 'set', 'kill', 'sleep', 'tee', 'ln', 'git', 'npm', 'npx', 'yarn', 'pnpm', 'cargo', 'go', 'make', 'docker', 'code', 'open', 'xdg-open', 'trash', 'truncate', 'stat', 'file', 'basename', 'dirname', 'realpath', 'readlink', 'du', 'df', 'mktemp', 'rsync', 'scp', '']);
const LAST_ARG_WRITERS = new Set(['cp', 'mv', 'install', 'ln', 'rsync', 'scp', 'ditto']);

interface FileOp {
  kind: 'read' | 'write' | 'edit';
  path: NormalPath;
}

function fileOpsOf(cmd: ResolvedCommand, ctx: PathContext): FileOp[] {
  const ops: FileOp[] = [];
  const add = (kind: FileOp['kind'], raw: string) => {
    if (!raw || raw.includes('://') || raw === '-' || ops.length > 64) return;
    ops.push({ kind, path: normalizePath(raw, ctx) });
  };
  for (const r of cmd.redirects) {
    if (r.op === '<' || r.op === '<<<') {
      if (r.op === '<') add('read', r.target);
    } else if (!/^\d+$/.test(r.target)) add('write', r.target);
  }
  const pos = cmd.positionals;
  const p = cmd.program;
  if (p === 'tee') for (const a of pos) add('write', a);
  else if (p === 'touch' || p === 'truncate') for (const a of pos) add('write', a);
  else if (p === 'sed' && (cmd.flags.has('-i') || [...cmd.flags].some((f) => f.startsWith('-i') || f.startsWith('--in-place')))) for (const a of pos.slice(1)) add('edit', a);
  else if (p === 'dd') {
    for (const a of cmd.args) {
      if (a.startsWith('if=')) add('read', a.slice(3));
      if (a.startsWith('of=')) add('write', a.slice(3));
    }
  } else if (LAST_ARG_WRITERS.has(p) && pos.length >= 2) {
    const local = pos.filter((a) => !isRemoteSpec(a));
    if (!isRemoteSpec(pos[pos.length - 1]!)) add('write', pos[pos.length - 1]!);
    for (const a of local.slice(0, isRemoteSpec(pos[pos.length - 1]!) ? undefined : -1)) add('read', a);
  } else if (!NOT_READERS.has(p) && !DOWNLOADERS.has(p)) {
    for (const a of pos) add('read', a);
  }
  if (DOWNLOADERS.has(p)) {
    // curl -d @file / -F x=@file / -T file / --upload-file file; wget --post-file=file
    for (let i = 0; i < cmd.args.length; i++) {
      const a = cmd.args[i]!;
      const at = /^(?:[^=@]*=)?@(.+)$/.exec(a);
      if (at && i > 0 && /^(-d|--data.*|-F|--form|--json)$/.test(cmd.args[i - 1]!)) add('read', at[1]!);
      if ((a === '-T' || a === '--upload-file') && cmd.args[i + 1]) add('read', cmd.args[i + 1]!);
      if (a.startsWith('--post-file=')) add('read', a.slice(12));
      if (a === '--post-file' && cmd.args[i + 1]) add('read', cmd.args[i + 1]!);
      if ((a === '-o' || a === '--output' || a === '-O' || a === '--output-document') && cmd.args[i + 1] && !cmd.args[i + 1]!.startsWith('-')) add('write', cmd.args[i + 1]!);
    }
  }
  return ops;
}

interface Collector {
  findings: Finding[];
  tags: string[];
}

function collect(c: Collector, rule: Rule, score: number): void {
  c.findings.push(finding(rule, score));
  for (const t of rule.tags ?? []) if (!c.tags.includes(t)) c.tags.push(t);
}

function scorePath(set: CompiledRuleSet, kind: 'read' | 'write' | 'edit', np: NormalPath, out: Collector): void {
  for (const c of set.fileRules) {
    if (!c.rule.target.includes(kind) || !c.rule.path) continue;
    if (!pathMatches(set, c.rule.path, np)) continue;
    let score = c.rule.score;
    const adj = c.rule.adjust;
    if (adj?.outsideProject && isOutside(set, np)) score += adj.outsideProject;
    if (adj?.insideProject && np.inProject === true) score += adj.insideProject;
    collect(out, c.rule, score);
  }
}

function scoreUrl(set: CompiledRuleSet, u: { host: string; class: UrlClass }, out: Collector): void {
  for (const c of set.fetchRules) {
    const m = c.rule.url!;
    if (m.class && !m.class.includes(u.class)) continue;
    const hosts = set.hostGlobs.get(c.rule.id);
    if (hosts && !hosts.some((h) => h.test(u.host.toLowerCase()))) continue;
    collect(out, c.rule, c.rule.score);
  }
}

function scoreCommand(set: CompiledRuleSet, cmd: ResolvedCommand, ctx: PathContext, out: Collector): void {
  let urlCache: Array<{ host: string; class: UrlClass }> | undefined;
  let pathCache: NormalPath[] | undefined;
  const urls = () => (urlCache ??= urlsOf(cmd));
  const paths = () =>
    (pathCache ??= cmd.positionals
      .concat(cmd.args.filter((a) => /^(of|if)=/.test(a)).map((a) => a.slice(3)))
      .filter((a) => a !== '' && !a.includes('://'))
      .slice(0, 64)
      .map((a) => normalizePath(a, ctx)));
  const candidates = [...(set.bashByProgram.get(cmd.program) ?? []), ...(set.bashByProgram.get(cmd.program.replace(/[\d.]+$/, '')) ?? []), ...set.bashGeneric];
  const seen = new Set<CompiledRule>();
  for (const c of candidates) {
    if (seen.has(c)) continue;
    seen.add(c);
    if (!commandMatches(set, c, cmd, ctx, urls, paths)) continue;
    let score = c.rule.score;
    const adj = c.rule.adjust;
    if (adj) {
      const ps = paths();
      if (adj.outsideProject && ps.some((p) => isOutside(set, p))) score += adj.outsideProject;
      else if (adj.insideProject && ps.length > 0 && ps.every((p) => p.inProject === true)) score += adj.insideProject;
      if (adj.sudo && cmd.sudo) score += adj.sudo;
    }
    collect(out, c.rule, score);
  }
  for (const op of fileOpsOf(cmd, ctx)) scorePath(set, op.kind, op.path, out);
  if (DOWNLOADERS.has(cmd.program) || cmd.program === 'nc' || cmd.program === 'ncat') for (const u of urls()) scoreUrl(set, u, out);
}

function summarize(findings: Finding[], tags: string[]): RiskScore {
  const sorted = [...findings].sort((a, b) => b.score - a.score);
  const reasons: string[] = [];
  const techniques: string[] = [];
  const ruleIds: string[] = [];
  const kept: Finding[] = [];
  for (const f of sorted) {
    if (ruleIds.includes(f.ruleId)) continue;
    kept.push(f);
    ruleIds.push(f.ruleId);
    if (f.score > 0 && !reasons.includes(f.reason)) reasons.push(f.reason);
    for (const t of f.techniques) if (f.score > 0 && !techniques.includes(t)) techniques.push(t);
  }
  const score = kept.length > 0 ? kept[0]!.score : 0;
  return { score, level: levelOf(score), reasons, techniques, ruleIds, tags, findings: kept };
}

/** Scores one action. Never throws on hostile input; bounded in time by the parser's limits. */
export function scoreAction(action: AuditAction, rules: CompiledRuleSet = defaultRules()): RiskScore {
  const ctx: PathContext = { cwd: action.cwd ?? action.projectDir, projectDir: action.projectDir, home: action.home };
  const out: Collector = { findings: [], tags: [] };
  switch (action.kind) {
    case 'bash': {
      if (typeof action.command !== 'string' || action.command.trim() === '') break;
      const script = resolveScript(action.command, rules.limits);
      const perCommand: string[][] = [];
      for (const cmd of script.commands) {
        const c: Collector = { findings: [], tags: [] };
        scoreCommand(rules, cmd, ctx, c);
        out.findings.push(...c.findings);
        for (const t of c.tags) if (!out.tags.includes(t)) out.tags.push(t);
        perCommand.push(c.tags);
      }
      for (const m of detectSequences(perCommand, rules.sequences, { multiStep: true })) out.findings.push({ ruleId: m.sequenceId, score: m.score, reason: m.reason, techniques: m.techniques });
      if (script.truncated && rules.tooComplex) out.findings.push(finding(rules.tooComplex, rules.tooComplex.score));
      break;
    }
    case 'read':
    case 'write':
    case 'edit':
      if (typeof action.path === 'string' && action.path.trim() !== '') scorePath(rules, action.kind, normalizePath(action.path, ctx), out);
      break;
    case 'fetch': {
      const u = typeof action.url === 'string' ? parseUrlish(action.url, true) : undefined;
      if (u) scoreUrl(rules, u, out);
      break;
    }
    default:
      break;
  }
  return summarize(out.findings, out.tags);
}

/** Pure, for history: the sequences completed over one session's scored actions, in order. */
export function sequencesOver(scores: ReadonlyArray<Pick<RiskScore, 'tags'>>, rules: CompiledRuleSet = defaultRules()): SequenceMatch[] {
  return detectSequences(
    scores.map((s) => s.tags),
    rules.sequences,
  );
}

/** Live: a detector for one session (and its sub-agents), fed `RiskScore`s in order. */
export function createSequenceDetector(rules: CompiledRuleSet = defaultRules()): SequenceDetector {
  return new SequenceDetector(rules.sequences);
}
