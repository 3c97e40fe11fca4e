/**
 * The writer lock's file: its record, and the few syscalls that create, read, replace and clean it
 * up without ever exposing a half-written file or removing someone else's live lock. WriterLock
 * (writerLock.ts) decides when to call them.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCode } from './atomicWrite';

export interface LockRecord {
  pid: number;
  hostname: string;
  /** Who holds it, for humans: e.g. "VS Code window", "opencode-monitor daemon". */
  owner: string;
  /** Last refresh (ms since epoch). */
  heartbeat: number;
  /** Unique per WriterLock instance: tells a lock apart from a newer one of the same PID. */
  token: string;
  acquiredAt: number;
}

/** What is at the lock path: the raw text (compared byte for byte) and the record if valid. */
export interface LockFileContent {
  raw: string;
  record?: LockRecord;
  mtimeMs: number;
}

export const LOCK_MODE = 0o644; // readable by all: another user's monitor can tell who writes
const LEFTOVER_AGE_MS = 60_000;
const LINK_UNSUPPORTED = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** The current lock record, or undefined when there is none or it cannot be read. */
export function readWriterLock(file: string): LockRecord | undefined {
  try {
    return readLockFile(file)?.record;
  } catch {
    return undefined;
  }
}

/** Reads content and mtime from one open file, so both describe the same inode. */
export function readLockFile(file: string): LockFileContent | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return readOpenLock(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function readOpenLock(fd: number): LockFileContent & { size: number } {
  const st = fs.fstatSync(fd);
  const raw = fs.readFileSync(fd, 'utf8');
  const record = parseRecord(raw);
  return record ? { raw, record, mtimeMs: st.mtimeMs, size: st.size } : { raw, mtimeMs: st.mtimeMs, size: st.size };
}

/**
 * Refreshes our own lock in place: one descriptor checks the token and overwrites the content, so
 * the file stays the inode we created. A rename per beat blocked the event loop ~1 ms on ext4 (it
 * forces the new file's blocks out: auto_da_alloc; waiting, not CPU), and a rename could replace a
 * contender's fresh lock, an in-place write cannot. A reader racing the write may see mixed bytes:
 * unparseable is judged by mtime (fresh), a parseable mix is judged again under the takeover mutex.
 * `found` is what is there when it is not ours (undefined: no file); nothing is written then.
 */
export function refreshOwnLock(file: string, token: string, content: string): { written: boolean; found?: LockFileContent } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r+');
  } catch (error) {
    const code = errorCode(error);
    if (code === 'ENOENT') return { written: false };
    // Not writable: not a lock we created; say what is there.
    if (code === 'EACCES' || code === 'EPERM') return { written: false, found: readLockFile(file) };
    throw error;
  }
  try {
    const { size, ...found } = readOpenLock(fd);
    if (found.record?.token !== token) return { written: false, found };
    const bytes = Buffer.from(content, 'utf8');
    fs.writeSync(fd, bytes, 0, bytes.length, 0);
    if (bytes.length < size) fs.ftruncateSync(fd, bytes.length);
    return { written: true };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Creates `file` with `content` only if it does not exist, never visible half-written: hard-link
 * a complete temp file (falls back to an O_EXCL create where hard links are unsupported).
 */
export function createExclusive(file: string, content: string, token: string): boolean {
  const temp = `${file}.${token}.${randomBytes(4).toString('hex')}.new`;
  fs.writeFileSync(temp, content, { mode: LOCK_MODE, flag: 'wx' });
  try {
    fs.linkSync(temp, file);
    return true;
  } catch (error) {
    const code = errorCode(error);
    if (code === 'EEXIST') return false;
    if (!code || !LINK_UNSUPPORTED.has(code)) throw error;
  } finally {
    removeQuietly(temp);
  }
  try {
    fs.writeFileSync(file, content, { mode: LOCK_MODE, flag: 'wx' });
    return true;
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Removes a lock judged stale without ever removing a different, live one: move it aside under
 * a name only we use, then check that what we moved is what we judged (or is stale too). If a
 * live lock had replaced it meanwhile (another contender was faster), put that one back.
 * - `removed`: the stale lock is gone; try to create ours.
 * - `gone`: someone else removed it first; try to create ours.
 * - `restored`: a live lock is (back) in place; we are not the holder.
 */
export function replaceStaleLock(
  file: string,
  judgedRaw: string,
  token: string,
  isStale: (content: LockFileContent) => boolean,
): 'removed' | 'gone' | 'restored' {
  const grave = `${file}.${token}.stale`;
  try {
    fs.renameSync(file, grave);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    let moved: LockFileContent | undefined;
    try {
      moved = readLockFile(grave);
    } catch {
      moved = undefined;
    }
    if (!moved || moved.raw === judgedRaw || isStale(moved)) return 'removed';
    // If this fails with EEXIST a third contender created one meanwhile; the holder of the lock we
    // moved sees a foreign token on its next heartbeat and steps down, so one holder remains.
    createExclusive(file, moved.raw, token);
    return 'restored';
  } finally {
    removeQuietly(grave);
  }
}

function parseRecord(raw: string): LockRecord | undefined {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.pid !== 'number' || !Number.isInteger(o.pid) || o.pid <= 0) return undefined;
  if (typeof o.heartbeat !== 'number' || !Number.isFinite(o.heartbeat)) return undefined;
  if (typeof o.token !== 'string') return undefined;
  return {
    pid: o.pid,
    hostname: typeof o.hostname === 'string' ? o.hostname : '',
    owner: typeof o.owner === 'string' ? o.owner : '',
    heartbeat: o.heartbeat,
    token: o.token,
    acquiredAt: typeof o.acquiredAt === 'number' ? o.acquiredAt : o.heartbeat,
  };
}

export function lockHolderText(record: LockRecord | undefined): string {
  if (!record) return 'an unreadable lock';
  return `pid ${record.pid}${record.owner ? ` (${record.owner})` : ''}`;
}

export function removeQuietly(file: string): void {
  try {
    fs.unlinkSync(file);
  } catch {
    // already gone
  }
}

/** How old a takeover mutex must be before it counts as left by a dead contender (a takeover takes milliseconds). */
const MUTEX_STALE_MS = 10_000;

/** The short-lived mutex of a stale-lock takeover; a mutex left behind by a dead process expires. */
export function takeMutex(file: string, token: string, now: number): boolean {
  const content = JSON.stringify({ pid: process.pid, token, at: now }) + '\n';
  if (createExclusive(file, content, token)) return true;
  try {
    if (now - fs.statSync(file).mtimeMs <= MUTEX_STALE_MS) return false;
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') return false;
  }
  removeQuietly(file);
  return createExclusive(file, content, token);
}

/** Removes temp files of killed contenders (`<lock>.<token>.*`), once clearly abandoned. */
export function removeLeftovers(lockPath: string, now: number): void {
  const dir = path.dirname(lockPath);
  const prefix = path.basename(lockPath) + '.';
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/\.(new|stale|beat|release)$/.test(name)) continue;
    const full = path.join(dir, name);
    try {
      const st = fs.lstatSync(full);
      if (st.isFile() && now - st.mtimeMs > LEFTOVER_AGE_MS) fs.unlinkSync(full);
    } catch {
      // gone meanwhile, or not ours to remove
    }
  }
}
