/**
 * Linux process helpers built on /proc only (no ps/pkill), so tests can stop exactly what they
 * started, by PID.
 */
import * as fs from 'node:fs';

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  /** Session id (setsid); bash-tool children of OpenCode get their own. */
  sid: number;
  /** Single-letter state from /proc/PID/stat; 'Z' = zombie (dead but not reaped). */
  state: string;
  args: string[];
  env?: Record<string, string>;
}

function readStat(pid: number): Omit<ProcInfo, 'args' | 'env'> | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and ')' so split after the LAST ')'.
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  const f = stat.slice(close + 2).split(' ');
  return { pid, state: f[0] ?? '?', ppid: Number(f[1]), pgid: Number(f[2]), sid: Number(f[3]) };
}

function readNulList(path: string): string[] | undefined {
  try {
    const raw = fs.readFileSync(path, 'utf8');
    return raw.split('\0').filter((s) => s.length > 0);
  } catch {
    return undefined;
  }
}

export function readEnv(pid: number): Record<string, string> | undefined {
  const list = readNulList(`/proc/${pid}/environ`);
  if (!list) return undefined;
  const env: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return env;
}

export function readProcess(pid: number, opts: { env?: boolean } = {}): ProcInfo | undefined {
  const st = readStat(pid);
  if (!st) return undefined;
  const info: ProcInfo = { ...st, args: readNulList(`/proc/${pid}/cmdline`) ?? [] };
  if (opts.env) info.env = readEnv(pid);
  return info;
}

/** Every process visible in /proc. `env` is read only when asked (it costs a file read each). */
export function listProcesses(opts: { env?: boolean } = {}): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const p = readProcess(Number(name), opts);
    if (p) out.push(p);
  }
  return out;
}

/** Transitive children by ppid (not including `pid` itself). */
export function descendantsOf(pid: number, procs: ProcInfo[] = listProcesses()): ProcInfo[] {
  const byParent = new Map<number, ProcInfo[]>();
  for (const p of procs) {
    const list = byParent.get(p.ppid);
    if (list) list.push(p);
    else byParent.set(p.ppid, [p]);
  }
  const out: ProcInfo[] = [];
  const seen = new Set<number>([pid]);
  const queue = [pid];
  while (queue.length > 0) {
    const cur = queue.shift() as number;
    for (const c of byParent.get(cur) ?? []) {
      if (seen.has(c.pid)) continue;
      seen.add(c.pid);
      out.push(c);
      queue.push(c.pid);
    }
  }
  return out;
}

/**
 * Bash-tool children of an OpenCode process: they carry OPENCODE_PID=<owner> and run in their
 * own session/process group, so killing the server's group misses them. Their descendants are
 * included too (env is inherited, but a child could scrub it).
 */
export function toolChildrenOf(ownerPid: number, procs?: ProcInfo[]): ProcInfo[] {
  const all = procs && procs.every((p) => p.env !== undefined) ? procs : listProcesses({ env: true });
  const want = String(ownerPid);
  const found = new Map<number, ProcInfo>();
  for (const p of all) {
    if (p.pid !== ownerPid && p.env?.OPENCODE_PID === want) found.set(p.pid, p);
  }
  for (const p of [...found.values()]) {
    for (const d of descendantsOf(p.pid, all)) found.set(d.pid, d);
  }
  return [...found.values()];
}

/** Alive = exists and is not a zombie (a zombie has exited; only its parent can reap it). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const st = readStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

export function signalPid(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Signal `pid`, its descendants and (for OpenCode servers) its tool children. The set is
 * collected before signalling so re-parented orphans are still hit. Returns the pids signalled.
 */
export function killTree(pid: number, signal: NodeJS.Signals = 'SIGTERM'): number[] {
  const procs = listProcesses({ env: true });
  const targets = new Map<number, true>();
  for (const p of toolChildrenOf(pid, procs)) targets.set(p.pid, true);
  for (const p of descendantsOf(pid, procs)) targets.set(p.pid, true);
  for (const t of [...targets.keys()]) {
    for (const p of toolChildrenOf(t, procs)) targets.set(p.pid, true);
  }
  const order = [pid, ...[...targets.keys()].filter((p) => p !== pid)];
  return order.filter((p) => signalPid(p, signal));
}

export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** Throws listing every pid that still runs (with its command line). */
export function assertNoLeftovers(pids: Iterable<number>): void {
  const alive = [...new Set(pids)].filter(isAlive);
  if (alive.length === 0) return;
  const lines = alive.map((pid) => {
    const p = readProcess(pid);
    return `  pid ${pid} (ppid ${p?.ppid ?? '?'}, pgid ${p?.pgid ?? '?'}): ${p?.args.join(' ') ?? '?'}`;
  });
  throw new Error(`processes left behind:\n${lines.join('\n')}`);
}
