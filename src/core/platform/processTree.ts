/**
 * Parent-process chains, to find which terminal (a shell somewhere above the process) runs an
 * OpenCode instance. Linux reads /proc; other Unixes ask `ps -o ppid= -p PID` (argument arrays,
 * no shell); Windows has neither, so the chain stops at the known parent.
 */
import { readFile } from 'node:fs/promises';
import { parseProcStat } from '../os/procStat';
import type { CommandRunner } from '../os/exec';
import { runCommand } from '../os/exec';

/** Parent pid of a process, or undefined when it is gone or cannot be read. */
export type PpidReader = (pid: number) => Promise<number | undefined>;

/** Deep enough for shells inside tmux inside ssh inside a terminal; a cycle guard besides. */
export const MAX_CHAIN_DEPTH = 64;

/** `ps -o ppid= -p PID` prints the number alone (padded), or nothing when the pid is gone. */
export function parsePsPpid(stdout: string): number | undefined {
  const text = stdout.trim();
  if (!/^\d+$/.test(text)) return undefined;
  return Number(text);
}

export function ppidFromProcStat(text: string): number | undefined {
  return parseProcStat(text)?.ppid;
}

export interface PpidReaderOptions {
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  read?: (path: string) => Promise<string>;
}

export function createPpidReader(options: PpidReaderOptions = {}): PpidReader {
  const platform = options.platform ?? process.platform;
  if (platform === 'win32') return () => Promise.resolve(undefined);
  if (platform === 'linux') {
    const read = options.read ?? ((path: string) => readFile(path, 'utf8'));
    return async (pid) => {
      try {
        return ppidFromProcStat(await read(`/proc/${pid}/stat`));
      } catch {
        return undefined;
      }
    };
  }
  const run = options.run ?? runCommand;
  return async (pid) => {
    try {
      const result = await run('ps', ['-o', 'ppid=', '-p', String(pid)], { timeoutMs: 2_000 });
      return result.code === 0 ? parsePsPpid(result.stdout) : undefined;
    } catch {
      return undefined;
    }
  };
}

/**
 * `[pid, parent, grandparent, …]` up to (not including) pid 0; pid 1 ends it too. `knownPpid`
 * (from discovery) saves the first read.
 */
export async function ancestorChain(pid: number, readPpid: PpidReader, knownPpid?: number): Promise<number[]> {
  const chain = [pid];
  const seen = new Set(chain);
  let current = pid;
  let next: number | undefined = knownPpid;
  while (chain.length < MAX_CHAIN_DEPTH) {
    if (next === undefined) next = await readPpid(current);
    if (next === undefined || next <= 0 || seen.has(next)) break;
    chain.push(next);
    seen.add(next);
    if (next === 1) break;
    current = next;
    next = undefined;
  }
  return chain;
}

/**
 * The candidate closest to the process: the first pid of the chain that some candidate has
 * (a terminal's shell pid). Pid 1 (init, launchd) never counts as a terminal.
 */
export function closestAncestor<T>(chain: readonly number[], candidates: Iterable<readonly [number | undefined, T]>): T | undefined {
  const byPid = new Map<number, T>();
  for (const [pid, value] of candidates) if (pid !== undefined && pid > 1 && !byPid.has(pid)) byPid.set(pid, value);
  for (const pid of chain) {
    const hit = byPid.get(pid);
    if (hit !== undefined) return hit;
  }
  return undefined;
}
