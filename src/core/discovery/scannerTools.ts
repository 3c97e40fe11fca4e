/**
 * What the macOS and Windows scanners share (both read processes through command-line tools,
 * where Linux reads /proc): their tools run with one deadline, each failure message logged once,
 * and the throttle of the costly listening-socket listing.
 */
import type { Logger } from '../log';
import { nullLogger } from '../log';
import { runCommand } from '../os/exec';
import type { CommandResult, CommandRunner } from '../os/exec';
import { listenersDue } from './classify';

export interface ToolScannerOptions {
  run?: CommandRunner;
  timeoutMs?: number;
  tableRefreshMs?: number;
  portWaitMs?: number;
  now?: () => number;
  logger?: Logger;
}

export class ScannerTools {
  readonly now: () => number;
  private readonly runner: CommandRunner;
  private readonly timeoutMs: number;
  private readonly logger: Logger;
  private readonly warned = new Set<string>();
  private lastListing = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly options: ToolScannerOptions,
    defaultTimeoutMs: number,
  ) {
    this.runner = options.run ?? runCommand;
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? nullLogger;
  }

  run(file: string, args: readonly string[]): Promise<CommandResult> {
    return this.runner(file, args, { timeoutMs: this.timeoutMs });
  }

  /** True when the listening sockets are to be listed now; they then count as listed at `now`. */
  listingDue(now: number, candidates: Parameters<typeof listenersDue>[2]): boolean {
    const due = listenersDue(now, this.lastListing, candidates, { refreshMs: this.options.tableRefreshMs, portWaitMs: this.options.portWaitMs });
    if (due) this.lastListing = now;
    return due;
  }

  warnOnce(message: string): void {
    if (this.warned.has(message)) return;
    this.warned.add(message);
    this.logger.warn(`discovery: ${message}`);
  }
}
