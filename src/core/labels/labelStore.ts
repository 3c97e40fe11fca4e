/**
 * The user's labels on sessions, shared by every process of the user (VS Code windows, the CLI,
 * the daemon) through one file: read whole, changed only as read-modify-write under a
 * cross-process mutex and replaced atomically, so concurrent writers lose no label. The file is
 * watched (folder watch, with a slow stat poll behind it): a label set in one process shows in
 * the others. A malformed file is reported, never silently dropped: it is kept as `<file>.bad`
 * before anything replaces it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from '../log';
import { cleanLabel } from '../model/labelText';
import { errorCode, writeFileAtomicSync } from '../os/atomicWrite';
import { withFileMutex } from '../os/fileMutex';
import { describeError } from '../util/describe';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { fileSignature } from '../util/fileSignature';
import type { LabelEntry, Labels } from './labelsFile';
import { MAX_LABELS_FILE_BYTES, MalformedLabelsError, defaultLabelsPath, isSessionId, parseLabels, pruneLabels, serializeLabels } from './labelsFile';
import { everyAligned } from '../util/alignedDelay';

export interface LabelStoreOptions {
  file?: string;
  logger: Logger;
  /** Watch the file for changes by other processes (default true). */
  watch?: boolean;
  /** Fallback poll of the file's signature, for file systems without change events (ms). */
  pollMs?: number;
  now?: () => number;
}

/** How stale a label's "seen" time may get before a monitor that sees the session refreshes it. */
const SEEN_REFRESH_MS = 6 * 3600_000;
const SEEN_FLUSH_DELAY_MS = 2_000;

export class LabelStore implements Disposable {
  readonly file: string;
  private readonly logger: Logger;
  private readonly now: () => number;
  private labels: Labels = new Map();
  private signature = '';
  private problem: string | undefined;
  private readonly changes = new Emitter<void>();
  readonly onDidChange = this.changes.event;
  private watcher: fs.FSWatcher | undefined;
  private poller: Disposable | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private seenTimer: NodeJS.Timeout | undefined;
  private readonly seenPending = new Set<string>();
  private writes: Promise<unknown> = Promise.resolve();
  private disposed = false;

  constructor(private readonly options: LabelStoreOptions) {
    this.file = path.resolve(options.file ?? defaultLabelsPath());
    this.logger = options.logger;
    this.now = options.now ?? Date.now;
  }

