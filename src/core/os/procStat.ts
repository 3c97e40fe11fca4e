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
