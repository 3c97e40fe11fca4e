/**
 * A bounded POSIX-shell reader for risk scoring: it does not run anything, it only recovers which
 * programs a command line runs, with which words, redirections, pipeline neighbours and
 * substitutions. It sees through quoting ('…', "…", $'…', backslashes), `&&` `||` `;` `|` `&`
 * newlines, `( … )`, `{ … }`, `$( … )`, backticks, `<( … )`, here-documents, and (in unwrap.ts)
 * `sh -c`, `env`, `sudo` and friends.
 *
 * Bounded: every call shares one budget (characters scanned, words, commands, nesting depth).
 * Past a cap it stops descending and marks the result `truncated`; the scorer turns that into a
 * "too complex to analyse" finding instead of hanging or throwing.
 */

import type { Budget, ParseResult, ShellLimits, SimpleCommand, Word } from './shellTypes';
import { DEFAULT_LIMITS, newBudget, trip } from './shellTypes';
import { readAnsiC } from './ansiC';


/** Parses a command line. Never throws; bounded by `limits`. */
export function parseShell(src: string, limits: ShellLimits = DEFAULT_LIMITS): ParseResult {
  const budget = newBudget(limits);
  const commands = parseWithBudget(src, budget, 0);
  return { commands, truncated: budget.truncated, truncatedBy: budget.truncatedBy };
}

/** Parses `src` at nesting `depth` against a shared budget (used for sh -c strings too). */
export function parseWithBudget(src: string, budget: Budget, depth: number): SimpleCommand[] {
  if (depth > budget.limits.maxDepth) {
    trip(budget, 'depth');
    return [];
  }
  const room = budget.limits.maxChars - budget.chars;
  if (room <= 0) {
    trip(budget, 'chars');
    return [];
  }
  if (src.length > room) {
    trip(budget, 'chars');
    src = src.slice(0, room);
  }
  budget.chars += src.length;
  const parser = new Parser(src, budget, depth);
  try {
    parser.parseList(false);
  } catch {
    // Defensive: a bug in the reader must never stop scoring.
    trip(budget, 'chars');
  }
  return parser.out;
}

