/**
 * The shape of the rule data (src/core/audit/rules.ts, documented in RULES.md), validated with
 * zod when a rule set is loaded. A broken rule set throws an error that names the rule and the
 * field; it never degrades to an empty set.
 */
import * as z from 'zod';

const Technique = z.string().regex(/^T\d{4}(\.\d{3})?$/, 'a MITRE ATT&CK technique id such as T1059 or T1059.004');
const Score = z.number().int().min(0).max(100);
const Delta = z.number().int().min(-100).max(100);
const Id = z.string().regex(/^[a-z0-9][a-z0-9-]*(\.[a-z0-9][a-z0-9-]*)*$/, 'lower-case dotted id such as rce.pipe-to-shell');

export const URL_CLASSES = ['loopback', 'private', 'link-local', 'metadata', 'public-ip', 'hostname', 'non-http'] as const;
export type UrlClass = (typeof URL_CLASSES)[number];

/** Conditions on a file path (after ~ / $HOME expansion and resolution against cwd). */
export const PathCondSchema = z
  .object({
    /** Ids of LOCATIONS entries; the path must be in one of them. */
    location: z.array(Id).nonempty().optional(),
    /** Ids of LOCATIONS entries the path must NOT be in. */
    notLocation: z.array(Id).nonempty().optional(),
    /** true: only paths outside the session's project folder; false: only inside. */
    outsideProject: z.boolean().optional(),
  })
  .strict();

export const CommandMatchSchema = z
  .object({
    /** Program basenames (`/usr/bin/curl` → `curl`), `@set` names from PROGRAM_SETS, or `*`. */
    program: z.array(z.string().min(1)).nonempty(),
    /** The first positional argument must be one of these (`git push`, `npm publish`). */
    sub: z.array(z.string().min(1)).nonempty().optional(),
    /** The second positional argument must be one of these (`gh release create`). */
    sub2: z.array(z.string().min(1)).nonempty().optional(),
    /** Some flag of these is present. Short flags also match inside clusters (`-rf` has `-f`). */
    anyFlag: z.array(z.string().regex(/^--?[^-]/)).nonempty().optional(),
    /** Every group has one of its flags present (`[["-r","-R"],["-f"]]`). */
    allFlags: z.array(z.array(z.string().regex(/^--?[^-]/)).nonempty()).nonempty().optional(),
    /** None of these flags is present (`npm publish --dry-run` is not a publication). */
    noFlag: z.array(z.string().regex(/^--?[^-]/)).nonempty().optional(),
    /** Some argument (flag or not) matches one of these globs (`777`, `of=/dev/*`, `*+s`). */
    anyArg: z.array(z.string().min(1)).nonempty().optional(),
    /** Some positional argument, read as a path, matches this condition. */
    argPath: PathCondSchema.optional(),
    /** Some argument is a URL or host of one of these classes. */
    argUrl: z.array(z.enum(URL_CLASSES)).nonempty().optional(),
    /** Some argument is a remote copy target (`host:path`, `user@host:path`, `rsync://…`). */
    remoteArg: z.boolean().optional(),
    /** An earlier command of the same pipeline is one of these programs (`curl … | sh`). */
    pipedFrom: z.array(z.string().min(1)).nonempty().optional(),
    /** A `$( )`, backtick or `<( )` in its words runs one of these programs (`eval "$(curl …)"`). */
    substFrom: z.array(z.string().min(1)).nonempty().optional(),
    /** It has no positional argument, or only `-`/`-s` (an interpreter reading its program from stdin). */
    stdinProgram: z.boolean().optional(),
    /** A variable assignment before the command or an `export`/`unset` names one of these. */
    assigns: z.array(z.string().min(1)).nonempty().optional(),
    /** A redirection target of the command matches this path condition. */
    redirectTo: PathCondSchema.optional(),
  })
  .strict();

export const UrlMatchSchema = z
  .object({
    /** The URL's host class. */
    class: z.array(z.enum(URL_CLASSES)).nonempty().optional(),
    /** Host globs (`*.ngrok.io`, `pastebin.com`). */
    host: z.array(z.string().min(1)).nonempty().optional(),
  })
  .strict();

const KINDS = ['bash', 'read', 'write', 'edit', 'fetch'] as const;
export type TargetKind = (typeof KINDS)[number];

export const RuleSchema = z
  .object({
    id: Id,
    category: z.enum([
      'rce',
      'credential',
      'exfiltration',
      'destruction',
      'permissions',
      'persistence',
      'history',
      'publish',
      'safety',
      'listener',
      'network',
      'discovery',
      'download',
      'execution',
    ]),
    /** What it looks at. `read`/`write` also cover files a bash command reads or writes; `fetch` also URLs a bash command downloads. */
    target: z.array(z.enum(KINDS)).nonempty(),
    command: CommandMatchSchema.optional(),
    path: PathCondSchema.optional(),
    url: UrlMatchSchema.optional(),
    score: Score,
    reason: z.string().min(3).max(160),
    techniques: z.array(Technique),
    /** Added to the score by context (clamped to 0–100). */
    adjust: z
      .object({ insideProject: Delta.optional(), outsideProject: Delta.optional(), sudo: Delta.optional() })
      .strict()
      .optional(),
    /** Signals for sequences (credential-read, net-out, download, make-exec, run-local, enumerate …). */
    tags: z.array(Id).optional(),
  })
  .strict()
  .superRefine((rule, ctx) => {
    const hasBash = rule.target.includes('bash');
    if (hasBash && !rule.command) ctx.addIssue({ code: 'custom', message: 'target bash needs a `command` match' });
    if (!hasBash && rule.command) ctx.addIssue({ code: 'custom', message: '`command` only applies to target bash' });
    const fileKinds = rule.target.filter((k) => k === 'read' || k === 'write' || k === 'edit');
    if (fileKinds.length > 0 && !rule.path) ctx.addIssue({ code: 'custom', message: 'targets read/write/edit need a `path` match' });
    if (rule.target.includes('fetch') && !rule.url) ctx.addIssue({ code: 'custom', message: 'target fetch needs a `url` match' });
  });

