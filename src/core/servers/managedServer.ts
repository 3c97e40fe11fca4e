/**
 * One OpenCode server this monitor runs for a folder: `opencode serve --port 0` in its own
 * process group, its port read from stdout, ready once GET /global/health answers (OpenCode
 * ignores requests in its first half second, so readiness is polled with short timeouts), watched
 * through its event stream, restarted by the policy when it dies, and stopped with everything it
 * started.
 *
 * stopped → starting → waitingReady → running → stopping → stopped; `crashed` when it exits on
 * its own, fails to start, or stops answering. A restart (automatic or manual) keeps the id;
 * the port may change.
 */
import type { Logger } from '../log';
import { nullLogger } from '../log';
import { OpencodeClient } from '../opencode/client';
import type { EventStream } from '../opencode/eventStream';
import { describeError } from '../util/describe';
import { Emitter } from '../util/events';
import { parseListenLine } from './listenLine';
import { checkFolder, resolveTiming, SERVE_ARGS, serverEnvironment } from './managedServerOptions';
import type { ManagedServerOptions, ManagedServerTiming } from './managedServerOptions';
import { decideRestart, recentRestarts, resolveRestartPolicy } from './restartPolicy';
import type { ResolvedRestartPolicy } from './restartPolicy';
import { RotatingLog, serverLogFile } from './rotatingLog';
import { startupTimeoutReason, waitUntilAnswering, watchHealth } from './serverHealth';
import { deferred, newAttempt } from './startAttempt';
import type { Attempt } from './startAttempt';
import { describeExit, ServerProcess, withStderr } from './serverProcess';
import type { ExitInfo } from './serverProcess';
import type { Event, ManagedServerHandle, ManagedServerInfo, ManagedServerState, RestartPolicy } from './types';

export class ManagedServer implements ManagedServerHandle {
  readonly id: string;
  readonly folder: string;
  readonly onDidChange: Event<ManagedServerInfo>;
  readonly logFile: string | undefined;

  private state: ManagedServerState = 'stopped';
  private proc: ServerProcess | undefined;
  private port: number | undefined;
  private url: string | undefined;
  private spawnedAt: number | undefined;
  private runningSince: number | undefined;
  private restarts = 0;
  private lastError: string | undefined;
  private startupMs: number | undefined;
  private lastStopMs: number | undefined;
  private lastStopForced: boolean | undefined;
  private nextRestartAt: number | undefined;
  /** When the automatic restarts happened (for the policy's window). */
  private history: number[] = [];
  private attempt: Attempt | undefined;
  private client: OpencodeClient | undefined;
  private stream: EventStream | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Cleanup after a crash (killing what the dead process left) that a start or stop must wait for. */
  private busy: Promise<void> | undefined;
  /** Bumped by stop(): work scheduled before it must not restart the server. */
  private epoch = 0;
  private disposed = false;
  private policy: ResolvedRestartPolicy;
  private policyInput: Partial<RestartPolicy>;
  private readonly timing: ManagedServerTiming;
  private readonly emitter = new Emitter<ManagedServerInfo>();
  private lastFired = '';
  private readonly log: RotatingLog | undefined;
  private readonly logger: Logger;
  private readonly env: NodeJS.ProcessEnv;
  private readonly effectivePassword: string | undefined;
  private readonly platform: NodeJS.Platform;

  constructor(private readonly options: ManagedServerOptions) {
    this.id = options.id;
    this.folder = options.folder;
    this.logger = options.logger ?? nullLogger;
    this.platform = options.platform ?? process.platform;
    this.timing = resolveTiming(options);
    this.policyInput = { ...options.restart };
    this.policy = resolveRestartPolicy(this.policyInput);
    ({ env: this.env, password: this.effectivePassword } = serverEnvironment(options));
    this.onDidChange = this.emitter.event;
    if (options.logDir !== undefined) {
      this.logFile = serverLogFile(options.logDir, this.id, this.folder);
      this.log = new RotatingLog(this.logFile, {
        maxBytes: options.logMaxBytes,
        onError: (error) => this.logger.warn(`managed server ${this.id}: cannot write its log ${this.logFile}: ${describeError(error)}`),
      });
    }
  }

