/**
 * From parsed shell words to the commands that really run: strips `VAR=x` prefixes and wrappers
 * (`sudo`, `env`, `nohup`, `time`, `exec`, `command`, `nice`, `timeout`, `xargs`, …), reads
 * `sh -c "…"`, `bash -lc '…'`, `eval "…"` and here-documents fed to a shell as scripts of their own
 * (bounded by the same budget), and records pipeline neighbours and substitutions.
 */
import { parseWithBudget } from './shell';
import { newBudget, DEFAULT_LIMITS } from './shellTypes';
import type { ShellBudget, ShellLimits, SimpleCommand, Word, Redirect } from './shellTypes';

export interface ResolvedCommand {
  /** Basename of the program (`/usr/bin/curl` → `curl`); `$(…)` when computed; `` for bare assignments. */
  program: string;
  /** The program word as written (after quote removal). */
  rawProgram: string;
  /** Arguments after the program. */
  args: string[];
  /** Flags present: `--long` (before `=`) and every letter of short clusters (`-rf` → `-r`, `-f`). */
  flags: Set<string>;
  /** Arguments that are not flags, in order. */
  positionals: string[];
  /** Variable names assigned before the command, or by `export`/`unset`. */
  assigns: string[];
  redirects: Array<{ op: string; target: string }>;
  /** Programs earlier in the same pipeline. */
  upstream: string[];
  /** Programs run by substitutions in its words (recursively). */
  substPrograms: string[];
  /** Run through sudo/doas/su. */
  sudo: boolean;
}

export interface ResolvedScript {
  commands: ResolvedCommand[];
  truncated: boolean;
  truncatedBy?: string;
}

const SHELLS = new Set(['sh', 'bash', 'zsh', 'dash', 'ksh', 'mksh', 'ash', 'fish', 'csh', 'tcsh']);
const SUDOS = new Set(['sudo', 'doas', 'pkexec', 'gsudo']);

/** Wrappers: options that take a value (skipped with their value) before the wrapped command. */
const WRAPPERS: Record<string, { valueOpts: string[]; positionalsBefore?: number }> = {
  sudo: { valueOpts: ['-u', '-g', '-h', '-p', '-C', '-D', '-r', '-t', '-U', '-T', '-R', '--user', '--group', '--host', '--prompt', '--chdir', '--role', '--type', '--other-user', '--close-from', '--command-timeout'] },
  doas: { valueOpts: ['-u', '-C'] },
  pkexec: { valueOpts: ['--user'] },
  gsudo: { valueOpts: ['-u', '--user'] },
  nohup: { valueOpts: [] },
  busybox: { valueOpts: [] },
  time: { valueOpts: ['-f', '-o', '--format', '--output'] },
  exec: { valueOpts: ['-a'] },
  command: { valueOpts: [] },
  builtin: { valueOpts: [] },
  nice: { valueOpts: ['-n', '--adjustment'] },
  ionice: { valueOpts: ['-c', '-n', '-p', '--class', '--classdata'] },
  timeout: { valueOpts: ['-s', '-k', '--signal', '--kill-after'], positionalsBefore: 1 },
  gtimeout: { valueOpts: ['-s', '-k', '--signal', '--kill-after'], positionalsBefore: 1 },
  stdbuf: { valueOpts: ['-i', '-o', '-e'] },
  setsid: { valueOpts: [] },
  caffeinate: { valueOpts: ['-t', '-w'] },
  unbuffer: { valueOpts: [] },
  noglob: { valueOpts: [] },
  nocorrect: { valueOpts: [] },
  chronic: { valueOpts: [] },
  torsocks: { valueOpts: [] },
  proxychains: { valueOpts: ['-f'] },
  proxychains4: { valueOpts: ['-f'] },
  watch: { valueOpts: ['-n', '-d', '--interval'] },
  flock: { valueOpts: ['-w', '-E', '--timeout', '-c'], positionalsBefore: 1 },
  xargs: { valueOpts: ['-I', '-i', '-n', '-P', '-L', '-l', '-d', '-E', '-e', '-s', '-a', '--max-args', '--max-procs', '--delimiter', '--arg-file', '--replace'] },
  env: { valueOpts: ['-u', '--unset', '-C', '--chdir'] },
  'npx': { valueOpts: ['-p', '--package', '-c', '--call'] },
};

