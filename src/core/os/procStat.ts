/** Linux /proc primitives shared by discovery, the DB probe, managed servers and platform helpers. */
import * as fs from 'node:fs';

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  ttyNr: number;
  /** Clock ticks after boot (field 22). */
  startTicks: number;
}

/** PF_KTHREAD (include/linux/sched.h, unchanged since 2.6.27): a kernel thread, which never execs a program of ours. */
const PF_KTHREAD = 0x00200000;

/** A stat line's comm and its PF_* flags (field 9). */
export interface StatHead {
  comm: string;
  flags: number;
}

export function isKernelThread(head: StatHead): boolean {
  return (head.flags & PF_KTHREAD) !== 0;
}

/** comm and flags of a stat line, without splitting its ~50 fields (discovery reads one per new pid). */
export function parseStatHead(text: string): StatHead | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  // Field 9 (flags) follows six more fields after `) `: state ppid pgrp session tty_nr tpgid.
  let at = close + 1;
  for (let field = 3; field < 9; field++) {
    at = text.indexOf(' ', at + 1);
    if (at < 0) return undefined;
  }
  const end = text.indexOf(' ', at + 1);
  const flags = Number(text.slice(at + 1, end < 0 ? undefined : end));
  return Number.isFinite(flags) ? { comm: text.slice(open + 1, close), flags } : undefined;
}

/** Parses /proc/PID/stat; comm may hold spaces and parentheses, so it ends at the LAST `)`. */
export function parseProcStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const f = text.slice(close + 1).trim().split(/\s+/);
  // f[0] is field 3 (state); field N is f[N - 3].
  const num = (field: number): number => Number(f[field - 3]);
  const stat: ProcStat = {
    pid,
    comm: text.slice(open + 1, close),
    state: f[0] ?? '',
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    ttyNr: num(7),
    startTicks: num(22),
  };
  if (!Number.isInteger(pid) || !Number.isFinite(stat.ppid) || !Number.isFinite(stat.startTicks)) return undefined;
  return stat;
}

/** USER_HZ is 100 on every mainstream Linux build; /proc/PID/stat counts start time in it. */
export const CLOCK_TICKS_PER_SECOND = 100;

/** Boot time in ms since the epoch from `<procRoot>/stat` (`btime`); undefined when unreadable. */
export function readBootTimeMs(procRoot = '/proc', read: (file: string) => string | undefined = readLatin1): number | undefined {
  const m = /^btime\s+(\d+)/m.exec(read(`${procRoot}/stat`) ?? '');
  return m?.[1] ? Number(m[1]) * 1000 : undefined;
}

/** A process start time in ms since the epoch, from its start ticks and the boot time. */
export function startTimeMs(bootTimeMs: number, startTicks: number, ticksPerSecond = CLOCK_TICKS_PER_SECOND): number {
  return bootTimeMs + Math.round((startTicks * 1000) / ticksPerSecond);
}

function readLatin1(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch {
    return undefined;
  }
}
