/**
 * Windows (best effort): `tasklist` filtered on opencode.exe and the current user every scan,
 * PowerShell/CIM once per new pid for its parent and command line, `netstat -ano` for LISTEN
 * sockets (when listenRefreshDue says so). No cwd, tty or environment: Windows offers no cheap,
 * tool-only way to read another process's. Parsers are pure and exported for the tests.
 */
import * as path from 'node:path';
import * as os from 'node:os';
import { classifyArgs, isOpencodeExecutable, keepCandidates, toOpencodeProcess } from './classify';
import type { ArgvRole, Candidate } from './classify';
import { ScannerTools } from './scannerTools';
import type { ToolScannerOptions } from './scannerTools';
import type { ListenAddress, OpencodeProcess, ProcessScanner } from './types';
import { describeError } from '../util/describe';

// ── Pure parsers ─────────────────────────────────────────────────────────────

/** One CSV record as tasklist writes it: every field quoted, `""` for a quote. */
export function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i < line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else {
          value += line[i++];
        }
      }
      fields.push(value);
      while (i < line.length && line[i] !== ',') i++;
    } else {
      const end = line.indexOf(',', i);
      fields.push(line.slice(i, end < 0 ? line.length : end).trim());
      i = end < 0 ? line.length : end;
    }
    if (line[i] === ',') {
      i++;
      if (i === line.length) fields.push('');
    }
  }
  return fields;
}

/** `tasklist /fo csv /nh …`: image name and pid; "INFO: No tasks …" (localized) yields nothing. */
export function parseTasklistCsv(text: string): Array<{ image: string; pid: number }> {
  const out: Array<{ image: string; pid: number }> = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.startsWith('"')) continue;
    const [image, pid] = parseCsvLine(line);
    if (image && pid && /^\d+$/.test(pid)) out.push({ image, pid: Number(pid) });
  }
  return out;
}

/**
 * `netstat -ano` TCP rows in LISTEN state: pid → sockets. The state word is localized
 * (LISTENING, ABHÖREN, …), so a foreign address of `0.0.0.0:0` / `[::]:0` also marks a listener.
 */
export function parseNetstatListening(text: string): Map<number, ListenAddress[]> {
  const out = new Map<number, ListenAddress[]>();
  for (const line of text.split(/\r?\n/)) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 5 || !/^TCP(v6)?$/i.test(f[0] ?? '')) continue;
    const [, local, foreign, state, pidText] = f as [string, string, string, string, string];
    if (!(state.toUpperCase() === 'LISTENING' || foreign === '0.0.0.0:0' || foreign === '[::]:0')) continue;
    const m = /^(\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(local);
    if (!m || !/^\d+$/.test(pidText)) continue;
    let address = m[2] ?? m[3] ?? '';
    address = address.replace(/%\d+$/, '');
    const pid = Number(pidText);
    const list = out.get(pid) ?? [];
    list.push({ address, port: Number(m[4]) });
    out.set(pid, list);
  }
  return out;
}

export interface CimProcess {
  pid: number;
  ppid: number;
  commandLine?: string;
  /** ms since the epoch. */
  startTime?: number;
}

/**
 * `Get-CimInstance Win32_Process … | Select-Object ProcessId,ParentProcessId,CommandLine,CreationDate
 * | ConvertTo-Json`: one object or an array. CreationDate is `/Date(ms)/` (PowerShell 5.1) or ISO
 * 8601 (PowerShell 7).
 */
export function parseCimProcessJson(text: string): CimProcess[] {
  const trimmed = text.trim();
  if (trimmed === '') return [];
  const parsed: unknown = JSON.parse(trimmed);
  const list = Array.isArray(parsed) ? parsed : [parsed];
  const out: CimProcess[] = [];
  for (const item of list) {
    if (typeof item !== 'object' || item === null) continue;
    const o = item as Record<string, unknown>;
    const pid = Number(o.ProcessId);
    if (!Number.isInteger(pid)) continue;
    const p: CimProcess = { pid, ppid: Number(o.ParentProcessId) || 0 };
    if (typeof o.CommandLine === 'string' && o.CommandLine !== '') p.commandLine = o.CommandLine;
    const start = parseCimDate(o.CreationDate);
    if (start !== undefined) p.startTime = start;
    out.push(p);
  }
  return out;
}

