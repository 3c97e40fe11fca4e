/**
 * The discovery loop: scans processes every intervalMs (a self-rescheduling timeout: scans never
 * overlap), confirms their ports with HTTP probes that run beside the loop (a silent port never
 * delays the next scan), and tells listeners what was added, removed or changed — only when
 * something did: after a scan, and again when a probe changes what is known.
 */
import type { Logger } from '../log';
import { nullLogger } from '../log';
import { urlForListener } from './classify';
import { DarwinProcessScanner } from './darwinScanner';
import { LinuxProcessScanner } from './linuxScanner';
import { DEFAULT_PROBE_TIMEOUT_MS, probeOpencode } from './portProbe';
import { hedgedProbe } from './hedgedProbe';
import type { ProbeFn } from './portProbe';
import { SCAN_ROOT_ENV, scopedScanner } from './scanScope';
import type { OpencodeProcess, ProcessScanner } from './types';
import { WindowsProcessScanner } from './windowsScanner';
import { describeError } from '../util/describe';
import { nextAlignedDelay } from '../util/alignedDelay';

export interface DiscoveredInstance {
  /** `pid:<pid>`: stable while the process lives. */
  id: string;
  process: OpencodeProcess;
  /** `http://127.0.0.1:<port>` of the port that answered like OpenCode (also when it wants a password). */
  url?: string;
  version?: string;
  /** The server answered 401 Basic: no password, or a wrong one, was given. */
  authRequired?: boolean;
  /**
   * While no port is confirmed: the port whose first probe is out now, sent without a password.
   * What it answers is unknown yet; the monitor may start fetching from it so that a server that
   * does turn out to be OpenCode is known one round trip sooner, and shows nothing from it before.
   */
  candidateUrl?: string;
}

export interface DiscoveryChange {
  added: DiscoveredInstance[];
  removed: DiscoveredInstance[];
  changed: DiscoveredInstance[];
  all: DiscoveredInstance[];
}

export interface DiscoveryResult {
  instances: DiscoveredInstance[];
  /** Present when this scan changed something. */
  change?: DiscoveryChange;
  /** Set when the process listing failed; `instances` are then those of the last good scan. */
  error?: string;
  scannedAt: number;
  durationMs: number;
}

export interface DiscoveryClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DiscoveryOptions {
  /** Default: the scanner of process.platform. */
  scanner?: ProcessScanner;
  /** Pause between the end of one scan and the start of the next (default 1000). */
  intervalMs?: number;
  logger?: Logger;
  probe?: ProbeFn;
  probeTimeoutMs?: number;
  /** The password to try on a process's port (OPENCODE_SERVER_PASSWORD of that server). */
  password?: string | ((process: OpencodeProcess) => string | undefined);
  clock?: DiscoveryClock;
  /** Only processes working inside these folders (test-only: scanScope.ts). */
  onlyUnder?: readonly string[];
}

export interface Disposable {
  dispose(): void;
}

export type DiscoveryListener = (change: DiscoveryChange) => void;

export const DEFAULT_INTERVAL_MS = 1_000;

/** Overlapping attempts per probe while a port does not answer (hedgedProbe.ts), one every probeTimeoutMs. */
const PROBE_ATTEMPTS = 3;
/** A probe's deadline in probeTimeoutMs: 400 ms → an answer within 2 s of the first request counts. */
const PROBE_DEADLINE_SPACINGS = 5;

/** Consecutive no-answer probes retried on the very next scan (OpenCode ignores its first ~0.5 s). */
const NO_ANSWER_FREE_RETRIES = 3;
const NO_ANSWER_MAX_DELAY_MS = 15_000;
const NOT_OPENCODE_FIRST_DELAY_MS = 5_000;
const NOT_OPENCODE_MAX_DELAY_MS = 60_000;

type ProbeEntry =
  | { state: 'confirmed'; url: string; version?: string; authRequired: boolean; password?: string }
  | { state: 'failed'; reason: 'not_opencode' | 'no_answer'; failures: number; nextAt: number };

