/**
 * Opt-in Docker discovery, the I/O half: runs `docker ps` on a self-rescheduling timer (never two
 * at once) and reports the OpenCode containers containerSelection.ts finds. Missing docker, a
 * daemon that is down or a hung command back off (interval → 60 s) and are logged once, not on
 * every poll; the list keeps the last good scan meanwhile. Nothing here throws out of the loop.
 */
import type { Logger } from '../log';
import { backoffDelay } from '../util/backoff';
import { describeError } from '../util/describe';
import { Emitter } from '../util/events';
import type { Disposable } from '../util/events';
import { DOCKER_PS_ARGS, PODMAN_PS_ARGS, firstErrorLine, parseDockerPs } from './dockerPs';
import { selectOpencodeContainers } from './containerSelection';
import type { ContainerEndpoint } from './containerSelection';
import { runCommand } from '../os/exec';
import type { CommandResult, CommandRunner } from '../os/exec';

export interface TimerClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DockerSourceOptions {
  logger: Logger;
  /** Default: runCommand (execFile, argument array, deadline). */
  runner?: CommandRunner;
  /** Default `docker`; `podman` (or a path to either) works too. */
  binary?: string;
  /** Default: DOCKER_PS_ARGS, or PODMAN_PS_ARGS when the binary is podman. */
  args?: readonly string[];
  /** Pause between the end of one scan and the start of the next (default 5000). */
  intervalMs?: number;
  /** Deadline of one `docker ps` (default 5000). */
  timeoutMs?: number;
  /** Longest pause while docker keeps failing (default 60000). */
  maxBackoffMs?: number;
  /** Timers (tests). */
  clock?: TimerClock;
  /** Jitter source of the backoff (tests). */
  random?: () => number;
}

export const DEFAULT_DOCKER_INTERVAL_MS = 5_000;
export const DEFAULT_DOCKER_TIMEOUT_MS = 5_000;
export const DEFAULT_DOCKER_MAX_BACKOFF_MS = 60_000;
/** The runner enforces the deadline itself; this guard only catches a runner that never settles. */
const GUARD_GRACE_MS = 1_000;