function parseCimDate(value: unknown): number | undefined {
  if (typeof value === 'string') {
    const legacy = /\/Date\((-?\d+)(?:[+-]\d+)?\)\//.exec(value);
    if (legacy) return Number(legacy[1]);
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  // `ConvertTo-Json` of a raw CIM date object: { value: "/Date(…)/", DateTime: "…" }.
  if (typeof value === 'object' && value !== null && 'value' in value) return parseCimDate((value as { value: unknown }).value);
  return undefined;
}

/** Splits a Windows command line like CommandLineToArgvW (quotes, and backslashes before quotes). */
export function splitWindowsCommandLine(line: string): string[] {
  const args: string[] = [];
  let i = 0;
  const n = line.length;
  const skipSpace = (): void => {
    while (i < n && (line[i] === ' ' || line[i] === '\t')) i++;
  };
  skipSpace();
  if (i >= n) return args;
  // argv[0]: up to the closing quote or the first space; backslashes are literal.
  let first = '';
  if (line[i] === '"') {
    i++;
    while (i < n && line[i] !== '"') first += line[i++];
    i++;
  } else {
    while (i < n && line[i] !== ' ' && line[i] !== '\t') first += line[i++];
  }
  args.push(first);
  for (;;) {
    skipSpace();
    if (i >= n) break;
    let arg = '';
    let quoted = false;
    while (i < n && (quoted || (line[i] !== ' ' && line[i] !== '\t'))) {
      if (line[i] === '\\') {
        let slashes = 0;
        while (line[i] === '\\') {
          slashes++;
          i++;
        }
        if (line[i] === '"') {
          arg += '\\'.repeat(Math.floor(slashes / 2));
          if (slashes % 2 === 1) {
            arg += '"';
            i++;
          }
        } else {
          arg += '\\'.repeat(slashes);
        }
      } else if (line[i] === '"') {
        if (quoted && line[i + 1] === '"') {
          arg += '"';
          i += 2;
        } else {
          quoted = !quoted;
          i++;
        }
      } else {
        arg += line[i++];
      }
    }
    args.push(arg);
  }
  return args;
}

export function tasklistArgs(user?: string): string[] {
  const args = ['/fo', 'csv', '/nh', '/fi', 'IMAGENAME eq opencode.exe'];
  if (user) args.push('/fi', `USERNAME eq ${user}`);
  return args;
}

/** The PowerShell script for some pids (numbers only: nothing from outside reaches the script). */
export function cimScript(pids: readonly number[]): string {
  const filter = pids.map((p) => `ProcessId=${Math.trunc(p)}`).join(' OR ');
  return (
    '[Console]::OutputEncoding=[Text.Encoding]::UTF8; ' +
    `Get-CimInstance -ClassName Win32_Process -Filter '${filter}' | ` +
    'Select-Object ProcessId,ParentProcessId,CommandLine,CreationDate | ConvertTo-Json -Compress'
  );
}

// ── Scanner ──────────────────────────────────────────────────────────────────

export interface WindowsScannerOptions extends ToolScannerOptions {
  /** `DOMAIN\user` for tasklist's USERNAME filter (default: from the environment). */
  user?: string;
}

interface Known {
  image: string;
  firstSeen: number;
  ppid: number;
  args: string[];
  role: ArgvRole;
  startTime?: number;
  listeners?: ListenAddress[];
}

export class WindowsProcessScanner implements ProcessScanner {
  private readonly tools: ScannerTools;
  private readonly user: string | undefined;
  private readonly known = new Map<number, Known>();

  constructor(options: WindowsScannerOptions = {}) {
    this.tools = new ScannerTools(options, 10_000);
    this.user = options.user ?? defaultUser();
  }

  async scan(): Promise<OpencodeProcess[]> {
    const list = await this.tools.run('tasklist', tasklistArgs(this.user));
    if (list.code !== 0) throw new Error(`tasklist exited with ${list.code}: ${list.stderr.trim().slice(0, 200)}`);
    const now = this.tools.now();
    const tasks = parseTasklistCsv(list.stdout).filter((t) => isOpencodeExecutable(t.image));
    const seen = new Set(tasks.map((t) => t.pid));
    for (const pid of this.known.keys()) if (!seen.has(pid)) this.known.delete(pid);
    const fresh = tasks.filter((t) => this.known.get(t.pid)?.image !== t.image);
    if (fresh.length > 0) await this.fetchProcessDetails(fresh, now);

    const candidates: Array<Candidate & { info: Known }> = [];
    for (const t of tasks) {
      const info = this.known.get(t.pid);
      if (!info) continue;
      const c: Candidate & { info: Known } = { pid: t.pid, ppid: info.ppid, args: info.args, role: info.role, listeners: [], info };
      if (info.startTime !== undefined) c.startTime = info.startTime;
      candidates.push(c);
    }
    const kept = keepCandidates(candidates);
    await this.fillListeners(kept.filter((c) => c.role.role === 'instance'), now);
    for (const c of kept) c.listeners = c.info.listeners ?? [];
    return kept.map((c) => toOpencodeProcess(c, path.win32.join));
  }

  private async fetchProcessDetails(tasks: Array<{ image: string; pid: number }>, now: number): Promise<void> {
    let details = new Map<number, CimProcess>();
    try {
      const r = await this.tools.run('powershell.exe', ['-NoProfile', '-NonInteractive', '-Command', cimScript(tasks.map((t) => t.pid))]);
      if (r.code === 0) details = new Map(parseCimProcessJson(r.stdout).map((p) => [p.pid, p]));
      else this.tools.warnOnce(`powershell exited with ${r.code}: ${r.stderr.trim().slice(0, 200)}`);
    } catch (error) {
      this.tools.warnOnce(`powershell failed: ${describeError(error)}`);
    }
    for (const t of tasks) {
      const d = details.get(t.pid);
      // Without a command line (PowerShell missing, or no access) we still know it is OpenCode.
      const args = d?.commandLine ? splitWindowsCommandLine(d.commandLine) : [];
      const role: ArgvRole = args.length > 0 ? classifyArgs(args) : { role: 'instance', kind: 'unknown' };
      const info: Known = { image: t.image, firstSeen: now, ppid: d?.ppid ?? 0, args, role };
      if (d?.startTime !== undefined) info.startTime = d.startTime;
      this.known.set(t.pid, info);
    }
  }

  private async fillListeners(candidates: Array<Candidate & { info: Known }>, now: number): Promise<void> {
    if (!this.tools.listingDue(now, candidates)) return;
    try {
      const r = await this.tools.run('netstat', ['-ano']);
      if (r.code !== 0) {
        this.tools.warnOnce(`netstat exited with ${r.code}`);
        return;
      }
      const listening = parseNetstatListening(r.stdout);
      for (const c of candidates) c.info.listeners = listening.get(c.pid) ?? [];
    } catch (error) {
      this.tools.warnOnce(`netstat failed: ${describeError(error)}`);
    }
  }
}

function defaultUser(): string | undefined {
  try {
    const name = os.userInfo().username;
    const domain = process.env.USERDOMAIN;
    return domain ? `${domain}\\${name}` : name;
  } catch {
    return undefined;
  }
}