const realClock: DiscoveryClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The scanner for a platform; unsupported platforms get one that finds nothing. */
export function createProcessScanner(platform: NodeJS.Platform = process.platform, logger: Logger = nullLogger): ProcessScanner {
  switch (platform) {
    case 'linux':
      return new LinuxProcessScanner({ logger });
    case 'darwin':
      return new DarwinProcessScanner({ logger });
    case 'win32':
      return new WindowsProcessScanner({ logger });
    default: {
      logger.info(`discovery: no process scanner for ${platform}; configure server URLs instead`);
      return { scan: () => Promise.resolve([]) };
    }
  }
}

type Entry = { key: string; json: string; instance: DiscoveredInstance };

export class Discovery {
  private readonly scanner: ProcessScanner;
  private intervalMs: number;
  private readonly logger: Logger;
  private readonly probe: ProbeFn;
  private readonly probeTimeoutMs: number;
  private readonly password: DiscoveryOptions['password'];
  private readonly clock: DiscoveryClock;
  private readonly listeners = new Set<DiscoveryListener>();
  private readonly probes = new Map<string, ProbeEntry>();
  /** Probes in flight, by probe key: never two for the same (process, port). */
  private readonly pending = new Map<string, Promise<void>>();
  /** Probe keys of the pending probes that are a port's first, without a password (candidateUrl). */
  private readonly firstProbes = new Set<string>();
  private readonly abort = new AbortController();
  private processes: OpencodeProcess[] = [];
  private current = new Map<string, Entry>();
  private timer: unknown;
  private started = false;
  private disposed = false;
  private scanning: Promise<string | undefined> | undefined;
  private rerun: Promise<string | undefined> | undefined;
  private lastError: string | undefined;

  constructor(options: DiscoveryOptions = {}) {
    this.logger = options.logger ?? nullLogger;
    const scanner = options.scanner ?? createProcessScanner(process.platform, this.logger);
    this.scanner = options.onlyUnder ? scopedScanner(scanner, options.onlyUnder) : scanner;
    if (options.onlyUnder) this.logger.info(`discovery: only processes working in ${options.onlyUnder.join(', ')} (${SCAN_ROOT_ENV})`);
    this.intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    this.probe = options.probe ?? probeOpencode;
    this.probeTimeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.password = options.password;
    this.clock = options.clock ?? realClock;
  }

  /** The instances as last published (after a scan or a probe), by pid. */
  get instances(): DiscoveredInstance[] {
    return [...this.current.values()].map((e) => e.instance);
  }

  /** Takes effect from the next pause between scans. */
  setIntervalMs(ms: number): void {
    this.intervalMs = ms;
  }