const realClock: TimerClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class DockerSource {
  private readonly logger: Logger;
  private readonly runner: CommandRunner;
  private readonly binary: string;
  private readonly args: readonly string[];
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly clock: TimerClock;
  private readonly random: () => number;
  private readonly emitter = new Emitter<ContainerEndpoint[]>();
  private list: ContainerEndpoint[] = [];
  private signature = '[]';
  private timer: unknown;
  private started = false;
  private disposed = false;
  private inflight: Promise<void> | undefined;
  private cancelRun: (() => void) | undefined;
  private failures = 0;
  private lastError: string | undefined;
  private lastNotes = '';

  constructor(options: DockerSourceOptions) {
    this.logger = options.logger;
    this.runner = options.runner ?? runCommand;
    this.binary = options.binary ?? 'docker';
    const isPodman = /^podman(\.exe)?$/i.test(this.binary.split(/[\\/]/).pop() ?? '');
    this.args = options.args ?? (isPodman ? PODMAN_PS_ARGS : DOCKER_PS_ARGS);
    this.intervalMs = options.intervalMs ?? DEFAULT_DOCKER_INTERVAL_MS;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_DOCKER_TIMEOUT_MS;
    this.maxBackoffMs = options.maxBackoffMs ?? DEFAULT_DOCKER_MAX_BACKOFF_MS;
    this.clock = options.clock ?? realClock;
    this.random = options.random ?? Math.random;
  }

  /** The OpenCode containers of the last good scan, sorted by name. */
  get current(): ContainerEndpoint[] {
    return [...this.list];
  }

  /** Why the last scan failed (`docker not found`, the daemon's first stderr line, a timeout); undefined after a good one. */
  get error(): string | undefined {
    return this.lastError;
  }

  /** Called with the new list whenever it really changes (not on every scan). */
  onChange(listener: (list: ContainerEndpoint[]) => void): Disposable {
    return this.emitter.event(listener);
  }

  /** Starts the loop: a scan now, then one after each scan ends (intervalMs, or the backoff while failing). */
  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.schedule(0);
  }

  /**
   * Scans now and resolves with the list (the last good one if this scan failed). A call while a
   * scan runs joins that scan instead of starting a second `docker ps`. Never rejects.
   */
  async scanNow(): Promise<ContainerEndpoint[]> {
    if (!this.disposed) await this.scan();
    return this.current;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.cancelRun?.();
    this.emitter.dispose();
  }

  private schedule(delayMs: number): void {
    if (this.disposed) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.scan().then(() => this.schedule(this.nextDelay()));
    }, delayMs);
  }

  private nextDelay(): number {
    if (this.failures === 0) return this.intervalMs;
    const delay = backoffDelay(this.failures, { initialMs: this.intervalMs, maxMs: this.maxBackoffMs }, this.random);
    return Math.max(this.intervalMs, delay);
  }

  private scan(): Promise<void> {
    this.inflight ??= this.scanOnce().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  /** One `docker ps`; never rejects. */
  private async scanOnce(): Promise<void> {
    let result: CommandResult;
    try {
      result = await this.run();
    } catch (error) {
      if (!this.disposed) this.fail(this.describeRunError(error));
      return;
    }
    if (this.disposed) return;
    try {
      if (result.code !== 0) {
        this.fail(firstErrorLine(result.stderr) ?? `${this.binary} ps exited with code ${result.code}`);
        return;
      }
      const { containers, errors } = parseDockerPs(result.stdout);
      if (containers.length === 0 && errors.length > 0) {
        this.fail(`unreadable ${this.binary} output: ${errors[0]}`);
        return;
      }
      const { endpoints, skipped } = selectOpencodeContainers(containers);
      this.recover();
      this.note([
        ...errors.map((e) => `skipped unreadable output: ${e}`),
        ...skipped.map((s) => `container ${s.name} (${s.id}) runs OpenCode but is left out: ${s.reason}`),
        ...endpoints.filter((e) => e.hint).map((e) => `container ${e.name} (${e.id}) ${e.hint}`),
      ]);
      this.publish(endpoints);
    } catch (error) {
      this.fail(`could not read ${this.binary} output: ${describeError(error)}`);
    }
  }

  /** The runner, raced against a guard so that even a runner that never settles ends the scan. */
  private run(): Promise<CommandResult> {
    return new Promise<CommandResult>((resolve, reject) => {
      let settled = false;
      let guard: unknown;
      const settle = (finish: () => void): void => {
        if (settled) return;
        settled = true;
        this.clock.clearTimeout(guard);
        this.cancelRun = undefined;
        finish();
      };
      guard = this.clock.setTimeout(
        () => settle(() => reject(new Error(`${this.binary} timed out after ${this.timeoutMs} ms`))),
        this.timeoutMs + GUARD_GRACE_MS,
      );
      this.cancelRun = () => settle(() => reject(new Error('disposed')));
      let pending: Promise<CommandResult>;
      try {
        pending = this.runner(this.binary, this.args, { timeoutMs: this.timeoutMs });
      } catch (error) {
        settle(() => reject(error));
        return;
      }
      pending.then(
        (r) => settle(() => resolve(r)),
        (e: unknown) => settle(() => reject(e)),
      );
    });
  }

  private describeRunError(error: unknown): string {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    if (code === 'ENOENT') return `${this.binary} not found`;
    if (code === 'EACCES') return `${this.binary} is not executable (EACCES)`;
    return describeError(error);
  }

  /** Counts the failure; logs it only when the reason changes. The list stays the last good one. */
  private fail(message: string): void {
    this.failures++;
    if (message !== this.lastError) this.logger.warn(`docker discovery: ${message}`);
    this.lastError = message;
  }

  private recover(): void {
    if (this.lastError !== undefined) this.logger.info(`docker discovery: ${this.binary} works again`);
    this.lastError = undefined;
    this.failures = 0;
  }

  /** Skipped containers, hints and unreadable lines: logged when they change, not on every poll. */
  private note(lines: string[]): void {
    const text = lines.join('\n');
    if (text === this.lastNotes) return;
    this.lastNotes = text;
    for (const line of lines) this.logger.info(`docker discovery: ${line}`);
  }

  private publish(list: ContainerEndpoint[]): void {
    const signature = JSON.stringify(list);
    if (signature === this.signature) return;
    this.signature = signature;
    this.list = list;
    const summary = list.map((e) => `${e.name} → ${e.url}`).join(', ');
    this.logger.info(`docker discovery: ${list.length} OpenCode container(s)${summary ? `: ${summary}` : ''}`);
    this.emitter.fire(this.current, (error) => this.logger.error(`docker discovery: a listener failed: ${describeError(error)}`));
  }
}