export const LocationSchema = z
  .object({
    id: Id,
    /** Globs over the normalized path: `~` is the home folder, `**` crosses folders, `{a,b}` alternatives. */
    globs: z.array(z.string().min(1)).nonempty(),
    /** Globs that are excluded (`.env.example`). */
    except: z.array(z.string().min(1)).optional(),
    description: z.string().min(3),
  })
  .strict();

export const SequenceSchema = z
  .object({
    id: Id,
    /** Tags that must appear in this order (other actions may come between). */
    steps: z.array(Id).min(2),
    /** At most this many actions from the first step to the last. */
    within: z.number().int().min(2).max(10_000),
    score: Score,
    reason: z.string().min(3).max(160),
    /** The technique chain, one per step (or more). */
    techniques: z.array(Technique).nonempty(),
  })
  .strict();

export const RuleSetSchema = z
  .object({
    programSets: z.record(z.string().regex(/^@[a-z-]+$/), z.array(z.string().min(1)).nonempty()),
    locations: z.array(z.unknown()),
    rules: z.array(z.unknown()),
    sequences: z.array(z.unknown()),
  })
  .strict();

export type Rule = z.infer<typeof RuleSchema>;
export type CommandMatch = z.infer<typeof CommandMatchSchema>;
export type PathCond = z.infer<typeof PathCondSchema>;
export type Location = z.infer<typeof LocationSchema>;
export type Sequence = z.infer<typeof SequenceSchema>;

/** The raw data as written in rules.ts (checked at load, so loosely typed here). */
export interface RuleSetData {
  programSets: Record<string, string[]>;
  locations: unknown[];
  rules: unknown[];
  sequences: unknown[];
}

export class RuleSetError extends Error {
  override readonly name = 'RuleSetError';
}

export interface ValidRuleSet {
  programSets: Record<string, string[]>;
  locations: Location[];
  rules: Rule[];
  sequences: Sequence[];
}

function describe(err: z.ZodError): string {
  return err.issues.map((i) => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}

function label(raw: unknown, index: number, what: string): string {
  const id = raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : undefined;
  return id ? `${what} "${id}" (#${index})` : `${what} #${index} (no id)`;
}

/** Validates rule data; throws RuleSetError naming the first broken rule/location/sequence. */
export function validateRuleSet(data: unknown): ValidRuleSet {
  const top = RuleSetSchema.safeParse(data);
  if (!top.success) throw new RuleSetError(`audit rule set is malformed: ${describe(top.error)}`);
  const errors: string[] = [];
  const seen = new Set<string>();
  const each = <T>(list: unknown[], schema: z.ZodType<T>, what: string): T[] =>
    list.flatMap((raw, index) => {
      const parsed = schema.safeParse(raw);
      if (!parsed.success) {
        errors.push(`${label(raw, index, what)}: ${describe(parsed.error)}`);
        return [];
      }
      const id = (parsed.data as { id: string }).id;
      if (seen.has(`${what}:${id}`)) errors.push(`${label(raw, index, what)}: duplicate id`);
      seen.add(`${what}:${id}`);
      return [parsed.data];
    });
  if (top.data.rules.length === 0) throw new RuleSetError('audit rule set is invalid: no rules');
  const locations = each(top.data.locations, LocationSchema, 'location');
  const rules = each(top.data.rules, RuleSchema, 'rule');
  const sequences = each(top.data.sequences, SequenceSchema, 'sequence');
  const locationIds = new Set(locations.map((l) => l.id));
  const sets = top.data.programSets;
  const checkPrograms = (rule: Rule, list: string[] | undefined) => {
    for (const p of list ?? []) if (p.startsWith('@') && !sets[p]) errors.push(`rule "${rule.id}": unknown program set ${p}`);
  };
  const checkPath = (owner: string, cond: PathCond | undefined) => {
    for (const id of [...(cond?.location ?? []), ...(cond?.notLocation ?? [])])
      if (!locationIds.has(id)) errors.push(`${owner}: unknown location "${id}"`);
  };
  const tags = new Set<string>();
  for (const rule of rules) {
    checkPrograms(rule, rule.command?.program);
    checkPrograms(rule, rule.command?.pipedFrom);
    checkPrograms(rule, rule.command?.substFrom);
    checkPath(`rule "${rule.id}"`, rule.path);
    checkPath(`rule "${rule.id}"`, rule.command?.argPath);
    checkPath(`rule "${rule.id}"`, rule.command?.redirectTo);
    for (const t of rule.tags ?? []) tags.add(t);
  }
  for (const seq of sequences)
    for (const step of seq.steps) if (!tags.has(step)) errors.push(`sequence "${seq.id}": step "${step}" is a tag no rule sets`);
  if (errors.length > 0) throw new RuleSetError(`audit rule set is invalid: ${errors.slice(0, 10).join(' | ')}${errors.length > 10 ? ` (+${errors.length - 10} more)` : ''}`);
  return { programSets: sets, locations, rules, sequences };
}