  info(): ManagedServerInfo {
    const info: ManagedServerInfo = {
      id: this.id,
      folder: this.folder,
      state: this.state,
      restarts: this.restarts,
      passwordProtected: this.effectivePassword !== undefined,
    };
    const optional: Partial<ManagedServerInfo> = {
      pid: this.proc?.pid,
      port: this.port,
      url: this.url,
      runningSince: this.runningSince,
      spawnedAt: this.spawnedAt,
      lastError: this.lastError,
      logFile: this.logFile,
      startupMs: this.startupMs,
      lastStopMs: this.lastStopMs,
      lastStopForced: this.lastStopForced,
      nextRestartAt: this.nextRestartAt,
    };
    for (const [key, value] of Object.entries(optional)) {
      if (value !== undefined) (info as unknown as Record<string, unknown>)[key] = value;
    }
    return info;
  }

  /** The password clients need (never part of info(), never logged). */
  password(): string | undefined {
    return this.effectivePassword;
  }

  /** Changes the policy from now on; turning it off cancels a pending automatic restart. */
  setRestartPolicy(policy: Partial<RestartPolicy>): void {
    this.policyInput = { ...this.policyInput, ...policy };
    this.policy = resolveRestartPolicy(this.policyInput);
    if (!this.policy.enabled && this.restartTimer) {
      this.cancelRestart();
      this.write('automatic restart turned off: stays crashed');
      this.changed();
    }
  }

  /**
   * Resolves once it answers (at once when running); rejects with the reason it did not start,
   * stderr included. A manual start gives the restart policy a fresh budget.
   */
  start(): Promise<void> {
    if (this.disposed) return Promise.reject(new Error(`managed server ${this.id} is disposed`));
    if (this.state === 'running') return Promise.resolve();
    if (this.attempt) return this.attempt.deferred.promise;
    if (this.stopping) return this.stopping.then(() => this.start());
    this.cancelRestart();
    this.history = [];
    return this.launch(false);
  }

  /** Ends the process and everything it started. Twice → the same promise; stopped or crashed → at once. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.state === 'stopped' && !this.busy && !this.attempt) return Promise.resolve();
    // Registered before doStop runs: a listener that calls stop() on `stopping` gets this promise.
    const stopping = deferred();
    this.stopping = stopping.promise;
    this.doStop().then(
      () => {
        this.stopping = undefined;
        stopping.resolve();
      },
      (error: unknown) => {
        this.stopping = undefined;
        stopping.reject(error);
      },
    );
    return stopping.promise;
  }

  /** stop() then start(). Manual: not counted in `restarts`, and the policy's budget starts afresh. */
  async restart(): Promise<void> {
    await this.stop();
    return this.start();
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    await this.stop();
    this.emitter.dispose();
    this.log?.close();
  }

  // ── Starting ─────────────────────────────────────────────────────────────

  private launch(auto: boolean): Promise<void> {
    const attempt = newAttempt(auto);
    this.attempt = attempt;
    void this.spawnFor(attempt);
    return attempt.deferred.promise;
  }

  private async spawnFor(a: Attempt): Promise<void> {
    // What a crashed process left behind goes first: never two servers for one folder.
    if (this.busy) await this.busy;
    if (a !== this.attempt) return;
    let binary: string;
    try {
      binary = typeof this.options.binary === 'function' ? this.options.binary() : this.options.binary;
      checkFolder(this.folder);
    } catch (error) {
      this.spawnedAt = Date.now();
      await this.failStart(a, undefined, describeError(error));
      return;
    }
    this.port = undefined;
    this.url = undefined;
    this.runningSince = undefined;
    this.startupMs = undefined;
    this.spawnedAt = Date.now();
    const proc: ServerProcess = new ServerProcess({
      binary,
      args: SERVE_ARGS,
      cwd: this.folder,
      env: this.env,
      platform: this.platform,
      onStdoutLine: (line) => this.onStdout(a, proc, line),
      onStderrLine: (line) => this.write(`[stderr] ${line}`),
    });
    this.proc = proc;
    this.state = 'starting';
    if (proc.pid !== undefined) this.write(`spawned pid ${proc.pid}: ${binary} ${SERVE_ARGS.join(' ')} in ${this.folder}`);
    a.timer = setTimeout(() => void this.startupTimedOut(a, proc), this.timing.startupTimeoutMs);
    void proc.exited.then((exit) => this.onExit(proc, exit, binary));
    this.changed();
  }