  /** Starts the loop: a scan now, then one intervalMs after each scan ends. */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.schedule(0);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    this.listeners.clear();
  }

  onChange(listener: DiscoveryListener): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }

  /**
   * Scans now and waits for the probes that scan needs (each bounded by 5 × probeTimeoutMs), so the
   * result carries the URLs. A call during a scan gets the scan after it (what the caller wants to
   * see may have happened after the running one started), shared by all callers meanwhile.
   * `change` is everything that changed between the call and the result.
   */
  async scanNow(): Promise<DiscoveryResult> {
    const startedAt = this.clock.now();
    if (this.disposed) return this.snapshot(startedAt, 0);
    const before = this.current;
    let error: string | undefined;
    if (this.scanning) {
      this.rerun ??= this.scanning.then(() => {
        this.rerun = undefined;
        return this.scan();
      });
      error = await this.rerun;
    } else {
      error = await this.scan();
    }
    await Promise.all([...this.pending.values()]);
    const result = this.snapshot(startedAt, this.clock.now() - startedAt);
    if (error !== undefined) result.error = error;
    const change = diff(before, this.current);
    if (change) result.change = change;
    return result;
  }

  /** Forgets probe results (all, or one pid's): the next scan asks again. */
  invalidateProbes(pid?: number): void {
    if (pid === undefined) this.probes.clear();
    else for (const key of [...this.probes.keys()]) if (key.startsWith(`${pid}:`)) this.probes.delete(key);
  }

  private schedule(delayMs: number): void {
    if (this.disposed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      // Join a manual scan that is running rather than queueing another; never wait for probes.
      const scan = this.scanning ?? this.scan();
      // On the interval's grid (at least a quarter interval after this scan): one wake-up with the other periodic work.
      void scan.then(() => this.schedule(nextAlignedDelay(this.intervalMs, this.clock.now())));
    }, delayMs);
  }

  /** One process scan; publishes at once and starts the probes it needs. Resolves with the error, if any. Never rejects. */
  private scan(): Promise<string | undefined> {
    const run = this.scanOnce().finally(() => {
      if (this.scanning === run) this.scanning = undefined;
    });
    this.scanning = run;
    return run;
  }

  private async scanOnce(): Promise<string | undefined> {
    let processes: OpencodeProcess[];
    try {
      processes = await this.scanner.scan();
    } catch (error) {
      const message = describeError(error);
      if (message !== this.lastError) this.logger.warn(`discovery: process scan failed: ${message}`);
      this.lastError = message;
      return message;
    }
    if (this.lastError !== undefined) this.logger.info('discovery: process scan works again');
    this.lastError = undefined;
    if (this.disposed) return undefined;
    try {
      // The scanner answers its last list again while nothing changed: nothing to rebuild then
      // (probes publish on their own when they finish).
      const same = processes === this.processes;
      this.processes = processes;
      this.startProbes(processes);
      if (!same) this.publish();
      return undefined;
    } catch (error) {
      // A bug here must not stop the loop.
      const message = describeError(error);
      this.logger.error(`discovery: ${message}`);
      return message;
    }
  }

  /** Starts (in the background) the probes that are due; forgets those of gone processes. */
  private startProbes(processes: OpencodeProcess[]): void {
    const now = this.clock.now();
    const live = new Set<string>();
    for (const p of processes) {
      const password = typeof this.password === 'function' ? this.password(p) : this.password;
      for (const url of portUrls(p)) {
        const key = probeKey(p, url.port);
        live.add(key);
        if (this.pending.has(key)) continue;
        const entry = this.probes.get(key);
        const due =
          entry === undefined ||
          (entry.state === 'failed' && now >= entry.nextAt) ||
          (entry.state === 'confirmed' && entry.authRequired && (password ?? '') !== (entry.password ?? ''));
        if (!due) continue;
        if (entry === undefined && password === undefined) this.firstProbes.add(key);
        const job = this.probeOne(key, p.pid, url.url, password, entry).finally(() => {
          this.pending.delete(key);
          this.firstProbes.delete(key);
          if (!this.disposed) this.publish();
        });
        this.pending.set(key, job);
      }
    }
    for (const key of [...this.probes.keys()]) if (!live.has(key)) this.probes.delete(key);
  }

  private async probeOne(key: string, pid: number, url: string, password: string | undefined, previous: ProbeEntry | undefined): Promise<void> {
    if (this.disposed) return;
    const result = await hedgedProbe(this.probe, url, {
      attempts: PROBE_ATTEMPTS,
      spacingMs: this.probeTimeoutMs,
      deadlineMs: this.probeTimeoutMs * PROBE_DEADLINE_SPACINGS,
      ...(password !== undefined ? { password } : {}),
      signal: this.abort.signal,
    });
    // The process may have gone meanwhile: then its key is no longer wanted.
    if (this.disposed || !this.processes.some((p) => portUrls(p).some((u) => probeKey(p, u.port) === key))) return;
    const now = this.clock.now();
    if (result.ok) {
      this.probes.set(key, { state: 'confirmed', url, version: result.version, authRequired: false, password });
      this.logger.debug(`discovery: pid ${pid} serves OpenCode ${result.version} at ${url}`);
    } else if (result.reason === 'auth_required') {
      this.probes.set(key, { state: 'confirmed', url, authRequired: true, password });
      this.logger.debug(`discovery: pid ${pid} serves OpenCode at ${url}: ${result.detail}`);
    } else {
      const failures = previous?.state === 'failed' && previous.reason === result.reason ? previous.failures + 1 : 1;
      const delay =
        result.reason === 'no_answer'
          ? failures <= NO_ANSWER_FREE_RETRIES
            ? 0
            : Math.min(NO_ANSWER_MAX_DELAY_MS, 1_000 * 2 ** (failures - NO_ANSWER_FREE_RETRIES))
          : Math.min(NOT_OPENCODE_MAX_DELAY_MS, NOT_OPENCODE_FIRST_DELAY_MS * 2 ** (failures - 1));
      this.probes.set(key, { state: 'failed', reason: result.reason, failures, nextAt: now + delay });
      this.logger.debug(`discovery: pid ${pid} ${url}: ${result.reason} (${result.detail}), next try in ${delay} ms`);
    }
  }

  /** Rebuilds the instances from the last scan and the probe results; emits what changed. */
  private publish(): void {
    const next = new Map<string, Entry>();
    for (const p of this.processes) {
      const instance = this.instanceOf(p);
      next.set(instance.id, { key: `${p.pid}:${p.startTime ?? ''}`, json: JSON.stringify(instance), instance });
    }
    const change = diff(this.current, next);
    this.current = next;
    if (!change) return;
    for (const i of change.added) {
      const p = i.process;
      this.logger.info(`discovery: OpenCode ${p.kind} pid ${p.pid}${p.cwd ? ` in ${p.cwd}` : ''}${i.url ? ` at ${i.url}` : ''}`);
    }
    for (const i of change.removed) this.logger.info(`discovery: OpenCode pid ${i.process.pid} is gone`);
    for (const i of change.changed) this.logger.debug(`discovery: OpenCode pid ${i.process.pid} changed${i.url ? ` (${i.url})` : ''}`);
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch (error) {
        this.logger.error(`discovery: a change listener failed: ${describeError(error)}`);
      }
    }
  }

  private instanceOf(p: OpencodeProcess): DiscoveredInstance {
    const instance: DiscoveredInstance = { id: `pid:${p.pid}`, process: p };
    const confirmed = portUrls(p)
      .map((u) => this.probes.get(probeKey(p, u.port)))
      .filter((e): e is Extract<ProbeEntry, { state: 'confirmed' }> => e?.state === 'confirmed')
      // A port that lets us in beats one that wants a password.
      .sort((a, b) => Number(a.authRequired) - Number(b.authRequired));
    const best = confirmed[0];
    if (best) {
      instance.url = best.url;
      if (best.version !== undefined) instance.version = best.version;
      if (best.authRequired) instance.authRequired = true;
    } else {
      const candidate = portUrls(p).find((u) => this.firstProbes.has(probeKey(p, u.port)));
      if (candidate) instance.candidateUrl = candidate.url;
    }
    return instance;
  }

  private snapshot(scannedAt: number, durationMs: number): DiscoveryResult {
    return { instances: this.instances, scannedAt, durationMs };
  }
}