/** Options before a sub-command that take a value, so `git -C dir push` has sub-command `push`. */
const GLOBAL_VALUE_OPTS: Record<string, string[]> = {
  git: ['-C', '-c', '--git-dir', '--work-tree', '--namespace', '--exec-path', '--config-env'],
  docker: ['-H', '--host', '-c', '--context', '--config', '-l', '--log-level'],
  npm: ['-w', '--workspace', '--prefix', '-C'],
  pnpm: ['-C', '--dir', '-F', '--filter', '-w'],
  yarn: ['--cwd'],
  gh: ['-R', '--repo'],
  cargo: ['-Z', '--config', '--manifest-path', '-C'],
  kubectl: ['-n', '--namespace', '--context', '--kubeconfig'],
  aws: ['--profile', '--region', '--endpoint-url', '--output'],
};

/** The value options of a program (for positional detection), beyond the global ones. */
const VALUE_OPTS: Record<string, string[]> = {
  curl: ['-o', '--output', '-d', '--data', '--data-binary', '--data-raw', '--data-urlencode', '--json', '-F', '--form', '--form-string', '-T', '--upload-file', '-H', '--header', '-X', '--request', '-u', '--user', '-A', '--user-agent', '-e', '--referer', '-b', '--cookie', '-c', '--cookie-jar', '-m', '--max-time', '--connect-timeout', '-w', '--write-out', '-x', '--proxy', '--retry', '-K', '--config', '-E', '--cert', '--key', '--cacert', '-r', '--range', '-y', '-Y', '-z', '--resolve', '--connect-to', '--url'],
  wget: ['-O', '--output-document', '-o', '--output-file', '-P', '--directory-prefix', '--post-data', '--post-file', '--header', '-U', '--user-agent', '-T', '--timeout', '-t', '--tries', '--body-data', '--body-file', '--method', '-e', '-i', '--input-file'],
  git: ['-m', '--message', '-F', '--file', '-C', '-c', '-b', '-B', '--author', '--date', '-u', '--set-upstream-to', '-o', '--push-option', '--exec'],
  grep: ['-e', '-f', '-m', '-A', '-B', '-C', '--include', '--exclude', '--exclude-dir', '--color'],
  rg: ['-e', '-f', '-g', '--glob', '-t', '--type', '-T', '-m', '-A', '-B', '-C', '--max-depth', '-j'],
  find: [],
  ssh: ['-i', '-p', '-l', '-o', '-F', '-J', '-L', '-R', '-D', '-W', '-w', '-b', '-c', '-E', '-e', '-m', '-O', '-Q', '-S'],
  scp: ['-i', '-P', '-o', '-F', '-J', '-l', '-c', '-S'],
  rsync: ['-e', '--rsh', '--exclude', '--include', '--filter', '-f', '--exclude-from', '--include-from', '--files-from', '--chmod', '--chown', '--port', '--password-file', '--log-file', '-T', '--temp-dir', '--backup-dir', '--suffix'],
  nc: ['-p', '-s', '-w', '-i', '-q', '-e', '-c', '-x', '-X', '-I', '-O', '-T', '-V'],
  ncat: ['-p', '-s', '-w', '-i', '-e', '-c', '--exec', '--sh-exec', '--proxy', '-m'],
  python: ['-m', '-c', '-W', '-X'],
  python3: ['-m', '-c', '-W', '-X'],
  node: ['-e', '--eval', '-p', '--print', '-r', '--require', '--import', '--loader', '--conditions'],
  chmod: ['--reference'],
  chown: ['--reference', '--from'],
  docker: ['-t', '--tag', '-f', '--file', '-v', '--volume', '-e', '--env', '-p', '--publish', '--name', '--network', '--platform', '-w', '--workdir', '--entrypoint', '-u', '--user', '--build-arg', '--target', '--env-file', '--mount', '--label', '-l', '--cpus', '-m', '--memory'],
  npm: ['--tag', '--access', '--otp', '--registry', '-w', '--workspace'],
  sed: ['-e', '--expression', '-f', '--file', '-l'],
  tar: ['-f', '--file', '-C', '--directory', '-T', '--files-from', '-X', '--exclude-from'],
  tee: [],
  gpg: ['-o', '--output', '-r', '--recipient', '-u', '--local-user', '--homedir'],
  security: ['-s', '-a', '-l', '-c', '-D', '-j', '-r', '-k', '-t'],
  crontab: ['-u'],
  timeout: ['-s', '-k'],
};

export function basename(word: string): string {
  if (word === '$(…)') return word;
  const slash = Math.max(word.lastIndexOf('/'), word.lastIndexOf('\\'));
  let base = slash >= 0 ? word.slice(slash + 1) : word;
  if (/\.exe$/i.test(base)) base = base.slice(0, -4);
  return base;
}