  private onStdout(a: Attempt, proc: ServerProcess, line: string): void {
    this.write(`[stdout] ${line}`);
    if (a !== this.attempt || proc !== this.proc || this.state !== 'starting') return;
    const address = parseListenLine(line);
    if (!address) return;
    this.port = address.port;
    // We asked for 127.0.0.1; that is where clients connect whatever it printed.
    this.url = `http://127.0.0.1:${address.port}`;
    this.state = 'waitingReady';
    this.write(`listening on ${this.url} after ${Date.now() - (this.spawnedAt ?? Date.now())} ms`);
    this.changed();
    void this.waitReady(a, proc, this.url);
  }

  private async waitReady(a: Attempt, proc: ServerProcess, url: string): Promise<void> {
    const client = new OpencodeClient({ url, password: this.effectivePassword }, { logger: this.logger });
    this.client = client;
    const ready = await waitUntilAnswering(client, this.timing, a.readiness.signal, () => a === this.attempt, (reason) => (a.lastProbe = reason));
    if (ready.kind === 'rejected') await this.failStart(a, proc, ready.reason);
    if (ready.kind !== 'ready') return;
    clearTimeout(a.timer);
    this.attempt = undefined;
    this.runningSince = Date.now();
    this.startupMs = this.runningSince - (this.spawnedAt ?? this.runningSince);
    this.lastError = undefined;
    this.state = 'running';
    this.write(`running after ${this.startupMs} ms (pid ${proc.pid}, ${url})`);
    // Its event stream doubles as the health check: heartbeats every ~10 s, reconnects with backoff.
    this.stream = watchHealth(client, this.timing, {
      active: () => proc === this.proc && this.state === 'running',
      failuresAllowed: () => this.policy.healthFailures,
      write: (line) => this.write(line),
      notAnswering: (reason) => void this.crash(proc, reason),
    });
    this.changed();
    a.deferred.resolve();
  }

  private async startupTimedOut(a: Attempt, proc: ServerProcess): Promise<void> {
    if (a !== this.attempt) return;
    const reason = startupTimeoutReason(this.timing.startupTimeoutMs, this.url, a.lastProbe);
    await this.failStart(a, proc, reason);
  }

  /** The start failed: crashed with the reason, its tree killed, then the start's promise rejects. */
  private async failStart(a: Attempt, proc: ServerProcess | undefined, reason: string): Promise<void> {
    if (a !== this.attempt) return;
    this.attempt = undefined;
    clearTimeout(a.timer);
    a.readiness.abort();
    const epoch = this.epoch;
    this.runningSince = undefined;
    this.state = 'crashed';
    this.lastError = reason;
    this.changed();
    await this.cleanUpAfter(reason, proc);
    const message = this.lastError ?? reason;
    this.write(`failed to start: ${message}`);
    this.logger.warn(`managed server ${this.id} (${this.folder}) failed to start: ${message}`);
    a.deferred.reject(new Error(`OpenCode server for ${this.folder} did not start: ${message}`));
    if (a.auto && epoch === this.epoch) this.scheduleRestart(message);
  }

  /**
   * After a failed start or a crash: the watch closed, lastError completed with its stderr, and
   * what the process left killed. Held in `busy` so a start or stop meanwhile waits for it.
   */
  private async cleanUpAfter(reason: string, proc: ServerProcess | undefined): Promise<void> {
    const cleanup = (async () => {
      await this.closeWatch();
      if (!proc) return;
      if (proc.hasExited()) await proc.drained();
      this.lastError = this.redact(withStderr(reason, proc.stderrTail()));
      this.changed();
      await this.cleanupProcess(proc);
    })();
    this.busy = cleanup;
    await cleanup.catch((error: unknown) => this.write(`cleanup failed: ${describeError(error)}`));
    if (this.busy === cleanup) this.busy = undefined;
  }

  // ── Running ──────────────────────────────────────────────────────────────

  private async onExit(proc: ServerProcess, exit: ExitInfo, binary: string): Promise<void> {
    if (proc !== this.proc || proc.expectedExit || this.state === 'stopping') return;
    const how = describeExit(exit, binary);
    this.write(how);
    const a = this.attempt;
    if (a) {
      await this.failStart(a, proc, exit.error ? how : `${how} before it answered`);
      return;
    }
    if (this.state === 'running') await this.crash(proc, how);
  }

