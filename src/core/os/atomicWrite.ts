/**
 * Replaces a file so a concurrent reader sees either the old or the new content, never a
 * partial one: write a private temp file in the same folder, fsync (unless `durable: false`),
 * rename over the target.
 * Synchronous on purpose: the files are a few KB in a local folder, and a write that cannot
 * complete later keeps the ordering with the writer lock and with dispose() trivial.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError } from '../util/describe';

export interface AtomicWriteOptions {
  /** Mode of the written file, applied whatever the umask or the previous file's mode. */
  mode?: number;
  /** Mode of folders created on the way. */
  dirMode?: number;
  /**
   * fsync before the rename (default true), so the new content survives a power cut. Snapshots
   * rewritten every few seconds (the legacy state files, the usage cache) pass false: readers
   * are protected by the rename alone, and an fsync costs a journal commit on every change.
   */
  durable?: boolean;
}

export class AtomicWriteError extends Error {
  override readonly name = 'AtomicWriteError';
  constructor(
    message: string,
    readonly path: string,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TEMP_SUFFIX = '.tmp';

export function writeFileAtomicSync(file: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const mode = options.mode ?? 0o600;
  const dir = path.dirname(file);
  try {
    fs.mkdirSync(dir, { recursive: true, mode: options.dirMode ?? 0o700 });
  } catch (error) {
    throw wrap(error, file, 'cannot create the folder of');
  }
  // Random name + O_EXCL: in a shared folder like /tmp nobody can pre-plant it (or a symlink).
  const temp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);
  let fd: number | undefined;
  try {
    fd = fs.openSync(temp, 'wx', mode);
    fs.writeFileSync(fd, data);
    fs.fchmodSync(fd, mode);
    if (options.durable ?? true) fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    // rename replaces the directory entry: a symlink at `file` is replaced, never followed, and
    // the old file's mode and owner go with it.
    fs.renameSync(temp, file);
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing
      }
    }
    try {
      fs.unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    throw wrap(error, file, 'cannot write');
  }
}

/**
 * Removes temp files of `file` that a killed writer left behind (older than `olderThanMs`, so a
 * live writer's temp file is never touched). Best effort.
 */
export function removeStaleTemps(file: string, olderThanMs = 60_000, now = Date.now()): number {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let removed = 0;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TEMP_SUFFIX)) continue;
    const full = path.join(dir, name);
    try {
      const st = fs.lstatSync(full);
      if (st.isFile() && now - st.mtimeMs > olderThanMs) {
        fs.unlinkSync(full);
        removed++;
      }
    } catch {
      // gone meanwhile, or not ours
    }
  }
  return removed;
}

export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function wrap(error: unknown, file: string, what: string): AtomicWriteError {
  if (error instanceof AtomicWriteError) return error;
  const code = errorCode(error);
  const reason = describeError(error);
  const hint =
    code === 'EPERM' || code === 'EACCES'
      ? ' (no permission: the file or folder may belong to another user)'
      : code === 'ENOSPC'
        ? ' (disk full)'
        : code === 'EROFS'
          ? ' (read-only file system)'
          : '';
  return new AtomicWriteError(`${what} ${file}: ${reason}${hint}`, file, code, { cause: error });
}
