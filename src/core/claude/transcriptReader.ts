/**
 * Reads a Claude Code transcript incrementally: from the last byte offset to the end, never the
 * whole file again (it grows by whole API requests). Memory is bounded: a line longer than
 * `maxLineBytes` is skipped unparsed, and a long existing file is read from its last
 * `initialTailBytes` only. Malformed lines are skipped with one log line each (the first few).
 */
import * as fs from 'node:fs';
import type { Logger } from '../log';
import { describeError } from '../util/describe';
import type { TranscriptState } from './transcript';
import { applyTranscriptLine, emptyTranscript } from './transcript';

export interface TranscriptReaderOptions {
  file: string;
  logger: Logger;
  /** Longer lines are skipped (they hold whole API requests or file contents). */
  maxLineBytes?: number;
  /** A file longer than this on first read is read from its tail only. */
  initialTailBytes?: number;
  /** Bytes read per read call. */
  chunkBytes?: number;
}

const NEWLINE = 0x0a;
/** Malformed lines logged per file; later ones are counted only. */
const LOGGED_SKIPS = 5;

export class TranscriptReader {
  state: TranscriptState = emptyTranscript();
  /** Bytes consumed so far (complete lines plus the pending partial line). */
  offset = 0;
  private ino: number | undefined;
  private partial: Buffer[] = [];
  private partialBytes = 0;
  /** Inside a line already too long: drop bytes until its end. */
  private discarding = false;
  /** The first read starts mid-file: its first (partial) line is dropped. */
  private dropFirstLine = false;
  private running: Promise<boolean> | undefined;
  private again = false;
  private readonly maxLine: number;
  private readonly tail: number;
  private readonly chunk: number;

  constructor(private readonly options: TranscriptReaderOptions) {
    this.maxLine = options.maxLineBytes ?? 1024 * 1024;
    this.tail = options.initialTailBytes ?? 4 * 1024 * 1024;
    this.chunk = options.chunkBytes ?? 256 * 1024;
  }

  get file(): string {
    return this.options.file;
  }

  /** Reads what was appended since the last call; resolves true when the state changed. */
  readNew(): Promise<boolean> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      let changed = false;
      do {
        this.again = false;
        changed = (await this.readOnce()) || changed;
      } while (this.again);
      return changed;
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  private async readOnce(): Promise<boolean> {
    let handle: fs.promises.FileHandle;
    try {
      handle = await fs.promises.open(this.options.file, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.logger.debug(`Claude Code transcript ${this.options.file}: ${describeError(error)}`);
      return false;
    }
    try {
      const st = await handle.stat();
      let changed = false;
      if (this.ino !== undefined && (st.ino !== this.ino || st.size < this.offset)) {
        // Replaced or truncated: start over.
        this.reset();
        changed = true;
      }
      if (this.ino === undefined) {
        this.ino = st.ino;
        if (st.size > this.tail) {
          this.offset = st.size - this.tail;
          this.dropFirstLine = true;
        }
      }
      const buffer = Buffer.allocUnsafe(this.chunk);
      while (this.offset < st.size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(this.chunk, st.size - this.offset), this.offset);
        if (bytesRead <= 0) break;
        this.offset += bytesRead;
        changed = this.consume(buffer.subarray(0, bytesRead)) || changed;
      }
      return changed;
    } catch (error) {
      this.options.logger.warn(`Claude Code transcript ${this.options.file}: ${describeError(error)}`);
      return false;
    } finally {
      await handle.close().catch(() => undefined);
    }
  }

  private reset(): void {
    this.state = emptyTranscript();
    this.offset = 0;
    this.ino = undefined;
    this.partial = [];
    this.partialBytes = 0;
    this.discarding = false;
    this.dropFirstLine = false;
  }

  /** Splits bytes into lines; complete lines are applied, the rest is kept (bounded). */
  private consume(bytes: Buffer): boolean {
    let changed = false;
    let start = 0;
    for (;;) {
      const nl = bytes.indexOf(NEWLINE, start);
      const end = nl < 0 ? bytes.length : nl;
      const piece = bytes.subarray(start, end);
      if (!this.discarding) {
        if (this.partialBytes + piece.length > this.maxLine) {
          this.discarding = true;
          this.partial = [];
          this.partialBytes = 0;
        } else if (piece.length > 0) {
          // Copied: the read buffer is reused.
          this.partial.push(Buffer.from(piece));
          this.partialBytes += piece.length;
        }
      }
      if (nl < 0) break;
      changed = this.endLine() || changed;
      start = nl + 1;
    }
    return changed;
  }

  private endLine(): boolean {
    const dropped = this.dropFirstLine;
    this.dropFirstLine = false;
    if (this.discarding) {
      this.discarding = false;
      this.state.skipped++;
      this.logSkip(`line longer than ${this.maxLine} bytes skipped`);
      return false;
    }
    const text = Buffer.concat(this.partial, this.partialBytes).toString('utf8');
    this.partial = [];
    this.partialBytes = 0;
    if (dropped || !text.trim()) return false;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.state.skipped++;
      this.logSkip('malformed JSON line skipped');
      return false;
    }
    applyTranscriptLine(this.state, parsed);
    return true;
  }

  private logSkip(what: string): void {
    const n = this.state.skipped;
    const message = `Claude Code transcript ${this.options.file}: ${what} (${n} skipped so far)`;
    if (n <= LOGGED_SKIPS) this.options.logger.warn(message);
    else this.options.logger.debug(message);
  }
}
