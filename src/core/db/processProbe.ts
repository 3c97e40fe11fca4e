/**
 * What the DB cannot tell, asked of the OS: is a bash tool really running (OpenCode's tool
 * children carry OPENCODE_PID=<owner pid>), when did a process start, does it still live.
 * Linux reads /proc; elsewhere only liveness is known and permissions fall back to a heuristic.
 */
import * as fs from 'node:fs';

export interface ProcessProbe {
  /** Whether `ownerPid` has a child process with OPENCODE_PID=<ownerPid>; `undefined` when this OS cannot tell. */
  hasToolChild(ownerPid: number): boolean | undefined;
  /** Process start time in ms since the epoch, when the OS tells. */
  startTime(pid: number): number | undefined;
  isAlive(pid: number): boolean;
}

export function createProcessProbe(platform: NodeJS.Platform = process.platform, procRoot = '/proc'): ProcessProbe {
  return platform === 'linux' ? new LinuxProcessProbe(procRoot) : { hasToolChild: () => undefined, startTime: () => undefined, isAlive: signalAlive };
}

/** USER_HZ is 100 on every mainstream Linux build; /proc/PID/stat counts start time in it. */
const CLOCK_TICKS_PER_SECOND = 100;

export class LinuxProcessProbe implements ProcessProbe {
  private bootTimeMs: number | undefined;
  /** /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN; without it, scan every stat's ppid. */
  private childrenFiles: boolean | undefined;

  constructor(private readonly procRoot = '/proc') {}

  hasToolChild(ownerPid: number): boolean | undefined {
    const children = this.childrenOf(ownerPid);
    if (children === undefined) return undefined;
    const marker = `\0OPENCODE_PID=${ownerPid}\0`;
    for (const child of children) {
      let environ: string;
      try {
        environ = fs.readFileSync(`${this.procRoot}/${child}/environ`, 'latin1');
      } catch {
        continue; // exited meanwhile, or not ours
      }
      if (`\0${environ}\0`.includes(marker)) return true;
    }
    return false;
  }

  startTime(pid: number): number | undefined {
    const fields = this.statFields(pid);
    const ticks = fields ? Number(fields[19]) : NaN; // field 22 overall; fields start at field 3
    const boot = this.bootTime();
    if (!Number.isFinite(ticks) || boot === undefined) return undefined;
    return boot + Math.round((ticks * 1000) / CLOCK_TICKS_PER_SECOND);
  }

  isAlive(pid: number): boolean {
    if (!signalAlive(pid)) return false;
    const state = this.statFields(pid)?.[0];
    return state !== 'Z' && state !== 'X';
  }

  /** Direct children of `pid` (tool children are direct children of the OpenCode process). */
  private childrenOf(pid: number): number[] | undefined {
    this.childrenFiles ??= fs.existsSync(`${this.procRoot}/${process.pid}/task/${process.pid}/children`);
    if (this.childrenFiles) {
      let tids: string[];
      try {
        tids = fs.readdirSync(`${this.procRoot}/${pid}/task`);
      } catch {
        return []; // the owner is gone
      }
      const out: number[] = [];
      for (const tid of tids) {
        try {
          const text = fs.readFileSync(`${this.procRoot}/${pid}/task/${tid}/children`, 'latin1');
          for (const token of text.split(' ')) if (token.trim()) out.push(Number(token));
        } catch {
          // that thread ended meanwhile
        }
      }
      return out;
    }
    let names: string[];
    try {
      names = fs.readdirSync(this.procRoot);
    } catch {
      return undefined;
    }
    const out: number[] = [];
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57) continue;
      const fields = this.statFields(Number(name));
      if (fields && Number(fields[1]) === pid) out.push(Number(name));
    }
    return out;
  }

  /** /proc/PID/stat from field 3 (state) on; comm may hold spaces and parentheses. */
  private statFields(pid: number): string[] | undefined {
    let stat: string;
    try {
      stat = fs.readFileSync(`${this.procRoot}/${pid}/stat`, 'latin1');
    } catch {
      return undefined;
    }
    const close = stat.lastIndexOf(')');
    return close < 0 ? undefined : stat.slice(close + 2).split(' ');
  }

  private bootTime(): number | undefined {
    if (this.bootTimeMs === undefined) {
      try {
        const m = /^btime\s+(\d+)/m.exec(fs.readFileSync(`${this.procRoot}/stat`, 'latin1'));
        if (m?.[1]) this.bootTimeMs = Number(m[1]) * 1000;
      } catch {
        // unknown
      }
    }
    return this.bootTimeMs;
  }
}

function signalAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
