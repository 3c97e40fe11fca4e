/**
 * A short-lived mutex between processes for read-modify-write of a small shared file (e.g. the
 * labels file): `<file>.lock` created exclusively (never visible half-written), held for the few
 * milliseconds of one update, removed after. A lock left by a dead process (or older than
 * `staleMs`, since an update takes milliseconds) is replaced through rename-then-verify, so two
 * contenders never delete each other's fresh lock.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { isPidAlive } from './pid';
import { createExclusive, readLockFile, replaceStaleLock } from './lockFile';
import type { LockFileContent } from './lockFile';

export interface FileMutexOptions {
  /** Give up after this long (ms). */
  timeoutMs?: number;
  /** A lock older than this is stale whatever its PID says (ms). */
  staleMs?: number;
  owner?: string;
}

export class MutexTimeoutError extends Error {
  override readonly name = 'MutexTimeoutError';
}

/** Runs `work` while holding `<file>.lock`; the lock is released whatever `work` does. */
export async function withFileMutex<T>(file: string, work: () => T | Promise<T>, options: FileMutexOptions = {}): Promise<T> {
  const lockPath = `${file}.lock`;
  const timeoutMs = options.timeoutMs ?? 5_000;
  const staleMs = options.staleMs ?? 10_000;
  const token = `${process.pid}-${randomBytes(8).toString('hex')}`;
  const hostname = os.hostname();
  const deadline = Date.now() + timeoutMs;
  let delay = 2;
  for (;;) {
    const now = Date.now();
    const content = JSON.stringify({ pid: process.pid, hostname, owner: options.owner ?? 'opencode-monitor', heartbeat: now, token, acquiredAt: now }) + '\n';
    if (createExclusive(lockPath, content, token)) break;
    let current: LockFileContent | undefined;
    try {
      current = readLockFile(lockPath);
    } catch {
      current = undefined;
    }
    const isStale = (c: LockFileContent) => {
      const age = Date.now() - c.mtimeMs;
      if (age > staleMs) return true;
      if (!c.record) return age > 1_000; // being written by a contender, or garbage left behind
      return c.record.hostname === hostname && !isPidAlive(c.record.pid);
    };
    if (current && isStale(current)) {
      replaceStaleLock(lockPath, current.raw, token, isStale);
      continue;
    }
    if (Date.now() >= deadline) {
      const holder = current?.record ? `pid ${current.record.pid}` : 'another process';
      throw new MutexTimeoutError(`${lockPath} is held by ${holder} for more than ${timeoutMs} ms`);
    }
    // Jittered backoff: many writers at once take turns without a thundering herd.
    await new Promise((r) => setTimeout(r, delay + Math.random() * delay));
    delay = Math.min(delay * 2, 50);
  }
  try {
    return await work();
  } finally {
    releaseIfOurs(lockPath, token);
  }
}

function releaseIfOurs(lockPath: string, token: string): void {
  try {
    if (readLockFile(lockPath)?.record?.token !== token) return; // taken over as stale: not ours any more
    fs.unlinkSync(lockPath);
  } catch {
    // already gone
  }
}
