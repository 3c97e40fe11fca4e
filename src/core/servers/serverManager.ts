/**
 * The managed OpenCode servers of one monitor (extension window, CLI): at most one per folder,
 * ids `srv-1`, `srv-2`, … stable across restarts. A server the user stops leaves the list; one
 * that crashed and was given up on stays (with its lastError) until it is stopped or restarted.
 */
import * as path from 'node:path';
import type { Logger } from '../log';
import { describeError } from '../util/describe';
import { Emitter } from '../util/events';
import { killTreeSync } from './killTree';
import { ManagedServer } from './managedServer';
import type { ManagedServerTiming } from './managedServerOptions';
import type { Disposable } from '../util/events';
import type { Event, ManagedServerInfo, RestartPolicy } from './types';

export { resolveOpencodeBinary, NOT_FOUND_MESSAGE } from './opencodeBinary';

export interface ServerManagerOptions {
  logger: Logger;
  /** Where each server's log file goes (`<id>-<folder>.log`); no files when undefined. */
  logDir?: string;
  /** The `opencode` to run; a function is asked at every (re)start, so a changed setting applies. */
  binary: string | (() => string);
  /** Base environment of the servers (default: this process's). */
  env?: NodeJS.ProcessEnv;
  restart?: Partial<RestartPolicy>;
  startupTimeoutMs?: number;
  stopTimeoutMs?: number;
  logMaxBytes?: number;
  /** Finer timing (readiness polling, restart backoff, event-stream watchdog); mostly for tests. */
  timing?: Partial<ManagedServerTiming>;
  platform?: NodeJS.Platform;
}

export interface StartOptions {
  /** OPENCODE_SERVER_PASSWORD for this server (default: the one the environment carries). */
  password?: string;
}

interface Entry {
  server: ManagedServer;
  subscription: Disposable;
  /** Being stopped by the user: still listed (state `stopping`), no longer the folder's server. */
  leaving: boolean;
  password: string | undefined;
}

export class ServerManager {
  readonly onDidChange: Event<ManagedServerInfo[]>;
  private readonly entries = new Map<string, Entry>();
  private readonly emitter = new Emitter<ManagedServerInfo[]>();
  private serial = 0;
  private policy: Partial<RestartPolicy>;
  private disposed = false;
  private lastFired = '';

  constructor(private readonly options: ServerManagerOptions) {
    this.policy = { ...options.restart };
    this.onDidChange = this.emitter.event;
  }

  /**
   * The folder's server, started if needed; resolves once it answers, rejects with the reason it
   * did not start (stderr included). A failed server stays listed as `crashed`.
   */
  async start(folder: string, options: StartOptions = {}): Promise<ManagedServer> {
    if (this.disposed) throw new Error('the server manager is disposed');
    const key = folderKey(folder, this.platform);
    const existing = [...this.entries.values()].find((e) => !e.leaving && folderKey(e.server.folder, this.platform) === key);
    if (existing) {
      const state = existing.server.info().state;
      const reusable = (state !== 'stopped' && state !== 'crashed') || existing.password === options.password;
      if (reusable) {
        await existing.server.start();
        return existing.server;
      }
      // Crashed with another password: replace it rather than keep a stale one around.
      await this.stop(existing.server.id);
      // Disposed meanwhile: stopAll has already run and would never stop a server made now.
      if (this.disposed) throw new Error('the server manager is disposed');
    }
    const server = new ManagedServer({
      id: `srv-${++this.serial}`,
      folder: path.resolve(folder),
      binary: this.options.binary,
      env: this.options.env,
      password: options.password,
      logger: this.options.logger,
      logDir: this.options.logDir,
      logMaxBytes: this.options.logMaxBytes,
      restart: this.policy,
      startupTimeoutMs: this.options.startupTimeoutMs,
      stopTimeoutMs: this.options.stopTimeoutMs,
      timing: this.options.timing,
      platform: this.options.platform,
    });
    const entry: Entry = { server, subscription: server.onDidChange(() => this.fire()), leaving: false, password: options.password };
    this.entries.set(server.id, entry);
    this.options.logger.info(`managed server ${server.id}: starting OpenCode in ${server.folder}`);
    const started = server.start();
    this.fire();
    await started;
    return server;
  }

  list(): ManagedServerInfo[] {
    return [...this.entries.values()].map((e) => e.server.info());
  }

  get(id: string): ManagedServer | undefined {
    return this.entries.get(id)?.server;
  }

  byPid(pid: number): ManagedServer | undefined {
    return [...this.entries.values()].find((e) => e.server.info().pid === pid)?.server;
  }

  byFolder(folder: string): ManagedServer | undefined {
    const key = folderKey(folder, this.platform);
    return [...this.entries.values()].find((e) => !e.leaving && folderKey(e.server.folder, this.platform) === key)?.server;
  }

  /** The password a managed server was started with, by its URL (`localhost` and `127.0.0.1` alike). */
  passwordFor(url: string): string | undefined {
    const wanted = originOf(url);
    if (!wanted) return undefined;
    for (const { server } of this.entries.values()) {
      const own = server.info().url;
      if (own && originOf(own) === wanted) return server.password();
    }
    return undefined;
  }

  /** Stops it with everything it started, then drops it from the list. Unknown ids resolve at once. */
  async stop(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.leaving = true;
    try {
      await entry.server.stop();
    } finally {
      if (this.entries.get(id) === entry) {
        this.entries.delete(id);
        entry.subscription.dispose();
        void entry.server.dispose();
        this.fire();
      }
    }
  }

  /** Stop, then start again (same id; the port may change). Does not count as an automatic restart. */
  async restart(id: string): Promise<void> {
    const entry = this.entries.get(id);
    if (!entry || entry.leaving) throw new Error(`no managed server ${id}`);
    await entry.server.restart();
  }

  /** Every server is asked to stop even when one of them fails to; the first failure is rethrown. */
  async stopAll(): Promise<void> {
    const results = await Promise.allSettled([...this.entries.keys()].map((id) => this.stop(id)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Applies to every server from now on; turning restarts off cancels pending ones. */
  setRestartPolicy(policy: Partial<RestartPolicy>): void {
    this.policy = { ...this.policy, ...policy };
    for (const { server } of this.entries.values()) server.setRestartPolicy(this.policy);
  }

  /** For exit hooks: SIGKILL every server's process tree now, synchronously. */
  killAllSync(): void {
    for (const { server } of this.entries.values()) {
      const pid = server.info().pid;
      if (pid !== undefined) killTreeSync(pid, this.platform);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    try {
      await this.stopAll();
    } finally {
      this.emitter.dispose();
    }
  }

  private get platform(): NodeJS.Platform {
    return this.options.platform ?? process.platform;
  }

  private fire(): void {
    const list = this.list();
    // One change of a server can reach here twice (its own event, then ours): announce it once.
    const key = JSON.stringify(list);
    if (key === this.lastFired) return;
    this.lastFired = key;
    this.emitter.fire(list, (error) => this.options.logger.error(`managed servers listener failed: ${describeError(error)}`));
  }
}

function folderKey(folder: string, platform: NodeJS.Platform): string {
  const resolved = path.resolve(folder).replace(/[\\/]+$/, '');
  // Windows and macOS file systems ignore case by default; a second server for "Repo" vs "repo" is wrong there.
  return platform === 'win32' || platform === 'darwin' ? resolved.toLowerCase() : resolved;
}

function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname;
    const port = u.port || (u.protocol === 'https:' ? '443' : '80');
    return `${u.protocol}//${host}:${port}`;
  } catch {
    return undefined;
  }
}
