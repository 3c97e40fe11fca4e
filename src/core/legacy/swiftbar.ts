/**
 * Asks SwiftBar to re-run the legacy plugin after the files changed, like the legacy writers did
 * (docs: legacy-contract.md §3.1): at most every `minIntervalMs`, with the last request of a
 * burst kept (trailing run), and at once when the permission count changes. macOS only.
 */
import { execFile } from 'node:child_process';
import type { Logger } from '../log';
import { describeError } from '../util/describe';

export type CommandRunner = (file: string, args: readonly string[]) => Promise<void>;

export interface RefreshClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface SwiftBarRefresherOptions {
  logger: Logger;
  /** Plugin file name without interval and extension (`opencode.2s.sh` → `opencode`). */
  pluginName?: string;
  minIntervalMs?: number;
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  clock?: RefreshClock;
}

/** What the legacy writer needs from a refresher (tests inject their own). */
export interface LegacyRefresher {
  notify(permissionsPending: number): void;
}

const OPEN = '/usr/bin/open';

export function swiftBarRefreshUrl(pluginName = 'opencode'): string {
  return `swiftbar://refreshplugin?name=${encodeURIComponent(pluginName)}`;
}

export const systemClock: RefreshClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export const execFileRunner: CommandRunner = (file, args) =>
  new Promise((resolve, reject) => {
    execFile(file, [...args], { timeout: 5000, windowsHide: true }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve();
    });
  });

export class SwiftBarRefresher implements LegacyRefresher {
  readonly enabled: boolean;
  private readonly logger: Logger;
  private readonly url: string;
  private readonly minIntervalMs: number;
  private readonly run: CommandRunner;
  private readonly clock: RefreshClock;
  private lastRunAt = -Infinity;
  private lastPermissions: number | undefined;
  private trailing: unknown;
  private disposed = false;
  private readonly reported = new Set<string>();

  constructor(options: SwiftBarRefresherOptions) {
    this.logger = options.logger;
    this.enabled = (options.platform ?? process.platform) === 'darwin';
    this.url = swiftBarRefreshUrl(options.pluginName);
    this.minIntervalMs = options.minIntervalMs ?? 2000;
    this.run = options.run ?? execFileRunner;
    this.clock = options.clock ?? systemClock;
  }

  /** Call after the files changed, with the `permissions_pending` just written. */
  notify(permissionsPending: number): void {
    if (!this.enabled || this.disposed) return;
    const permissionsChanged = permissionsPending !== this.lastPermissions;
    this.lastPermissions = permissionsPending;
    const now = this.clock.now();
    if (permissionsChanged || now - this.lastRunAt >= this.minIntervalMs) {
      this.cancelTrailing();
      this.fire(now);
    } else if (this.trailing === undefined) {
      this.trailing = this.clock.setTimeout(() => {
        this.trailing = undefined;
        if (!this.disposed) this.fire(this.clock.now());
      }, this.lastRunAt + this.minIntervalMs - now);
    }
  }

  /** Drops a pending trailing refresh; SwiftBar's own 2 s cycle picks up the last change. */
  dispose(): void {
    this.disposed = true;
    this.cancelTrailing();
  }

  private cancelTrailing(): void {
    if (this.trailing === undefined) return;
    this.clock.clearTimeout(this.trailing);
    this.trailing = undefined;
  }

  private fire(now: number): void {
    this.lastRunAt = now;
    let pending: Promise<void>;
    try {
      pending = this.run(OPEN, ['-g', this.url]);
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      () => this.reported.clear(),
      (error: unknown) => {
        // Usually "SwiftBar is not installed": say it once, keep trying (it may be installed later).
        const message = describeError(error);
        if (this.reported.has(message)) return;
        this.reported.add(message);
        this.logger.info(`SwiftBar refresh failed (${message}); the plugin still re-reads the files every 2 s`);
      },
    );
  }
}
