/** What the shell reader (shell.ts) returns, and the budget that bounds it. */
export interface ShellLimits {
  /** Nesting of $( ), ``, <( ), ( ) and sh -c strings. */
  maxDepth: number;
  /** Words over the whole parse (all depths). */
  maxWords: number;
  /** Simple commands over the whole parse. */
  maxCommands: number;
  /** Characters read over the whole parse (re-reads of sh -c strings count again). */
  maxChars: number;
}

export const DEFAULT_LIMITS: ShellLimits = { maxDepth: 8, maxWords: 20_000, maxCommands: 2_000, maxChars: 2_000_000 };

export interface Word {
  /** The value after quote removal; expansions (`$X`, `${X}`) are kept as written. */
  text: string;
  /** Commands run by substitutions inside this word ($( ), ``, <( ), >( )). */
  substs: SimpleCommand[][];
  /** The word is exactly one substitution (`$(curl …)`, `<(curl …)`). */
  pureSubst: boolean;
  /** Some part of it was quoted (so it is not a glob / operator). */
  quoted: boolean;
}

export interface Redirect {
  /** `>`, `>>`, `<`, `&>`, `&>>`, `>&`, `<>`, `>|`, `<<<`, `<<` (fd prefix removed). */
  op: string;
  target: Word;
}

export interface SimpleCommand {
  words: Word[];
  redirects: Redirect[];
  /** Index (in the flat list of this parse level) of the commands earlier in the same pipeline. */
  pipeline: number;
  /** Position inside its pipeline (0 = first). */
  pipeIndex: number;
  /** Here-document bodies fed to this command (stdin). */
  heredocs: string[];
}

export interface ParseResult {
  commands: SimpleCommand[];
  truncated: boolean;
  /** Why it was truncated, for the finding's reason. */
  truncatedBy?: 'depth' | 'words' | 'commands' | 'chars';
}

export interface Budget {
  limits: ShellLimits;
  words: number;
  commands: number;
  chars: number;
  truncated: boolean;
  truncatedBy?: ParseResult['truncatedBy'];
  pipelines: number;
}

export function newBudget(limits: ShellLimits = DEFAULT_LIMITS): Budget {
  return { limits, words: 0, commands: 0, chars: 0, truncated: false, pipelines: 0 };
}

export type { Budget as ShellBudget };

export function trip(budget: Budget, by: NonNullable<ParseResult['truncatedBy']>): void {
  if (!budget.truncated) budget.truncatedBy = by;
  budget.truncated = true;
}
