/**
 * A size-capped, timestamped log file: when the next line would pass the cap, `x.log` becomes
 * `x.log.1` (older ones shift up to `keep`) and a new `x.log` starts. Writes are synchronous:
 * a managed server's output is small, and lines must survive the extension host dying.
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

  /** Appends `<ISO time> <text>`; a newline inside `text` shows as ⏎ so one entry stays one line. */
  write(text: string): void {
    if (this.failed) return;
    let body = text.replace(/\r?\n/g, ' ⏎ ');
    if (body.length > this.maxLineChars) body = `${body.slice(0, this.maxLineChars)}… [${body.length - this.maxLineChars} chars cut]`;
    const line = `${(this.options.now?.() ?? new Date()).toISOString()} ${body}\n`;
    const bytes = Buffer.byteLength(line);
    try {
      if (this.fd === undefined) this.open();
      if (this.size > 0 && this.size + bytes > this.maxBytes) this.rotate();
      fs.writeSync(this.fd as number, line);
      this.size += bytes;
    } catch (error) {
      this.failed = true;
      this.closeFd();
      this.options.onError?.(error);
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
    this.fd = fs.openSync(this.file, 'a', 0o600);
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