const OPERATOR_START = new Set([';', '&', '|', '\n', '(', ')', '<', '>']);
const DQ_RUN = /[^"\\$`]+/y;
const PLAIN_RUN = /[^\s'"\\$`<>;&|()]+/y;

class Parser {
  pos = 0;
  readonly out: SimpleCommand[] = [];
  private pendingHeredocs: Array<{ delim: string; strip: boolean; cmd: SimpleCommand }> = [];

  constructor(
    private readonly src: string,
    private readonly budget: Budget,
    private readonly depth: number,
  ) {}

  private stop(): boolean {
    return this.budget.truncated && (this.budget.truncatedBy === 'words' || this.budget.truncatedBy === 'commands');
  }

  /** Reads commands until the end (or an unmatched `)` when `inParen`). */
  parseList(inParen: boolean): void {
    const src = this.src;
    let current: SimpleCommand | undefined;
    let pipeline = this.budget.pipelines++;
    let pipeIndex = 0;
    const finish = () => {
      if (current && (current.words.length > 0 || current.redirects.length > 0)) {
        if (this.budget.commands >= this.budget.limits.maxCommands) trip(this.budget, 'commands');
        else {
          this.budget.commands++;
          this.out.push(current);
        }
      }
      current = undefined;
    };
    const cmd = (): SimpleCommand => {
      if (!current) current = { words: [], redirects: [], pipeline, pipeIndex, heredocs: [] };
      return current;
    };
    const newPipeline = () => {
      finish();
      pipeline = this.budget.pipelines++;
      pipeIndex = 0;
    };
    while (this.pos < src.length) {
      if (this.stop()) {
        this.pos = src.length;
        break;
      }
      const c = src[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\r') {
        this.pos++;
        continue;
      }
      if (c === '\\' && src[this.pos + 1] === '\n') {
        this.pos += 2;
        continue;
      }
      if (c === '#' && (!current || current.words.length === 0 || /\s/.test(src[this.pos - 1] ?? ' '))) {
        while (this.pos < src.length && src[this.pos] !== '\n') this.pos++;
        continue;
      }
      if (c === '\n') {
        this.pos++;
        newPipeline();
        this.readHeredocBodies();
        continue;
      }
      if (c === ';') {
        this.pos += src[this.pos + 1] === ';' ? 2 : 1;
        newPipeline();
        continue;
      }
      if (c === '&' && src[this.pos + 1] === '&') {
        this.pos += 2;
        newPipeline();
        continue;
      }
      if (c === '|' && src[this.pos + 1] === '|') {
        this.pos += 2;
        newPipeline();
        continue;
      }
      if (c === '|') {
        this.pos += src[this.pos + 1] === '&' ? 2 : 1;
        finish();
        pipeIndex++;
        continue;
      }
      if (c === '&' && src[this.pos + 1] !== '>') {
        this.pos++;
        newPipeline();
        continue;
      }
      if (c === '(' && (!current || current.words.length === 0)) {
        // Subshell `( … )` (or `((arith))`, read the same way: harmless).
        this.pos++;
        finish();
        this.nested();
        continue;
      }
      if (c === ')') {
        if (inParen) {
          this.pos++;
          finish();
          return;
        }
        this.pos++;
        continue;
      }
      // Redirection: [n]op word, or process substitution <( … ) as a word.
      const redir = this.readRedirOp();
      if (redir) {
        if (redir === '<<' || redir === '<<-') {
          const target = this.readWord();
          if (target) {
            const c2 = cmd();
            c2.redirects.push({ op: '<<', target });
            this.pendingHeredocs.push({ delim: target.text, strip: redir === '<<-', cmd: c2 });
          }
          continue;
        }
        const target = this.readWord();
        if (target) cmd().redirects.push({ op: redir, target });
        continue;
      }
      const word = this.readWord();
      if (word) {
        if (this.budget.words >= this.budget.limits.maxWords) {
          trip(this.budget, 'words');
          continue;
        }
        this.budget.words++;
        const c2 = cmd();
        // `{` and `}` group commands; as words they carry no meaning for us.
        if (!word.quoted && (word.text === '{' || word.text === '}') && c2.words.length === 0) continue;
        c2.words.push(word);
      } else {
        // Nothing readable here (stray operator char): skip it so the loop always advances.
        this.pos++;
      }
    }
    finish();
  }

  /** After `(`: a subshell, read to its `)`; its commands join this level's list. */
  private nested(): void {
    this.out.push(...this.subParse());
  }

  /** Skips to just after the `)` that closes an already opened group, without recursion. */
  private skipBalanced(): void {
    const src = this.src;
    let level = 1;
    let quote: string | undefined;
    while (this.pos < src.length) {
      const c = src[this.pos++]!;
      if (quote) {
        if (c === '\\' && quote === '"') this.pos++;
        else if (c === quote) quote = undefined;
        continue;
      }
      if (c === '\\') this.pos++;
      else if (c === '"' || c === "'" || c === '`') quote = c;
      else if (c === '(') level++;
      else if (c === ')' && --level === 0) return;
    }
  }

  private readRedirOp(): string | undefined {
    const src = this.src;
    let p = this.pos;
    while (p < src.length && p - this.pos < 3 && src[p]! >= '0' && src[p]! <= '9') p++;
    const rest = src.slice(p, p + 3);
    // Process substitution is a word, not a redirection.
    if (rest.startsWith('<(') || rest.startsWith('>(')) return undefined;
    for (const op of ['&>>', '<<<', '<<-', '>>', '<<', '&>', '>&', '<&', '<>', '>|', '>', '<']) {
      if (rest.startsWith(op)) {
        if (op.startsWith('&') && p !== this.pos) continue;
        this.pos = p + op.length;
        // `>&2`, `2>&1`: duplication, no file.
        if ((op === '>&' || op === '<&') && /^\s*(\d+|-)(?![^\s;&|<>()])/.test(src.slice(this.pos, this.pos + 12))) {
          const m = /^\s*(\d+|-)/.exec(src.slice(this.pos, this.pos + 12))!;
          this.pos += m[0].length;
          return this.readRedirOp() ?? this.skipNothing();
        }
        return op === '>|' ? '>' : op === '<&' ? '<' : op;
      }
    }
    return undefined;
  }

  private skipNothing(): undefined {
    return undefined;
  }

  private readHeredocBodies(): void {
    const src = this.src;
    while (this.pendingHeredocs.length > 0) {
      const doc = this.pendingHeredocs.shift()!;
      const lines: string[] = [];
      while (this.pos < src.length) {
        let end = src.indexOf('\n', this.pos);
        if (end < 0) end = src.length;
        let line = src.slice(this.pos, end);
        this.pos = Math.min(src.length, end + 1);
        if (doc.strip) line = line.replace(/^\t+/, '');
        if (line === doc.delim) break;
        lines.push(line);
      }
      doc.cmd.heredocs.push(lines.join('\n'));
    }
  }

  /** Reads one word (with its quoting and substitutions); undefined at an operator. */
  private readWord(): Word | undefined {
    const src = this.src;
    while (this.pos < src.length && (src[this.pos] === ' ' || src[this.pos] === '\t')) this.pos++;
    const start = this.pos;
    let text = '';
    const substs: SimpleCommand[][] = [];
    let quoted = false;
    let substParts = 0;
    let otherParts = 0;
    while (this.pos < src.length) {
      const c = src[this.pos]!;
      if (c === ' ' || c === '\t' || c === '\r' || c === '\n') break;
      if ((c === '<' || c === '>') && src[this.pos + 1] === '(') {
        this.pos += 2;
        substs.push(this.subParse());
        substParts++;
        text += '<(…)';
        continue;
      }
      if (OPERATOR_START.has(c)) break;
      if (c === '\\') {
        const n = src[this.pos + 1];
        this.pos += 2;
        if (n !== undefined && n !== '\n') text += n;
        otherParts++;
        quoted = true;
        continue;
      }
      if (c === "'") {
        const end = src.indexOf("'", this.pos + 1);
        const stop = end < 0 ? src.length : end;
        text += src.slice(this.pos + 1, stop);
        this.pos = stop + 1;
        quoted = true;
        otherParts++;
        continue;
      }
      if (c === '$' && src[this.pos + 1] === "'") {
        const { value, end } = readAnsiC(src, this.pos + 2);
        text += value;
        this.pos = end;
        quoted = true;
        otherParts++;
        continue;
      }
      if (c === '"' || (c === '$' && src[this.pos + 1] === '"')) {
        this.pos += c === '$' ? 2 : 1;
        const inner = this.readDoubleQuoted(substs);
        text += inner.text;
        if (inner.substOnly) substParts++;
        else otherParts++;
        quoted = true;
        continue;
      }
      if (c === '$' && src[this.pos + 1] === '(' && src[this.pos + 2] !== '(') {
        this.pos += 2;
        substs.push(this.subParse());
        substParts++;
        text += '$(…)';
        continue;
      }
      if (c === '`') {
        this.pos++;
        substs.push(this.backtick());
        substParts++;
        text += '$(…)';
        continue;
      }
      if (c === '$' && src[this.pos + 1] === '{') {
        const end = src.indexOf('}', this.pos + 2);
        const stop = end < 0 ? src.length : end + 1;
        text += src.slice(this.pos, stop);
        this.pos = stop;
        otherParts++;
        continue;
      }
      if (c === '$' && src[this.pos + 1] === '(' && src[this.pos + 2] === '(') {
        // Arithmetic: skip.
        this.pos += 3;
        this.skipBalanced();
        if (src[this.pos] === ')') this.pos++;
        text += '0';
        otherParts++;
        continue;
      }
      // Plain characters: take the whole run at once (a 1 MB word is one slice, not 1M appends).
      PLAIN_RUN.lastIndex = this.pos;
      const run = PLAIN_RUN.exec(src);
      if (run && run[0].length > 0) {
        text += run[0];
        this.pos += run[0].length;
      } else {
        text += c;
        this.pos++;
      }
      otherParts++;
    }
    if (this.pos === start) return undefined;
    return { text, substs, pureSubst: substParts === 1 && otherParts === 0, quoted };
  }

  private readDoubleQuoted(substs: SimpleCommand[][]): { text: string; substOnly: boolean } {
    const src = this.src;
    let text = '';
    let subs = 0;
    let other = 0;
    while (this.pos < src.length) {
      const c = src[this.pos]!;
      if (c === '"') {
        this.pos++;
        break;
      }
      if (c === '\\') {
        const n = src[this.pos + 1];
        if (n === '"' || n === '\\' || n === '$' || n === '`') text += n;
        else if (n === '\n') {
          // line continuation
        } else if (n !== undefined) text += '\\' + n;
        this.pos += 2;
        other++;
        continue;
      }
      if (c === '$' && src[this.pos + 1] === '(' && src[this.pos + 2] !== '(') {
        this.pos += 2;
        substs.push(this.subParse());
        text += '$(…)';
        subs++;
        continue;
      }
      if (c === '`') {
        this.pos++;
        substs.push(this.backtick());
        text += '$(…)';
        subs++;
        continue;
      }
      DQ_RUN.lastIndex = this.pos;
      const run = DQ_RUN.exec(src);
      const len = run ? run[0].length : 0;
      text += len > 0 ? run![0] : c;
      this.pos += Math.max(1, len);
      other++;
    }
    return { text, substOnly: subs === 1 && other === 0 };
  }

  /** After `$(` / `<(`: parses to the matching `)`. */
  private subParse(): SimpleCommand[] {
    if (this.depth + 1 > this.budget.limits.maxDepth) {
      trip(this.budget, 'depth');
      this.skipBalanced();
      return [];
    }
    const inner = new Parser(this.src, this.budget, this.depth + 1);
    inner.pos = this.pos;
    try {
      inner.parseList(true);
    } catch {
      trip(this.budget, 'chars');
    }
    this.pos = Math.max(inner.pos, this.pos);
    return inner.out;
  }

  /** After an opening backtick: the text up to the closing one, parsed as its own script. */
  private backtick(): SimpleCommand[] {
    const src = this.src;
    let body = '';
    while (this.pos < src.length && src[this.pos] !== '`') {
      if (src[this.pos] === '\\' && (src[this.pos + 1] === '`' || src[this.pos + 1] === '\\' || src[this.pos + 1] === '$')) {
        body += src[this.pos + 1];
        this.pos += 2;
        continue;
      }
      body += src[this.pos++];
    }
    this.pos++;
    return parseWithBudget(body, this.budget, this.depth + 1);
  }
}
