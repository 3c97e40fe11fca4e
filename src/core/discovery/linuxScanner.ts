/**
 * Linux: reads /proc directly (no ps/ss/lsof), cheap enough for a 1 s loop. A new pid costs one
 * small read (`stat`), a known non-OpenCode pid a `comm` read every few scans, a kernel thread one
 * a minute (only a reused pid changes it); only OpenCode processes get
 * more (stat, cwd, and from a per-(pid, start time) cache argv, uid, environment). LISTEN sockets
 * come from /proc/net/tcp{,6}, read only when something may have changed (listenRefreshDue).
 */
import * as fs from 'node:fs';
import type { Logger } from '../log';
import { nullLogger } from '../log';
import {
  DEFAULT_PORT_WAIT_MS,
  DEFAULT_TABLE_REFRESH_MS,
  classifyArgs,
  expectsPort,
  isOpencodeProcessName,
  keepCandidates,
  listenRefreshDue,
  toOpencodeProcess,
} from './classify';
import type { ArgvRole, Candidate, EnvSubset } from './classify';
import type { ListenAddress, OpencodeProcess, ProcessScanner } from './types';
import { isKernelThread, parseProcStat, parseStatHead, readBootTimeMs, startTimeMs } from '../os/procStat';
import type { StatHead } from '../os/procStat';
import { decodeTtyNr, listenSockets, parseCmdline, parseEnviron, pastListeners, socketInode, tcpSocketsInUse } from './procParsers';

