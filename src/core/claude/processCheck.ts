/**
 * Is the process a registry file names still the one that wrote it? A `kill -9` leaves the file
 * behind and the pid may be reused later: on Linux its start time (`procStart`, clock ticks after
 * boot, as in /proc/PID/stat) must match too. Elsewhere only liveness can be checked.
 */
import * as fs from 'node:fs';
import { decodeTtyNr } from '../discovery/procParsers';
import { isPidAlive } from '../os/pid';
import { parseProcStat } from '../os/procStat';

export type ProcessCheck =
  | { state: 'alive'; ppid?: number; tty?: string; verified: boolean }
  | { state: 'gone' }
  /** The pid lives but started at another time: another program reuses it. */
  | { state: 'reused' };

export function checkProcess(pid: number, procStart: string | undefined, procRoot = '/proc'): ProcessCheck {
  let statText: string | undefined;
  try {
    statText = fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') {
      // No /proc at all (macOS): fall back to signal 0.
      if (!fs.existsSync(`${procRoot}/self`)) return isPidAlive(pid) ? { state: 'alive', verified: false } : { state: 'gone' };
      return { state: 'gone' };
    }
    return isPidAlive(pid) ? { state: 'alive', verified: false } : { state: 'gone' };
  }
  const stat = parseProcStat(statText);
  if (!stat) return { state: 'gone' };
  // A zombie has exited: its registry entry is not a session any more.
  if (stat.state === 'Z' || stat.state === 'X') return { state: 'gone' };
  if (procStart !== undefined && /^\d+$/.test(procStart) && Number(procStart) !== stat.startTicks) return { state: 'reused' };
  const tty = decodeTtyNr(stat.ttyNr);
  return { state: 'alive', ppid: stat.ppid, ...(tty ? { tty } : {}), verified: procStart !== undefined };
}