  /** Reads the file now and starts watching it. */
  start(): this {
    this.reload();
    if (this.options.watch === false) return this;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      this.watcher = fs.watch(path.dirname(this.file), { persistent: false }, (_event, name) => {
        if (!name || String(name) === path.basename(this.file)) this.scheduleReload();
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch (error) {
      this.logger.debug(`labels: cannot watch ${path.dirname(this.file)}: ${describeError(error)}; polling`);
    }
    this.poller = everyAligned(this.options.pollMs ?? 2_000, () => {
      if (fileSignature(this.file) !== this.signature) this.reload();
    }, { unref: true });
    return this;
  }

  /** A session's label, if it has one. */
  get(sessionId: string): string | undefined {
    return this.labels.get(sessionId)?.text;
  }

  all(): ReadonlyMap<string, Readonly<LabelEntry>> {
    return this.labels;
  }

  /** Why the file could not be read (malformed, too large, unreadable), until it reads again. */
  get error(): string | undefined {
    return this.problem;
  }

  /**
   * Sets (or with empty text removes) a session's label and resolves with the label as stored
   * (cleaned), or undefined when removed. Rejects when the file cannot be written.
   */
  set(sessionId: string, text: string): Promise<string | undefined> {
    if (!isSessionId(sessionId)) return Promise.reject(new Error(`not a session id: ${JSON.stringify(sessionId.slice(0, 60))}`));
    const label = cleanLabel(text);
    return this.update((labels, now) => {
      if (label) labels.set(sessionId, { text: label, setAt: now, seenAt: now });
      else labels.delete(sessionId);
    }).then(() => label || undefined);
  }

  /**
   * The monitor saw these sessions: labels of sessions that keep showing up are never pruned.
   * Cheap (called on every snapshot): writes at most once per session per SEEN_REFRESH_MS.
   */
  noteSeen(sessionIds: Iterable<string>): void {
    if (this.disposed) return;
    const now = this.now();
    for (const id of sessionIds) {
      const e = this.labels.get(id);
      if (e && now - e.seenAt > SEEN_REFRESH_MS) this.seenPending.add(id);
    }
    if (this.seenPending.size === 0 || this.seenTimer) return;
    this.seenTimer = setTimeout(() => {
      this.seenTimer = undefined;
      const ids = [...this.seenPending];
      this.seenPending.clear();
      void this.update((labels, at) => {
        for (const id of ids) {
          const e = labels.get(id);
          if (e) e.seenAt = at;
        }
      }).catch((error: unknown) => this.logger.warn(`labels: ${describeError(error)}`));
    }, SEEN_FLUSH_DELAY_MS);
    this.seenTimer.unref();
  }

  /** Reads the file again; fires onDidChange when a label changed. */
  reload(): void {
    if (this.disposed) return;
    const signature = fileSignature(this.file);
    let next: Labels;
    try {
      next = readLabels(this.file);
      if (this.problem) this.logger.info(`labels: ${this.file} reads again`);
      this.problem = undefined;
    } catch (error) {
      const message = `labels: ${describeError(error)}`;
      if (message !== this.problem) this.logger.error(message);
      this.problem = message;
      this.signature = signature;
      return; // keep the labels known so far
    }
    this.signature = signature;
    this.replace(next);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.watcher?.close();
    this.poller?.dispose();
    if (this.debounce) clearTimeout(this.debounce);
    if (this.seenTimer) clearTimeout(this.seenTimer);
    this.changes.dispose();
  }

  /** Resolves once the writes started so far are done (tests, orderly shutdown). */
  flushed(): Promise<void> {
    return this.writes.then(() => undefined, () => undefined);
  }

  private update(change: (labels: Labels, now: number) => void): Promise<void> {
    const run = async () => {
      fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await withFileMutex(this.file, () => {
        let labels: Labels;
        try {
          labels = readLabels(this.file);
        } catch (error) {
          if (!(error instanceof MalformedLabelsError)) throw error;
          // Never lose it silently: the malformed file is kept beside the new one.
          const bad = `${this.file}.bad`;
          fs.renameSync(this.file, bad); // moves the entry itself: a symlink is kept as a symlink, never followed
          this.logger.error(`labels: ${describeError(error)}; kept as ${bad} and started a new labels file`);
          labels = new Map();
        }
        const now = this.now();
        change(labels, now);
        pruneLabels(labels, now);
        writeFileAtomicSync(this.file, serializeLabels(labels), { mode: 0o600 });
        this.signature = fileSignature(this.file);
        this.problem = undefined;
        this.replace(labels);
      }, { owner: `opencode-monitor labels (pid ${process.pid})` });
    };
    // One update at a time within the process; the mutex orders them across processes.
    const done = this.writes.then(run, run);
    this.writes = done.catch(() => undefined);
    return done;
  }

  private scheduleReload(): void {
    if (this.debounce || this.disposed) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      if (fileSignature(this.file) !== this.signature) this.reload();
    }, 30);
  }

  private replace(next: Labels): void {
    const changed = next.size !== this.labels.size || [...next].some(([id, e]) => this.labels.get(id)?.text !== e.text);
    this.labels = next;
    if (changed && !this.disposed) this.changes.fire(undefined, (error) => this.logger.error(`labels listener failed: ${describeError(error)}`));
  }
}

/** The labels in `file` (none when it does not exist); throws MalformedLabelsError when unusable. */
export function readLabels(file: string): Labels {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return new Map();
    if (errorCode(error) === 'ELOOP') throw new MalformedLabelsError(`${file} is a symbolic link: not read`);
    throw error;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new MalformedLabelsError(`${file} is not a regular file`);
    if (st.size > MAX_LABELS_FILE_BYTES) throw new MalformedLabelsError(`${file} is too large (${st.size} bytes, at most ${MAX_LABELS_FILE_BYTES})`);
    const raw = fs.readFileSync(fd, 'utf8');
    try {
      return parseLabels(raw);
    } catch (error) {
      if (error instanceof MalformedLabelsError) throw new MalformedLabelsError(`${file} is malformed: ${error.message}`);
      throw error;
    }
  } finally {
    fs.closeSync(fd);
  }
}