/** added / removed / changed from one set of instances to another; undefined when equal. */
function diff(before: Map<string, Entry>, after: Map<string, Entry>): DiscoveryChange | undefined {
  const added: DiscoveredInstance[] = [];
  const removed: DiscoveredInstance[] = [];
  const changed: DiscoveredInstance[] = [];
  for (const [id, old] of before) {
    const now = after.get(id);
    // Same pid, other start time: the pid was reused by a new process.
    if (!now || now.key !== old.key) removed.push(old.instance);
  }
  for (const [id, now] of after) {
    const old = before.get(id);
    if (!old || old.key !== now.key) added.push(now.instance);
    else if (old.json !== now.json) changed.push(now.instance);
  }
  if (added.length + removed.length + changed.length === 0) return undefined;
  return { added, removed, changed, all: [...after.values()].map((e) => e.instance) };
}

function probeKey(p: OpencodeProcess, port: number): string {
  return `${p.pid}:${p.startTime ?? ''}:${port}`;
}

/** One URL per listening port (IPv4 first, as listeners are sorted). */
function portUrls(p: OpencodeProcess): Array<{ port: number; url: string }> {
  const byPort = new Map<number, string>();
  for (const l of p.listeners) if (!byPort.has(l.port)) byPort.set(l.port, urlForListener(l));
  return [...byPort].map(([port, url]) => ({ port, url }));
}