function sameNumbers(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ── Scanner ──────────────────────────────────────────────────────────────────

export interface LinuxScannerOptions {
  /** Root of the proc filesystem (tests point it at a fixture tree). */
  procRoot?: string;
  /** Only this uid's processes are reported (default: ours). */
  uid?: number;
  /** Byte order of /proc/net/tcp addresses (default: this machine's). */
  littleEndian?: boolean;
  /** USER_HZ, the unit of stat's start time (100 on every mainstream Linux). */
  clockTicksPerSecond?: number;
  /** Longest time a new LISTEN socket of a long-running process may go unseen. */
  tableRefreshMs?: number;
  /** While a server that should listen has no port yet, the tables are read every scan for this long. */
  portWaitMs?: number;
  /**
   * A pid whose comm was not OpenCode is read again only every this many scans (staggered by pid);
   * new pids are always read. Only a process that execs into OpenCode under an old pid waits that
   * long. 1 reads every pid every scan.
   */
  recheckEvery?: number;
  /**
   * While the same OpenCode pids are found (other pids may come and go) and none waits for its
   * port, their details (stat, cwd, listening sockets) are read again only every this many scans;
   * the scans in between answer the last result. 1 reads them every scan.
   */
  inspectEvery?: number;
  now?: () => number;
  logger?: Logger;
}

/** What never changes for one (pid, start time, comm). */
interface StaticInfo {
  startTicks: number;
  comm: string;
  uid: number;
  args: string[];
  role: ArgvRole;
  env?: EnvSubset;
  firstSeen: number;
}

interface Listener extends ListenAddress {
  /** fd number, to re-check cheaply that the socket is still open. */
  fd: string;
  link: string;
}

interface PortInfo {
  startTicks: number;
  listeners: Listener[];
}

type LinuxCandidate = Candidate & { startTicks: number; firstSeen: number };

/** How long after it was first seen a process gets a full look every scan. */
const SETTLE_MS = 10_000;

/** A kernel thread's pid is re-read this many times less often than other pids (a minute at the defaults). */
const KERNEL_RECHECK_FACTOR = 12;

export class LinuxProcessScanner implements ProcessScanner {
  private readonly root: string;
  private readonly uid: number;
  private readonly littleEndian: boolean | undefined;
  private readonly hz: number;
  private readonly tableRefreshMs: number;
  private readonly portWaitMs: number;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly statics = new Map<number, StaticInfo>();
  private readonly portCache = new Map<number, PortInfo>();
  private readonly buffer = Buffer.alloc(4096);
  private readonly recheckEvery: number;
  private readonly inspectEvery: number;
  private readonly notOpencode = new Set<number>();
  /** Kernel threads: never OpenCode, looked at again only every recheckEvery × KERNEL_RECHECK_FACTOR scans (pid reuse). */
  private readonly kernelThreads = new Set<number>();
  private scanCount = 0;
  /** The last full result, the OpenCode pids it came from, and the quick scans answered with it since. */
  private last: { result: OpencodeProcess[]; pids: number[]; quick: number; settled: boolean } | undefined;
  /** `startTicks state ppid tty_nr` of each OpenCode pid at the last full scan: a quick scan re-reads only this. */
  private readonly statKeys = new Map<number, string>();
  private lastTableRead = Number.NEGATIVE_INFINITY;
  private bootTimeMs: number | undefined;
  /** How often the TCP tables were read (tests and measurements). */
  tableReads = 0;

  constructor(options: LinuxScannerOptions = {}) {
    this.root = options.procRoot ?? '/proc';
    this.uid = options.uid ?? process.getuid?.() ?? -1;
    this.littleEndian = options.littleEndian;
    this.hz = options.clockTicksPerSecond ?? 100;
    this.tableRefreshMs = options.tableRefreshMs ?? DEFAULT_TABLE_REFRESH_MS;
    this.portWaitMs = options.portWaitMs ?? DEFAULT_PORT_WAIT_MS;
    this.recheckEvery = Math.max(1, Math.floor(options.recheckEvery ?? 5));
    this.inspectEvery = Math.max(1, Math.floor(options.inspectEvery ?? 3));
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? nullLogger;
  }

  scan(): Promise<OpencodeProcess[]> {
    try {
      return Promise.resolve(this.scanSync());
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Synchronous on purpose: a few hundred tiny /proc reads cost far less than as many thread-pool round trips. */
  scanSync(): OpencodeProcess[] {
    const names = fs.readdirSync(this.root);
    const kernelEvery = this.recheckEvery * KERNEL_RECHECK_FACTOR;
    const kernelSlot = this.scanCount % kernelEvery;
    const slot = this.scanCount++ % this.recheckEvery;
    const present = new Set<number>();
    const opencode: Array<{ pid: number; comm: string }> = [];
    for (const name of names) {
      const c0 = name.charCodeAt(0);
      if (c0 < 48 || c0 > 57) continue;
      const pid = Number(name);
      if (!Number.isInteger(pid)) continue;
      present.add(pid);
      let comm: string | undefined;
      if (this.kernelThreads.has(pid)) {
        if (pid % kernelEvery !== kernelSlot) continue;
        // Only a reused pid can stop being a kernel thread (its number now names another process).
        const head = this.readStatHead(name);
        if (!head || isKernelThread(head)) continue;
        this.kernelThreads.delete(pid);
        comm = head.comm;
      } else if (this.notOpencode.has(pid) || this.statics.has(pid)) {
        if (this.notOpencode.has(pid) && pid % this.recheckEvery !== slot) continue;
        comm = this.readSmall(`${this.root}/${name}/comm`)?.trimEnd();
      } else {
        // A new pid: its stat names it and tells a kernel thread, which is then left alone (most
        // pids of a quiet machine are kernel threads: 62 of 67 on the test machine).
        const head = this.readStatHead(name);
        if (head && isKernelThread(head)) {
          this.kernelThreads.add(pid);
          continue;
        }
        comm = head ? head.comm : this.readSmall(`${this.root}/${name}/comm`)?.trimEnd();
      }
      if (comm === undefined) continue;
      if (!isOpencodeProcessName(comm)) {
        this.notOpencode.add(pid);
        continue;
      }
      this.notOpencode.delete(pid);
      opencode.push({ pid, comm });
    }
    for (const pid of this.notOpencode) if (!present.has(pid)) this.notOpencode.delete(pid);
    for (const pid of this.kernelThreads) if (!present.has(pid)) this.kernelThreads.delete(pid);
    // Most scans find the same OpenCode processes (other pids come and go): their details are
    // re-read every inspectEvery scans, at once when one came or went or a server awaits its port.
    const pids = opencode.map((o) => o.pid);
    const last = this.last;
    if (last && last.settled && last.quick + 1 < this.inspectEvery && sameNumbers(pids, last.pids) && pids.every((pid) => this.statKey(pid) === this.statKeys.get(pid))) {
      last.quick++;
      return last.result;
    }
    this.statKeys.clear();
    const candidates: LinuxCandidate[] = [];
    const alive = new Set<number>();
    for (const { pid, comm } of opencode) {
      alive.add(pid);
      const candidate = this.inspect(pid, comm);
      if (candidate) candidates.push(candidate);
    }
    for (const pid of this.statics.keys()) if (!alive.has(pid)) this.statics.delete(pid);
    for (const pid of this.portCache.keys()) if (!alive.has(pid)) this.portCache.delete(pid);
    const kept = keepCandidates(candidates);
    const instances = kept.filter((c) => c.role.role === 'instance');
    this.attachListeners(instances);
    const result = kept.map((c) => toOpencodeProcess(c));
    const now = this.now();
    // A young process may still chdir (TUI) or open its port: it keeps every scan a full one.
    const settled = candidates.every((c) => now - c.firstSeen >= SETTLE_MS) && !instances.some((c) => c.listeners.length === 0 && now - c.firstSeen < this.portWaitMs && expectsPort(c.args));
    this.last = { result, pids, quick: 0, settled };
    return result;
  }

  private readStatHead(name: string): StatHead | undefined {
    const text = this.readSmall(`${this.root}/${name}/stat`);
    return text === undefined ? undefined : parseStatHead(text);
  }

  /** The part of a pid's stat that tells a reused pid, a zombie, a new parent or terminal. */
  private statKey(pid: number): string {
    const text = this.readSmall(`${this.root}/${pid}/stat`);
    const stat = text === undefined ? undefined : parseProcStat(text);
    return stat ? `${stat.startTicks} ${stat.state} ${stat.ppid} ${stat.ttyNr}` : 'gone';
  }

  private inspect(pid: number, comm: string): LinuxCandidate | undefined {
    const statText = this.readSmall(`${this.root}/${pid}/stat`);
    const stat = statText === undefined ? undefined : parseProcStat(statText);
    this.statKeys.set(pid, stat ? `${stat.startTicks} ${stat.state} ${stat.ppid} ${stat.ttyNr}` : 'gone');
    if (!stat || stat.state === 'Z' || stat.state === 'X') return undefined;
    let info = this.statics.get(pid);
    if (!info || info.startTicks !== stat.startTicks || info.comm !== comm) {
      info = this.readStatic(pid, stat.startTicks, comm);
      if (!info) return undefined;
      this.statics.set(pid, info);
    }
    if (info.uid !== this.uid || info.args.length === 0) return undefined;
    const candidate: LinuxCandidate = {
      pid,
      ppid: stat.ppid,
      args: info.args,
      role: info.role,
      listeners: [],
      startTicks: stat.startTicks,
      firstSeen: info.firstSeen,
    };
    const tty = decodeTtyNr(stat.ttyNr);
    if (tty) candidate.tty = tty;
    // Not cached: the TUI may chdir into its project right after start.
    const cwd = this.readLink(`${this.root}/${pid}/cwd`);
    if (cwd) candidate.cwd = cwd;
    if (info.env) candidate.env = info.env;
    const boot = this.bootTime();
    if (boot !== undefined) candidate.startTime = startTimeMs(boot, stat.startTicks, this.hz);
    return candidate;
  }

  private readStatic(pid: number, startTicks: number, comm: string): StaticInfo | undefined {
    let uid: number;
    try {
      uid = fs.statSync(`${this.root}/${pid}`).uid;
    } catch {
      return undefined;
    }
    const info: StaticInfo = { startTicks, comm, uid, args: [], role: { role: 'other' }, firstSeen: this.now() };
    // Other users' processes are never reported: do not read more of them.
    if (uid !== this.uid) return info;
    const cmdline = this.readFile(`${this.root}/${pid}/cmdline`);
    if (cmdline === undefined) return undefined;
    info.args = parseCmdline(cmdline);
    info.role = classifyArgs(info.args);
    const environ = this.readFile(`${this.root}/${pid}/environ`);
    if (environ !== undefined) info.env = parseEnviron(environ);
    return info;
  }

  /**
   * Reading /proc/net/tcp walks the kernel's whole connection hash (~5 ms per table here, even
   * almost empty), so it happens only when listenRefreshDue says so. In between, a known listener
   * is confirmed by one readlink of its fd.
   */
  private attachListeners(candidates: LinuxCandidate[]): void {
    if (candidates.length === 0) return;
    const now = this.now();
    const cachedOf = (c: LinuxCandidate): PortInfo | undefined => {
      const cached = this.portCache.get(c.pid);
      return cached !== undefined && cached.startTicks === c.startTicks ? cached : undefined;
    };
    const periodic = now - this.lastTableRead >= this.tableRefreshMs;
    const due = listenRefreshDue(
      now,
      this.lastTableRead,
      candidates.map((c) => {
        const cached = cachedOf(c);
        return { known: cached !== undefined, args: c.args, listenerCount: cached?.listeners.length ?? 0, firstSeen: c.firstSeen };
      }),
      { refreshMs: this.tableRefreshMs, portWaitMs: this.portWaitMs },
    );
    let sockets: Map<number, ListenAddress> | undefined;
    if (due) {
      this.lastTableRead = now;
      this.tableReads++;
      const tables: string[] = [];
      for (const [file, stat] of [['tcp', 'sockstat'], ['tcp6', 'sockstat6']] as const) {
        // No socket of that family at all (a tiny read): no table walk.
        if (tcpSocketsInUse(this.readSmall(`${this.root}/net/${stat}`)) === 0) continue;
        const text = this.readListenRows(`${this.root}/net/${file}`);
        if (text !== undefined) tables.push(text);
      }
      sockets = listenSockets(tables, this.littleEndian);
    }
    for (const c of candidates) {
      const cached = cachedOf(c);
      // fds are walked for the processes the listing is for; the others keep their checked cache.
      const walk = sockets !== undefined && (periodic || !cached || (cached.listeners.length === 0 && expectsPort(c.args)));
      if (walk && sockets) {
        const listeners = this.socketsOf(c.pid, sockets);
        if (listeners !== undefined) {
          this.portCache.set(c.pid, { startTicks: c.startTicks, listeners });
          c.listeners = listeners.map(({ address, port }) => ({ address, port }));
        }
        continue;
      }
      if (!cached) continue;
      const still = cached.listeners.filter((l) => this.readLink(`${this.root}/${c.pid}/fd/${l.fd}`) === l.link);
      if (still.length !== cached.listeners.length) cached.listeners = still;
      c.listeners = still.map(({ address, port }) => ({ address, port }));
    }
  }

  /** LISTEN sockets among the pid's fds; undefined when its fds cannot be read (gone, EACCES). */
  private socketsOf(pid: number, sockets: Map<number, ListenAddress>): Listener[] | undefined {
    const dir = `${this.root}/${pid}/fd`;
    let fds: string[];
    try {
      fds = fs.readdirSync(dir);
    } catch {
      return undefined;
    }
    const found: Listener[] = [];
    if (sockets.size === 0) return found;
    for (const fd of fds) {
      const link = this.readLink(`${dir}/${fd}`);
      const inode = link === undefined ? undefined : socketInode(link);
      const socket = inode === undefined ? undefined : sockets.get(inode);
      if (socket && link !== undefined) found.push({ ...socket, fd, link });
    }
    return found;
  }

  private bootTime(): number | undefined {
    if (this.bootTimeMs === undefined) {
      // Read once: btime may move by a second between reads, and startTime must stay stable.
      this.bootTimeMs = readBootTimeMs(this.root, (file) => this.readFile(file));
    }
    return this.bootTimeMs;
  }

  /**
   * The head of /proc/net/tcp{,6} up to the first row past the LISTEN rows. The kernel lists the
   * listening hash first, then the established one, and generates the text as it is read: stopping
   * there spares the walk of the (large, mostly empty) established hash, most of a full read's cost.
   */
  private readListenRows(file: string): string | undefined {
    return withOpenFile(file, (fd) => {
      let text = '';
      let checked = 0;
      for (;;) {
        const n = fs.readSync(fd, this.buffer, 0, this.buffer.length, null);
        if (n <= 0) return text;
        text += this.buffer.toString('latin1', 0, n);
        const end = pastListeners(text, checked);
        if (end.stop !== undefined) return text.slice(0, end.stop);
        checked = end.checked;
      }
    });
  }

  /** One read into a shared buffer: no fstat, no allocation (comm and stat are < 1 KiB). */
  private readSmall(file: string): string | undefined {
    return withOpenFile(file, (fd) => this.buffer.toString('utf8', 0, fs.readSync(fd, this.buffer, 0, this.buffer.length, 0)));
  }

  private readFile(file: string): string | undefined {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ESRCH' && code !== 'EACCES' && code !== 'EPERM') {
        this.logger.debug(`discovery: cannot read ${file}: ${code ?? String(error)}`);
      }
      return undefined;
    }
  }

  private readLink(file: string): string | undefined {
    try {
      return fs.readlinkSync(file);
    } catch {
      return undefined;
    }
  }
}

/** Runs `read` on `file` opened read-only; undefined when it cannot be opened or read (a process gone meanwhile). */
function withOpenFile<T>(file: string, read: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    return read(fd);
  } catch {
    return undefined;
  } finally {
    fs.closeSync(fd);
  }
}
