/** Helpers for the legacy tests: temp folders, child processes reporting JSON lines, fake time. */
import { execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';

// out/test/unit/legacy → out/test/fixtures/legacy
export const FIXTURES = path.resolve(__dirname, '../../fixtures/legacy');

/**
 * Per-test cleanup: deferred disposals run last-in first-out, then temp folders are removed, so a
 * writer or child never recreates a folder after it was deleted. Every step runs even if one fails.
 */
class Cleanup {
  private readonly steps: Array<() => unknown> = [];
  private readonly dirs: string[] = [];
  defer(step: () => unknown): void {
    this.steps.push(step);
  }
  addDir(dir: string): void {
    this.dirs.push(dir);
  }
  async run(): Promise<void> {
    const errors: unknown[] = [];
    for (const step of this.steps.reverse()) {
      try {
        await step();
      } catch (error) {
        errors.push(error);
      }
    }
    for (const dir of this.dirs) {
      try {
        fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

const cleanups = new WeakMap<TestContext, Cleanup>();

function cleanupOf(t: TestContext): Cleanup {
  let cleanup = cleanups.get(t);
  if (!cleanup) {
    const created = new Cleanup();
    cleanups.set(t, created);
    t.after(() => created.run());
    cleanup = created;
  }
  return cleanup;
}

/** Runs `step` after the test, before its temp folders are removed (LIFO among steps). */
export function defer(t: TestContext, step: () => unknown): void {
  cleanupOf(t).defer(step);
}

export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-legacy-'));
  cleanupOf(t).addDir(dir);
  return dir;
}

export interface ChildEvent {
  ev: string;
  pid: number;
  label?: string;
  t: number;
  [key: string]: unknown;
}

export class Child {
  readonly events: ChildEvent[] = [];
  readonly lines: string[] = [];
  stderr = '';
  exited = false;
  private waiters: Array<() => void> = [];

  constructor(readonly proc: ChildProcess) {
    let buffer = '';
    proc.stdout?.setEncoding('utf8');
    proc.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let i: number;
      while ((i = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, i);
        buffer = buffer.slice(i + 1);
        this.lines.push(line);
        try {
          this.events.push(JSON.parse(line) as ChildEvent);
        } catch {
          // plain text line
        }
      }
      this.wake();
    });
    proc.stderr?.setEncoding('utf8');
    proc.stderr?.on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    proc.on('exit', () => {
      this.exited = true;
      this.wake();
    });
  }

  get pid(): number {
    if (this.proc.pid === undefined) throw new Error('child has no pid');
    return this.proc.pid;
  }

  /** Resolves with the first event matching, waiting up to timeoutMs. */
  waitFor(match: (e: ChildEvent) => boolean, timeoutMs: number, what = 'event'): Promise<ChildEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(match);
        if (found) {
          clearTimeout(timer);
          resolve(found);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== listener);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what} from pid ${this.proc.pid}; stderr:\n${this.stderr.slice(-2000)}`));
      }, timeoutMs);
      const listener = (): void => {
        if (check()) this.waiters = this.waiters.filter((w) => w !== listener);
      };
      if (!check()) this.waiters.push(listener);
    });
  }

  waitLine(text: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for "${text}"; stderr:\n${this.stderr}`)), timeoutMs);
      const listener = (): void => {
        if (this.lines.includes(text)) {
          clearTimeout(timer);
          this.waiters = this.waiters.filter((w) => w !== listener);
          resolve();
        }
      };
      this.waiters.push(listener);
      listener();
    });
  }

  waitExit(timeoutMs: number): Promise<void> {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pid ${this.proc.pid} did not exit in ${timeoutMs} ms`)), timeoutMs);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }
}

/** Runs a compiled fixture with node (execFile, argument array); killed by PID after the test. */
export function startChild(t: TestContext, script: string, args: string[]): Child {
  const proc = execFile(process.execPath, [path.join(FIXTURES, script), ...args], { maxBuffer: 256 * 1024 * 1024 }, () => undefined);
  const child = new Child(proc);
  defer(t, async () => {
    if (child.exited || proc.pid === undefined) return;
    try {
      process.kill(proc.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await child.waitExit(5000).catch(() => undefined);
  });
  return child;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A manual clock for throttling tests: timers run only when `advance` passes their time. */
export class FakeClock {
  private t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();

  constructor(start = 1_000_000) {
    this.t = start;
  }

  now = (): number => this.t;

  setTimeout = (fn: () => void, ms: number): unknown => {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  };

  clearTimeout = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };

  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
}

/** Active handles/requests by type (Timeout, FSEventWrap, …), to check nothing is left running. */
export function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}
