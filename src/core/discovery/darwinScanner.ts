/**
 * macOS: `ps` every scan (one process listing), and only for OpenCode pids: `lsof` for LISTEN
 * sockets (when listenRefreshDue says so) and cwd, `ps -E` for HOME/XDG_DATA_HOME — the latter two
 * once per (pid, start time). Parsers are pure and exported for the tests.
 */
import { classifyArgs, isOpencodeExecutable, keepCandidates, pickEnv, toOpencodeProcess } from './classify';
import type { ArgvRole, Candidate, EnvSubset } from './classify';
import { ScannerTools } from './scannerTools';
import type { ToolScannerOptions } from './scannerTools';
import type { ListenAddress, OpencodeProcess, ProcessScanner } from './types';
import { describeError } from '../util/describe';

// ── Pure parsers ─────────────────────────────────────────────────────────────

export const PS_ARGS = ['-axww', '-o', 'pid=,ppid=,uid=,tty=,lstart=,args='] as const;

export interface PsRow {
  pid: number;
  ppid: number;
  uid: number;
  /** `ttys003`; undefined for `??`. */
  tty?: string;
  /** From lstart (local time, whole seconds): stable for the life of the process. */
  startTime?: number;
  /** The whole command line as ps prints it (argv joined by spaces). */
  command: string;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const PS_LINE =
  /^\s*(\d+)\s+(\d+)\s+(-?\d+)\s+(\S+)\s+[A-Za-z]{3}\s+([A-Za-z]{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(\d{4})\s?(.*)$/;

/** Output of `ps -axww -o pid=,ppid=,uid=,tty=,lstart=,args=` (run with LC_ALL=C). */
export function parsePsOutput(text: string): PsRow[] {
  const rows: PsRow[] = [];
  for (const line of text.split('\n')) {
    const m = PS_LINE.exec(line);
    if (!m) continue;
    const [, pid, ppid, uid, tty, mon, day, hh, mm, ss, year, command] = m;
    const month = MONTHS.indexOf((mon ?? '').toLowerCase());
    const row: PsRow = { pid: Number(pid), ppid: Number(ppid), uid: Number(uid), command: (command ?? '').trim() };
    const t = ttyName(tty ?? '');
    if (t) row.tty = t;
    if (month >= 0) row.startTime = new Date(Number(year), month, Number(day), Number(hh), Number(mm), Number(ss)).getTime();
    rows.push(row);
  }
  return rows;
}

function ttyName(tty: string): string | undefined {
  if (tty === '' || tty === '?' || tty === '??' || tty === '-') return undefined;
  return tty.replace(/^\/dev\//, '');
}

/**
 * Re-splits a ps command line. argv[0] may hold spaces (`/Users/a b/bin/opencode`), so it may end
 * at the first OpenCode executable name — if that reads like one absolute path, not like
 * `vim /tmp/opencode` or `/usr/bin/node /x/opencode`. Later arguments are split on whitespace
 * (their own spaces are lost, which classification tolerates).
 */
export function splitPsCommand(command: string): string[] {
  const text = command.trim();
  if (text === '') return [];
  const exe = /^(.*?(?:^|\/)\.?opencode(?:-wrapped)?)(?=\s|$)/i.exec(text)?.[1];
  if (exe !== undefined && isOpencodeExecutable(exe)) {
    const pieces = exe.split(/\s+/);
    const first = pieces[0] ?? '';
    const onePath =
      pieces.length === 1 ||
      (first.startsWith('/') && !RUNTIME.test(first.split('/').pop() ?? '') && pieces.slice(1).every((p) => !/^[-/]/.test(p)));
    if (onePath) {
      const rest = text.slice(exe.length).trim();
      return [exe, ...(rest ? rest.split(/\s+/) : [])];
    }
  }
  return text.split(/\s+/);
}

const RUNTIME = /^(node|nodejs|bun)$/i;

/**
 * `lsof -nP -a -p <pids> -iTCP -sTCP:LISTEN -Fpn`: `p<pid>` starts a process, `n<addr>:<port>`
 * names a socket (`*:4096`, `127.0.0.1:4096`, `[::1]:4096`); other field lines are ignored.
 */
export function parseLsofListen(text: string): Map<number, ListenAddress[]> {
  const out = new Map<number, ListenAddress[]>();
  let pid: number | undefined;
  for (const line of text.split('\n')) {
    const tag = line[0];
    const value = line.slice(1).trim();
    if (tag === 'p') {
      pid = Number(value);
      if (!out.has(pid)) out.set(pid, []);
    } else if (tag === 'n' && pid !== undefined) {
      const listener = parseLsofAddress(value);
      if (listener) out.get(pid)?.push(listener);
    }
  }
  return out;
}

function parseLsofAddress(name: string): ListenAddress | undefined {
  // A connected socket would read `a:1->b:2`; LISTEN ones have no arrow.
  if (name.includes('->')) return undefined;
  const m = /^(\[[^\]]*\]|[^:]*|.*):(\d+)$/.exec(name);
  if (!m) return undefined;
  let address = m[1] ?? '';
  if (address.startsWith('[')) address = address.slice(1, -1);
  return { address, port: Number(m[2]) };
}

/** `lsof -a -d cwd -p <pids> -Fn`: pid → cwd; error names such as `/x (readlink: …)` are dropped. */
export function parseLsofCwd(text: string): Map<number, string> {
  const out = new Map<number, string>();
  let pid: number | undefined;
  for (const line of text.split('\n')) {
    const tag = line[0];
    const value = line.slice(1);
    if (tag === 'p') pid = Number(value.trim());
    else if (tag === 'n' && pid !== undefined && !out.has(pid) && value.startsWith('/') && !/ \([^)]*: [^)]*\)$/.test(value)) {
      out.set(pid, value);
    }
  }
  return out;
}

export const PS_ENV_ARGS = (pids: readonly number[]): string[] => ['-E', '-ww', '-o', 'pid=,command=', '-p', pids.join(',')];

/**
 * `ps -E -ww -o pid=,command= -p <pids>` prints the environment after the arguments. `commands`
 * (pid → command line from the plain listing) lets us skip the arguments first; a value runs until
 * the next ` NAME=`.
 */
export function parsePsEnv(text: string, commands: ReadonlyMap<number, string> = new Map()): Map<number, EnvSubset> {
  const out = new Map<number, EnvSubset>();
  for (const line of text.split('\n')) {
    const m = /^\s*(\d+)\s(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    let rest = (m[2] ?? '').trim();
    const command = commands.get(pid);
    if (command && rest.startsWith(command)) rest = rest.slice(command.length);
    const entries: Array<[string, string]> = [];
    const re = /(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=(.*?)(?=\s+[A-Za-z_][A-Za-z0-9_]*=|$)/g;
    for (let e = re.exec(rest); e; e = re.exec(rest)) entries.push([e[1] as string, e[2] as string]);
    out.set(pid, pickEnv(entries));
  }
  return out;
}

// ── Scanner ──────────────────────────────────────────────────────────────────

export interface DarwinScannerOptions extends ToolScannerOptions {
  uid?: number;
}

interface Known {
  key: string;
  firstSeen: number;
  cwd?: string;
  cwdTries: number;
  env?: EnvSubset;
  listeners?: ListenAddress[];
}

export class DarwinProcessScanner implements ProcessScanner {
  private readonly tools: ScannerTools;
  private readonly uid: number;
  private readonly known = new Map<number, Known>();

  constructor(options: DarwinScannerOptions = {}) {
    this.tools = new ScannerTools(options, 5_000);
    this.uid = options.uid ?? process.getuid?.() ?? -1;
  }

  async scan(): Promise<OpencodeProcess[]> {
    const ps = await this.tools.run('ps', PS_ARGS);
    if (ps.code !== 0) throw new Error(`ps exited with ${ps.code}: ${ps.stderr.trim().slice(0, 200)}`);
    const now = this.tools.now();
    const rows = parsePsOutput(ps.stdout).filter((r) => r.uid === this.uid && /opencode/i.test(r.command));
    const candidates: Array<Candidate & { info: Known; role: ArgvRole }> = [];
    const seen = new Set<number>();
    for (const row of rows) {
      const args = splitPsCommand(row.command);
      const role = classifyArgs(args);
      if (role.role === 'other') continue;
      const key = `${row.startTime ?? ''}|${row.command}`;
      let info = this.known.get(row.pid);
      if (!info || info.key !== key) {
        info = { key, firstSeen: now, cwdTries: 0 };
        this.known.set(row.pid, info);
      }
      seen.add(row.pid);
      const c: Candidate & { info: Known } = { pid: row.pid, ppid: row.ppid, args, role, listeners: [], info };
      if (row.tty) c.tty = row.tty;
      if (row.startTime !== undefined) c.startTime = row.startTime;
      candidates.push(c);
    }
    for (const pid of this.known.keys()) if (!seen.has(pid)) this.known.delete(pid);

    // The environment (OPENCODE_PID) decides what is kept, so details come first.
    const watchable = candidates.filter((c) => c.role.role === 'instance' || c.role.role === 'wrapper');
    await this.fillDetails(watchable, rows);
    for (const c of watchable) {
      if (c.info.cwd) c.cwd = c.info.cwd;
      if (c.info.env) c.env = c.info.env;
    }
    const kept = keepCandidates(candidates);
    await this.fillListeners(kept.filter((c) => c.role.role === 'instance'), now);
    for (const c of kept) c.listeners = c.info.listeners ?? [];
    return kept.map((c) => toOpencodeProcess(c));
  }

  /** cwd and environment, once per process (cwd retried a few times: the TUI may chdir at start). */
  private async fillDetails(candidates: Array<Candidate & { info: Known }>, rows: PsRow[]): Promise<void> {
    const needCwd = candidates.filter((c) => c.info.cwd === undefined && c.info.cwdTries < 3);
    const needEnv = candidates.filter((c) => c.info.env === undefined);
    const tasks: Array<Promise<void>> = [];
    if (needCwd.length > 0) {
      tasks.push(
        this.tool('lsof', ['-a', '-d', 'cwd', '-p', needCwd.map((c) => c.pid).join(','), '-Fn']).then((out) => {
          const cwds = parseLsofCwd(out ?? '');
          for (const c of needCwd) {
            c.info.cwdTries++;
            const cwd = cwds.get(c.pid);
            if (cwd) c.info.cwd = cwd;
          }
        }),
      );
    }
    if (needEnv.length > 0) {
      const commands = new Map(rows.map((r) => [r.pid, r.command]));
      tasks.push(
        this.tool('ps', PS_ENV_ARGS(needEnv.map((c) => c.pid))).then((out) => {
          const envs = parsePsEnv(out ?? '', commands);
          // Unreadable stays {}: not asked again for this process.
          for (const c of needEnv) c.info.env = envs.get(c.pid) ?? {};
        }),
      );
    }
    await Promise.all(tasks);
  }

  private async fillListeners(candidates: Array<Candidate & { info: Known }>, now: number): Promise<void> {
    if (!this.tools.listingDue(now, candidates)) return;
    const out = await this.tool('lsof', ['-nP', '-a', '-p', candidates.map((c) => c.pid).join(','), '-iTCP', '-sTCP:LISTEN', '-Fpn']);
    if (out === undefined) return;
    const listening = parseLsofListen(out);
    for (const c of candidates) c.info.listeners = listening.get(c.pid) ?? [];
  }

  /** stdout of a helper tool; exit 1 is lsof's "nothing found"; failures are logged once each. */
  private async tool(file: string, args: string[]): Promise<string | undefined> {
    try {
      const r = await this.tools.run(file, args);
      if (r.code === 0 || r.code === 1) return r.stdout;
      this.tools.warnOnce(`${file} exited with ${r.code}: ${r.stderr.trim().slice(0, 200)}`);
    } catch (error) {
      this.tools.warnOnce(`${file} failed: ${describeError(error)}`);
    }
    return undefined;
  }
}