  /** It died or stopped answering: crashed, its tree killed, then restarted by the policy. */
  private async crash(proc: ServerProcess, reason: string): Promise<void> {
    if (proc !== this.proc || this.state !== 'running') return;
    proc.expectedExit = true;
    const epoch = this.epoch;
    this.runningSince = undefined;
    this.state = 'crashed';
    this.lastError = reason;
    this.write(`crashed: ${reason}`);
    this.changed();
    await this.cleanUpAfter(reason, proc);
    this.logger.warn(`managed server ${this.id} (${this.folder}) crashed: ${this.lastError}`);
    if (epoch === this.epoch) this.scheduleRestart(this.lastError ?? reason);
  }

  private scheduleRestart(reason: string): void {
    if (this.disposed || this.state !== 'crashed' || this.restartTimer || this.attempt) return;
    this.history = recentRestarts(this.history, Date.now(), this.policy.windowMs);
    const decision = decideRestart(this.history, Date.now(), this.policy, this.timing.restartBackoff);
    if (!decision.restart) {
      if (this.policy.enabled) {
        this.lastError = `${decision.reason}; last error: ${reason}`;
        this.write(`not restarting: ${decision.reason}`);
        this.logger.error(`managed server ${this.id} (${this.folder}) ${decision.reason}`);
        this.changed();
      }
      return;
    }
    this.nextRestartAt = Date.now() + decision.delayMs;
    this.write(`restarting in ${decision.delayMs} ms (automatic restart ${decision.attempt} of at most ${this.policy.maxRestarts} within the window)`);
    this.changed();
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      this.nextRestartAt = undefined;
      if (this.disposed || this.state !== 'crashed' || this.attempt) return;
      this.history.push(Date.now());
      this.restarts++;
      void this.launch(true);
    }, decision.delayMs);
  }

  private cancelRestart(): void {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextRestartAt = undefined;
  }

  // ── Stopping ─────────────────────────────────────────────────────────────

  private async doStop(): Promise<void> {
    const started = Date.now();
    this.epoch++;
    this.cancelRestart();
    const a = this.attempt;
    this.attempt = undefined;
    if (a) {
      clearTimeout(a.timer);
      a.readiness.abort();
    }
    if (this.proc) {
      this.state = 'stopping';
      this.write(`stopping pid ${this.proc.pid ?? '?'} (SIGTERM, SIGKILL after ${this.timing.stopTimeoutMs} ms)`);
      this.changed();
    }
    await this.closeWatch();
    a?.deferred.reject(new Error(`OpenCode server for ${this.folder} was stopped before it was ready`));
    if (this.busy) await this.busy.catch(() => undefined);
    const proc = this.proc;
    if (proc) {
      const result = await this.cleanupProcess(proc);
      this.lastStopMs = Date.now() - started;
      this.lastStopForced = result.forced;
      this.write(`stopped in ${this.lastStopMs} ms${result.forced ? ` (killed with SIGKILL after ${this.timing.stopTimeoutMs} ms)` : ''}`);
    }
    this.proc = undefined;
    this.port = undefined;
    this.url = undefined;
    this.runningSince = undefined;
    this.spawnedAt = undefined;
    this.lastError = undefined;
    this.state = 'stopped';
    this.changed();
    this.log?.close();
  }

  private async cleanupProcess(proc: ServerProcess) {
    const result = await proc.terminate(this.timing.stopTimeoutMs, (line) => this.write(line));
    if (result.survivors.length > 0) {
      this.logger.error(`managed server ${this.id}: processes survived SIGKILL: ${result.survivors.join(', ')}`);
    }
    if (this.proc === proc) {
      this.proc = undefined;
      this.port = undefined;
      this.url = undefined;
      this.changed();
    }
    return result;
  }

  private async closeWatch(): Promise<void> {
    const stream = this.stream;
    const client = this.client;
    this.stream = undefined;
    this.client = undefined;
    await stream?.dispose();
    await client?.close();
  }

  // ── Plumbing ─────────────────────────────────────────────────────────────

  /** A lifecycle or output line for its log file; the password never gets there. */
  private write(text: string): void {
    this.log?.write(this.redact(text));
  }

  /** Should OpenCode ever print its password, it still reaches no log, error or view. */
  private redact(text: string): string {
    const password = this.effectivePassword;
    return password ? text.split(password).join('***') : text;
  }

  private changed(): void {
    const info = this.info();
    const key = JSON.stringify(info);
    if (key === this.lastFired) return;
    this.lastFired = key;
    this.emitter.fire(info, (error) => this.logger.error(`managed server listener failed: ${describeError(error)}`));
  }
}
