/**
 * What the DB cannot tell, asked of the OS: is a bash tool really running (OpenCode's tool
 * children carry OPENCODE_PID=<owner pid>), when did a process start, does it still live.
 * Linux reads /proc; elsewhere only liveness is known and permissions fall back to a heuristic.
 */
import * as fs from 'node:fs';
import { opencodePidFromEnviron } from '../os/environ';
import { isPidAlive } from '../os/pid';
import { parseProcStat, readBootTimeMs, startTimeMs } from '../os/procStat';

export interface ProcessProbe {
  /** Whether `ownerPid` has a child process with OPENCODE_PID=<ownerPid>; `undefined` when this OS cannot tell. */
  hasToolChild(ownerPid: number): boolean | undefined;
  /** Process start time in ms since the epoch, when the OS tells. */
  startTime(pid: number): number | undefined;
  isAlive(pid: number): boolean;
}

export function createProcessProbe(platform: NodeJS.Platform = process.platform, procRoot = '/proc'): ProcessProbe {
  return platform === 'linux' ? new LinuxProcessProbe(procRoot) : { hasToolChild: () => undefined, startTime: () => undefined, isAlive: isPidAlive };
}

export class LinuxProcessProbe implements ProcessProbe {
  private bootTimeMs: number | undefined;
  /** /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN; without it, scan every stat's ppid. */
  private childrenFiles: boolean | undefined;

  constructor(private readonly procRoot = '/proc') {}

  hasToolChild(ownerPid: number): boolean | undefined {
    const children = this.childrenOf(ownerPid);
    if (children === undefined) return undefined;
    for (const child of children) {
      let environ: string;
      try {
        environ = fs.readFileSync(`${this.procRoot}/${child}/environ`, 'latin1');
      } catch {
        continue; // exited meanwhile, or not ours
      }
      if (opencodePidFromEnviron(environ) === ownerPid) return true;
    }
    return false;
  }

  startTime(pid: number): number | undefined {
    const ticks = this.stat(pid)?.startTicks;
    const boot = this.bootTime();
    if (ticks === undefined || boot === undefined) return undefined;
    return startTimeMs(boot, ticks);
  }

  isAlive(pid: number): boolean {
    if (!isPidAlive(pid)) return false;
    const state = this.stat(pid)?.state;
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
      if (this.stat(Number(name))?.ppid === pid) out.push(Number(name));
    }
    return out;
  }

  private stat(pid: number): ReturnType<typeof parseProcStat> {
    let text: string;
    try {
      text = fs.readFileSync(`${this.procRoot}/${pid}/stat`, 'latin1');
    } catch {
      return undefined;
    }
    return parseProcStat(text);
  }

  private bootTime(): number | undefined {
    this.bootTimeMs ??= readBootTimeMs(this.procRoot);
    return this.bootTimeMs;
  }
}
