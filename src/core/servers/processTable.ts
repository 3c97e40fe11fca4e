/**
 * Which processes a managed server left behind: its descendants by parent pid, its process group,
 * and (Linux) every process whose environment says OPENCODE_PID=<server>. OpenCode's bash-tool
 * children call setsid, so they leave the server's group, and they are re-parented once the
 * server dies; the environment is the one mark they keep. Linux reads /proc; macOS and other
 * Unixes run `ps` (argument array, no shell); Windows has `taskkill /T` instead (see killTree.ts).
 */
import { readdir, readFile } from 'node:fs/promises';
import type { CommandRunner } from '../os/exec';
import { runCommand } from '../os/exec';
import { parseProcStat } from '../os/procStat';
import { isPidAlive } from '../os/pid';
import { opencodePidFromEnviron } from '../os/environ';

export interface ProcEntry {
  pid: number;
  ppid: number;
  pgid: number;
  /** Single-letter state; `Z` = exited, waiting for its parent to reap it. */
  state: string;
  /** Linux start time (clock ticks since boot): tells a process from a later one with its pid. */
  startTicks?: number;
  /** OPENCODE_PID from its environment (Linux, own processes only). */
  opencodePid?: number;
}

export interface ProcessTable {
  /** Every process that can be read; throws when the table itself cannot be read. */
  list(): Promise<ProcEntry[]>;
  /** Still running (not a zombie) and, when known, the same process as when it was listed. */
  isAlive(entry: Pick<ProcEntry, 'pid' | 'startTicks'>): Promise<boolean>;
}

export function createProcessTable(platform: NodeJS.Platform = process.platform): ProcessTable {
  if (platform === 'linux') return linuxProcessTable();
  if (platform === 'win32') return { list: () => Promise.resolve([]), isAlive: (e) => Promise.resolve(isPidAlive(e.pid)) };
  return psProcessTable();
}

// ── Linux ────────────────────────────────────────────────────────────────────

export function linuxProcessTable(procRoot = '/proc'): ProcessTable {
  const stat = async (pid: number) => {
    try {
      return parseProcStat(await readFile(`${procRoot}/${pid}/stat`, 'utf8'));
    } catch {
      return undefined;
    }
  };
  return {
    async list() {
      const names = (await readdir(procRoot)).filter((n) => /^\d+$/.test(n));
      const entries = await Promise.all(
        names.map(async (name): Promise<ProcEntry | undefined> => {
          const pid = Number(name);
          const s = await stat(pid);
          if (!s) return undefined;
          const entry: ProcEntry = { pid, ppid: s.ppid, pgid: s.pgrp, state: s.state, startTicks: s.startTicks };
          const owner = await readOpencodePid(`${procRoot}/${pid}/environ`);
          if (owner !== undefined) entry.opencodePid = owner;
          return entry;
        }),
      );
      return entries.filter((e): e is ProcEntry => e !== undefined);
    },
    async isAlive(entry) {
      const s = await stat(entry.pid);
      if (!s || s.state === 'Z' || s.state === 'X' || s.state === 'x') return false;
      return entry.startTicks === undefined || s.startTicks === entry.startTicks;
    },
  };
}

/** Only OPENCODE_PID is kept: an environment may hold secrets. */
async function readOpencodePid(file: string): Promise<number | undefined> {
  let raw: string;
  try {
    raw = await readFile(file, 'latin1');
  } catch {
    return undefined; // another user's process, or gone
  }
  return opencodePidFromEnviron(raw);
}

// ── ps (macOS, BSD) ──────────────────────────────────────────────────────────

export function psProcessTable(run: CommandRunner = runCommand): ProcessTable {
  return {
    async list() {
      const result = await run('ps', ['-A', '-o', 'pid=,ppid=,pgid=,stat='], { timeoutMs: 5_000 });
      if (result.code !== 0) throw new Error(`ps exited with code ${result.code}: ${result.stderr.trim()}`);
      return parsePsTable(result.stdout);
    },
    async isAlive(entry) {
      if (!isPidAlive(entry.pid)) return false;
      try {
        const result = await run('ps', ['-o', 'stat=', '-p', String(entry.pid)], { timeoutMs: 2_000 });
        const state = result.stdout.trim();
        return result.code === 0 && state !== '' && !state.startsWith('Z');
      } catch {
        return true; // ps failed: the signal test said it runs
      }
    },
  };
}

/** `ps -A -o pid=,ppid=,pgid=,stat=` output: four columns, padded. */
export function parsePsTable(stdout: string): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\S+)/.exec(line);
    if (m) out.push({ pid: Number(m[1]), ppid: Number(m[2]), pgid: Number(m[3]), state: (m[4] ?? '').charAt(0) });
  }
  return out;
}

// ── The tree ─────────────────────────────────────────────────────────────────

/**
 * What belongs to `rootPid` (not itself): its process group, descendants by ppid, processes
 * marked OPENCODE_PID=<it or any member>, and their descendants, to a fixed point. Zombies are
 * left out: they are dead already.
 */
export function collectTree(rootPid: number, procs: readonly ProcEntry[]): ProcEntry[] {
  // init (or a bogus pid) is nobody's server: its "tree" would be every process.
  if (!Number.isInteger(rootPid) || rootPid <= 1) return [];
  const byParent = new Map<number, ProcEntry[]>();
  const byOwner = new Map<number, ProcEntry[]>();
  const add = (map: Map<number, ProcEntry[]>, key: number, entry: ProcEntry) => {
    const list = map.get(key);
    if (list) list.push(entry);
    else map.set(key, [entry]);
  };
  for (const p of procs) {
    add(byParent, p.ppid, p);
    if (p.opencodePid !== undefined) add(byOwner, p.opencodePid, p);
  }
  const found = new Map<number, ProcEntry>();
  const queue: number[] = [rootPid];
  const visit = (p: ProcEntry) => {
    if (p.pid === rootPid || found.has(p.pid)) return;
    found.set(p.pid, p);
    queue.push(p.pid);
  };
  for (const p of procs) if (p.pgid === rootPid) visit(p);
  while (queue.length > 0) {
    const pid = queue.shift() as number;
    for (const child of byParent.get(pid) ?? []) visit(child);
    for (const owned of byOwner.get(pid) ?? []) visit(owned);
  }
  return [...found.values()].filter((p) => p.state !== 'Z' && p.state !== 'X');
}
