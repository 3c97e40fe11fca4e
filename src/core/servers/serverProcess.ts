/**
 * One spawned `opencode serve` process (a managed server has one per (re)start): its output as
 * clean lines, the last stderr lines for error messages, how it ended, and how to end it with
 * everything it started.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { describeError } from '../util/describe';
import { terminateTree } from './killTree';
import type { TerminateResult } from './killTree';
import { cleanLine, LineRing, LineSplitter } from './outputLines';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** It could not be spawned at all (ENOENT, EACCES, …). */
  error?: Error;
}

export interface ServerProcessOptions {
  binary: string;
  args: readonly string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  onStdoutLine?: (line: string) => void;
  onStderrLine?: (line: string) => void;
  /** Stderr lines kept for error messages (default 20). */
  stderrLines?: number;
}

export class ServerProcess {
  readonly pid: number | undefined;
  /** Resolves once the process ended (Node reaped it) or could not be spawned. */
  readonly exited: Promise<ExitInfo>;
  /** Set by whoever ends it on purpose, so its exit is not taken for a crash. */
  expectedExit = false;
  private exitValue: ExitInfo | undefined;
  private readonly child: ChildProcess | undefined;
  private readonly stderrRing: LineRing;
  private readonly outputClosed: Promise<void>;
  private readonly platform: NodeJS.Platform;

  constructor(private readonly options: ServerProcessOptions) {
    this.platform = options.platform ?? process.platform;
    this.stderrRing = new LineRing(options.stderrLines ?? 20);
    let finish: (exit: ExitInfo) => void = () => undefined;
    this.exited = new Promise<ExitInfo>((resolve) => {
      finish = (exit) => {
        if (this.exitValue) return;
        this.exitValue = exit;
        resolve(exit);
      };
    });
    let child: ChildProcess | undefined;
    try {
      child = spawn(options.binary, [...options.args], {
        cwd: options.cwd,
        env: options.env,
        // Its own process group (POSIX): one signal to -pid reaches everything that stays in it.
        detached: this.platform !== 'win32',
        stdio: ['ignore', 'pipe', 'pipe'],
        windowsHide: true,
      });
    } catch (error) {
      finish({ code: null, signal: null, error: error instanceof Error ? error : new Error(String(error)) });
    }
    this.child = child;
    this.pid = child?.pid;
    if (!child) {
      this.outputClosed = Promise.resolve();
      return;
    }
    // 'error' without a pid = never spawned; with one (a failed kill) it changes nothing here.
    child.on('error', (error) => {
      if (child.pid === undefined) finish({ code: null, signal: null, error });
    });
    child.once('exit', (code, signal) => finish({ code, signal }));
    this.outputClosed = Promise.all([
      this.readLines(child.stdout, (line) => options.onStdoutLine?.(line)),
      this.readLines(child.stderr, (line) => {
        if (line.trim() !== '') this.stderrRing.push(line);
        options.onStderrLine?.(line);
      }),
    ]).then(() => undefined);
  }

  get exit(): ExitInfo | undefined {
    return this.exitValue;
  }

  hasExited(): boolean {
    return this.exitValue !== undefined;
  }

  /** The last stderr lines (control characters removed), oldest first. */
  stderrTail(): string[] {
    return this.stderrRing.values();
  }

  /**
   * Waits until its output was read to the end, at most `ms`: a grandchild that inherited the
   * pipes could hold them open long after the process itself exited.
   */
  async drained(ms = 500): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.outputClosed, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
    clearTimeout(timer);
  }

  /** SIGTERM, SIGKILL after `timeoutMs`, and the same for what it started (see killTree.ts). */
  async terminate(timeoutMs: number, log?: (line: string) => void): Promise<TerminateResult> {
    this.expectedExit = true;
    if (this.pid === undefined) return { ms: 0, forced: false, exited: true, others: 0, survivors: [] };
    const result = await terminateTree({
      pid: this.pid,
      exited: this.exited,
      hasExited: () => this.hasExited(),
      timeoutMs,
      platform: this.platform,
      log,
    });
    await this.drained(200);
    this.child?.stdout?.destroy();
    this.child?.stderr?.destroy();
    return result;
  }

  private readLines(stream: Readable | null, onLine: (line: string) => void): Promise<void> {
    if (!stream) return Promise.resolve();
    const splitter = new LineSplitter();
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) onLine(cleanLine(line));
    });
    return new Promise((resolve) => {
      const done = () => {
        for (const line of splitter.flush()) onLine(cleanLine(line));
        resolve();
      };
      stream.once('close', done);
      stream.once('error', done);
    });
  }
}

/** `exited with code 1`, `killed by SIGKILL`, or why it could not be started. */
export function describeExit(exit: ExitInfo, binary: string): string {
  if (exit.error) {
    const code = (exit.error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `could not start ${binary}: file not found (ENOENT)`;
    if (code === 'EACCES') return `could not start ${binary}: permission denied, not executable? (EACCES)`;
    return `could not start ${binary}: ${describeError(exit.error)}`;
  }
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exited with code ${exit.code ?? '?'}`;
}

/** A reason with the process's last stderr lines appended, for people to see why. */
export function withStderr(reason: string, tail: readonly string[]): string {
  if (tail.length === 0) return reason;
  return `${reason}\nlast stderr lines:\n${tail.map((l) => `  ${l}`).join('\n')}`;
}