function isFlagWord(text: string): boolean {
  return text.length > 1 && text.startsWith('-') && text !== '--';
}

function flagSet(args: string[]): Set<string> {
  const flags = new Set<string>();
  for (const a of args) {
    if (a === '--') break;
    if (!isFlagWord(a)) continue;
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      flags.add(eq > 0 ? a.slice(0, eq) : a);
      flags.add(a);
    } else {
      flags.add(a);
      const eq = a.indexOf('=');
      const cluster = eq > 0 ? a.slice(1, eq) : a.slice(1);
      if (/^[A-Za-z0-9]+$/.test(cluster)) for (const ch of cluster) flags.add('-' + ch);
      // `-XPOST`, `-ofile`: the first letter is the option.
      flags.add(a.slice(0, 2));
    }
  }
  return flags;
}

function positionalsOf(program: string, args: string[]): string[] {
  const valueOpts = new Set([...(GLOBAL_VALUE_OPTS[program] ?? []), ...(VALUE_OPTS[program] ?? [])]);
  const out: string[] = [];
  let afterDashes = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (afterDashes) {
      out.push(a);
      continue;
    }
    if (a === '--') {
      afterDashes = true;
      continue;
    }
    if (isFlagWord(a)) {
      if (valueOpts.has(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}

const MAX_UPSTREAM = 32;

const ASSIGN = /^([A-Za-z_][A-Za-z0-9_]*)\+?=/;

interface Expander {
  budget: ShellBudget;
  out: ResolvedCommand[];
}

/** Parses and resolves a command line. Never throws; bounded by `limits`. */
export function resolveScript(src: string, limits: ShellLimits = DEFAULT_LIMITS): ResolvedScript {
  const budget = newBudget(limits);
  const ex: Expander = { budget, out: [] };
  try {
    const parsed = parseWithBudget(src, budget, 0);
    expandList(ex, parsed, 0, []);
  } catch {
    budget.truncated = true;
    budget.truncatedBy ??= 'chars';
  }
  return { commands: ex.out, truncated: budget.truncated, truncatedBy: budget.truncatedBy };
}

function substProgramsOf(words: Word[], redirects: Redirect[]): string[] {
  const out: string[] = [];
  const visit = (cmds: SimpleCommand[], depth: number) => {
    if (depth > 16) return;
    for (const c of cmds) {
      const first = c.words.find((w) => !ASSIGN.test(w.text));
      if (first) out.push(basename(first.pureSubst ? '$(…)' : first.text));
      for (const w of c.words) for (const s of w.substs) visit(s, depth + 1);
    }
  };
  for (const w of words) for (const s of w.substs) visit(s, 0);
  for (const r of redirects) for (const s of r.target.substs) visit(s, 0);
  return out;
}

function expandList(ex: Expander, cmds: SimpleCommand[], depth: number, inheritedUpstream: string[]): void {
  const pipelines = new Map<number, string[]>();
  for (const cmd of cmds) {
    if (ex.out.length >= ex.budget.limits.maxCommands) {
      ex.budget.truncated = true;
      ex.budget.truncatedBy ??= 'commands';
      return;
    }
    // Substitutions run first.
    for (const w of cmd.words) for (const s of w.substs) expandList(ex, s, depth + 1, []);
    for (const r of cmd.redirects) for (const s of r.target.substs) expandList(ex, s, depth + 1, []);
    const before = pipelines.get(cmd.pipeline) ?? (cmd.pipeIndex === 0 ? [] : []);
    // The last MAX_UPSTREAM programs are enough to see `curl … | tee … | sh`; keeps long pipelines linear.
    const upstream = (cmd.pipeIndex === 0 ? inheritedUpstream : [...inheritedUpstream, ...before]).slice(-MAX_UPSTREAM);
    const program = expandCommand(ex, cmd, depth, upstream);
    pipelines.set(cmd.pipeline, [...before, ...program].slice(-MAX_UPSTREAM));
  }
}

/** Resolves one simple command (and what it runs inside); returns the program names it ran. */
function expandCommand(ex: Expander, cmd: SimpleCommand, depth: number, upstream: string[]): string[] {
  const words = cmd.words;
  const texts = words.map((w) => (w.pureSubst ? '$(…)' : w.text));
  const substPrograms = substProgramsOf(words, cmd.redirects);
  const redirects = cmd.redirects.filter((r) => r.op !== '<<').map((r) => ({ op: r.op, target: r.target.text }));
  const assigns: string[] = [];
  let i = 0;
  for (; i < texts.length && ASSIGN.test(texts[i]!); i++) assigns.push(ASSIGN.exec(texts[i]!)![1]!);
  let sudo = false;
  const ran: string[] = [];
  const emit = (c: Omit<ResolvedCommand, 'flags' | 'positionals'>) => {
    if (ex.out.length >= ex.budget.limits.maxCommands) {
      ex.budget.truncated = true;
      ex.budget.truncatedBy ??= 'commands';
      return;
    }
    ex.out.push({ ...c, flags: flagSet(c.args), positionals: positionalsOf(c.program, c.args) });
    ran.push(c.program);
  };
  // Wrappers, possibly stacked (`sudo env FOO=1 nohup curl …`).
  for (let guard = 0; guard < 16 && i < texts.length; guard++) {
    const name = basename(texts[i]!);
    const spec = WRAPPERS[name];
    if (!spec) break;
    const start = i;
    i++;
    let positionalsToSkip = spec.positionalsBefore ?? 0;
    while (i < texts.length) {
      const t = texts[i]!;
      if (t === '--') {
        i++;
        break;
      }
      if (name === 'env' && (t === '-S' || t === '--split-string') && i + 1 < texts.length) {
        // env -S "cmd args": the string is the command line.
        const inner = parseWithBudget(texts.slice(i + 1).join(' '), ex.budget, depth + 1);
        emit({ program: 'env', rawProgram: texts[start]!, args: texts.slice(start + 1, i + 1), assigns, redirects, upstream, substPrograms, sudo });
        expandList(ex, inner, depth + 1, upstream);
        return ran;
      }
      if (name === 'env' && ASSIGN.test(t)) {
        assigns.push(ASSIGN.exec(t)![1]!);
        i++;
        continue;
      }
      if (isFlagWord(t)) {
        i += spec.valueOpts.includes(t) ? 2 : 1;
        continue;
      }
      if (positionalsToSkip > 0) {
        positionalsToSkip--;
        i++;
        continue;
      }
      break;
    }
    if (name === 'command' && texts.slice(start + 1, i).some((t) => t === '-v' || t === '-V')) {
      i = texts.length; // `command -v x` only looks x up
      break;
    }
    if (SUDOS.has(name)) {
      sudo = true;
      emit({ program: name, rawProgram: texts[start]!, args: texts.slice(start + 1, i), assigns: [], redirects: [], upstream, substPrograms: [], sudo: true });
    } else if (i >= texts.length) {
      // `env` / `nohup` alone: it is the program.
      i = start;
      break;
    }
  }
  if (i >= texts.length) {
    if (assigns.length > 0 || redirects.length > 0) emit({ program: '', rawProgram: '', args: [], assigns, redirects, upstream, substPrograms, sudo });
    return ran;
  }
  const rawProgram = texts[i]!;
  const program = basename(rawProgram);
  const args = texts.slice(i + 1);
  if (program === 'export' || program === 'unset' || program === 'declare' || program === 'typeset' || program === 'local' || program === 'readonly') {
    for (const a of args) {
      const m = ASSIGN.exec(a);
      if (m) assigns.push(m[1]!);
      else if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(a) && program === 'unset') assigns.push(a);
    }
  }
  emit({ program, rawProgram, args, assigns, redirects, upstream, substPrograms, sudo });

  // What it runs inside: sh -c, eval, su -c, here-documents fed to a shell.
  let script: string | undefined;
  if (SHELLS.has(program)) {
    const cIndex = args.findIndex((a) => /^-[a-zA-Z]*c[a-zA-Z]*$/.test(a) && !a.startsWith('--'));
    if (cIndex >= 0) script = args.slice(cIndex + 1).find((a) => !isFlagWord(a));
    else if (cmd.heredocs.length > 0) script = cmd.heredocs.join('\n');
  } else if (program === 'eval') script = args.join(' ');
  else if (program === 'su' || program === 'runuser') {
    const cIndex = args.findIndex((a) => a === '-c' || a === '--command');
    if (cIndex >= 0) script = args[cIndex + 1];
  } else if (program === 'xargs' || program === 'find' || program === 'watch') {
    // handled by WRAPPERS / -exec args
  }
  if (script !== undefined && script.trim() !== '') {
    const inner = parseWithBudget(script, ex.budget, depth + 1);
    expandList(ex, inner, depth + 1, upstream);
  }
  return ran;
}
