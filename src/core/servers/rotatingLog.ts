/**
 * A size-capped, timestamped log file: when the next line would pass the cap, `x.log` becomes
 * `x.log.1` (older ones shift up to `keep`) and a new `x.log` starts. Writes are synchronous:
 * a managed server's output is small, and lines must survive the extension host dying.
 * Log paths often sit in shared folders (/tmp): the file is opened without following a symlink,
 * must be a regular file owned by this user, and is kept at mode 0600.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface RotatingLogOptions {
  /** Cap of one file in bytes (default 1 MiB). */
  maxBytes?: number;
  /** Rotated files kept besides the current one (default 1: `x.log.1`). */
  keep?: number;
  /** Called once for the first write that fails; later writes are skipped until close(). */
  onError?: (error: unknown) => void;
  now?: () => Date;
  /** Prefix each line with an ISO time (default true; off when the lines carry their own). */
  timestamps?: boolean;
}

export const DEFAULT_LOG_MAX_BYTES = 1024 * 1024;

export class RotatingLog {
  private fd: number | undefined;
  private size = 0;
  private failed = false;
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly maxLineChars: number;

  constructor(
    readonly file: string,
    private readonly options: RotatingLogOptions = {},
  ) {
    this.maxBytes = Math.max(256, options.maxBytes ?? DEFAULT_LOG_MAX_BYTES);
    this.keep = Math.max(0, options.keep ?? 1);
    // One line never fills a file on its own.
    this.maxLineChars = Math.max(64, Math.min(16 * 1024, Math.floor(this.maxBytes / 4)));
  }

  /**
   * Appends `<ISO time> <text>`; a newline inside `text` shows as ⏎ so one entry stays one line.
   * False when the line was not written (this write or an earlier one failed).
   */
  write(text: string): boolean {
    if (this.failed) return false;
    let body = text.replace(/\r?\n/g, ' ⏎ ');
    if (body.length > this.maxLineChars) body = `${body.slice(0, this.maxLineChars)}… [${body.length - this.maxLineChars} chars cut]`;
    const line = this.options.timestamps === false ? `${body}\n` : `${(this.options.now?.() ?? new Date()).toISOString()} ${body}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      fs.writeSync(this.fd as number, line);
      this.size += bytes;
      return true;
    } catch (error) {
      this.failed = true;
      this.closeFd();
      this.options.onError?.(error);
      return false;
    }
  }

  /** Closes the file; the next write opens it again (and retries after a failure). */
  close(): void {
    this.closeFd();
    this.failed = false;
  }

  private open(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    // Only its user reads it: server output can carry paths, prompts and tool output.
    this.fd = openOwnFileForAppend(this.file);
    this.size = fs.fstatSync(this.fd).size;
  }

  private rotate(): void {
    this.closeFd();
    if (this.keep === 0) {
      fs.rmSync(this.file, { force: true });
    } else {
      for (let i = this.keep - 1; i >= 1; i--) renameIfExists(`${this.file}.${i}`, `${this.file}.${i + 1}`);
      fs.renameSync(this.file, `${this.file}.1`);
    }
    this.open();
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      fs.closeSync(fd);
    } catch {
      // already closed: nothing to flush
    }
  }
}

/**
 * Opens `file` for appending (created 0600) without following a symlink planted at its path, and
 * only when it is a regular file owned by this user; a looser mode is tightened to 0600.
 * Throws an Error that names the file and says why otherwise.
 */
export function openOwnFileForAppend(file: string): number {
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW, O_NONBLOCK } = fs.constants;
  let fd: number;
  try {
    // O_NOFOLLOW is undefined on Windows, where planted symlinks need privileges anyway.
    // O_NONBLOCK: a FIFO planted at the path fails at once instead of blocking the open.
    fd = fs.openSync(file, O_WRONLY | O_APPEND | O_CREAT | (O_NOFOLLOW ?? 0) | (O_NONBLOCK ?? 0), 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ELOOP' || code === 'EMLINK' || isSymlink(file)) {
      throw new Error(`log file ${file} is a symbolic link: refusing to follow it (remove it or choose another log file)`, { cause: error });
    }
    if (code === 'ENXIO') throw new Error(`log file ${file} is not a regular file: refusing to write to it`, { cause: error });
    throw error;
  }
  try {
    const stat = fs.fstatSync(fd);
    if (!stat.isFile()) throw new Error(`log file ${file} is not a regular file: refusing to write to it`);
    const uid = process.getuid?.();
    if (uid !== undefined && stat.uid !== uid) {
      throw new Error(`log file ${file} belongs to another user (uid ${stat.uid}, you are ${uid}): refusing to write to it`);
    }
    if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) fs.fchmodSync(fd, 0o600);
    return fd;
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

function isSymlink(file: string): boolean {
  try {
    return fs.lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

function renameIfExists(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * `<logDir>/<id>-<folder basename>-<hash of the folder>.log`: the basename reduced to characters
 * safe in any file system; the hash keeps `~/a/api` and `~/b/api` apart in a shared log folder.
 */
export function serverLogFile(logDir: string, id: string, folder: string): string {
  const trimmed = folder.replace(/[\\/]+$/, '');
  const base = path.basename(trimmed) || 'root';
  const safe = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[.]+/, '_').slice(0, 60) || 'folder';
  const hash = createHash('sha256').update(trimmed).digest('hex').slice(0, 8);
  return path.join(logDir, `${id}-${safe}-${hash}.log`);
}
