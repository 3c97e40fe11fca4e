/**
 * Claude Code sessions on this machine, from its own files: the session registry
 * (`<claude home>/sessions/<pid>.json`, one per interactive process) checked against the
 * process table, and each session's transcript read incrementally. Watched with fs.watch; a
 * cheap poll (one readdir, one stat per registry file, one /proc read per process, one fstat
 * per transcript) catches what watching misses and notices killed processes, which change no file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from '../log';
import type { InstanceModel, PermissionModel, SessionModel } from '../model/model';
import { emptyTodos } from '../model/model';
import type { AgentSource, AgentSessions } from '../monitor/ports';
import { describeError } from '../util/describe';
import { Emitter } from '../util/events';
import type { Disposable } from '../util/events';
import type { ProcessCheck } from './processCheck';
import { checkProcess } from './processCheck';
import type { RegistryEntry } from './registry';
import { MAX_REGISTRY_BYTES, parseRegistry, registryPid, transcriptFolderNames } from './registry';
import { TranscriptReader } from './transcriptReader';
import { plainText } from './plainText';
import { everyAligned } from '../util/alignedDelay';

export interface ClaudeSourceOptions {
  logger: Logger;
  /** Claude Code's config folder: `$CLAUDE_CONFIG_DIR`, else `~/.claude`. */
  home?: string;
  pollMs?: number;
  /** At most this many registry files are read (a hostile folder cannot grow memory). */
  maxSessions?: number;
  procRoot?: string;
  now?: () => number;
  check?: (pid: number, procStart: string | undefined) => ProcessCheck;
}

/** Claude Code's config folder for this user. */
export function claudeHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.CLAUDE_CONFIG_DIR || path.join(os.homedir(), '.claude');
}

interface Tracked {
  pid: number;
  signature: string;
  entry?: RegistryEntry;
  /** Why the file is not a session (logged once per signature). */
  problem?: string;
  process?: ProcessCheck;
  reader?: TranscriptReader;
  transcriptWatch?: fs.FSWatcher;
  firstSeen: number;
  /** When this monitor first saw the current permission wait (keyed by its statusUpdatedAt). */
  permissionSeen?: { key: number | undefined; at: number };
}

/**
 * Claude Code flips its registry to "waiting" a moment before the transcript line naming the
 * tool lands: the wait is shown once the tool is known, or after this long without it, so the
 * one notification of the incident names what is asked.
 */
const PERMISSION_TOOL_GRACE_MS = 1_000;

export class ClaudeSource implements AgentSource {
  readonly agent = 'claude' as const;
  private readonly tracked = new Map<number, Tracked>();
  private readonly changes = new Emitter<void>();
  private readonly home: string;
  private readonly sessionsDir: string;
  private readonly now: () => number;
  private readonly check: (pid: number, procStart: string | undefined) => ProcessCheck;
  private dirWatch: fs.FSWatcher | undefined;
  private dirWatchOn: string | undefined;
  private timer: Disposable | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescan = false;
  private started = false;
  private disposed = false;
  private cached: AgentSessions | undefined;
  private graceTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: ClaudeSourceOptions) {
    this.home = options.home ?? claudeHome();
    this.sessionsDir = path.join(this.home, 'sessions');
    this.now = options.now ?? Date.now;
    this.check = options.check ?? ((pid, start) => checkProcess(pid, start, options.procRoot));
  }

  onChange(listener: () => void): Disposable {
    return this.changes.event(listener);
  }

  start(): void {
    if (this.started || this.disposed) return;
    this.started = true;
    this.watchDir();
    this.timer = everyAligned(this.options.pollMs ?? 1_000, () => {
      if (this.pollNeeded()) void this.scanNow();
    }, { unref: true });
    void this.scanNow();
  }

  /** Scans now; a scan asked for while one runs runs again right after it. */
  scanNow(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.scanning) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        try {
          if (await this.scan()) {
            this.cached = undefined;
            this.changes.fire(undefined, (error) => this.options.logger.error(`Claude Code change listener: ${describeError(error)}`));
          }
        } catch (error) {
          this.options.logger.warn(`Claude Code sessions: ${describeError(error)}`);
        }
      } while (this.rescan && !this.disposed);
    })().finally(() => (this.scanning = undefined));
    return this.scanning;
  }

  current(): AgentSessions {
    this.cached ??= this.build();
    return this.cached;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.timer?.dispose();
    clearTimeout(this.debounce);
    clearTimeout(this.graceTimer);
    this.dirWatch?.close();
    for (const t of this.tracked.values()) t.transcriptWatch?.close();
    this.tracked.clear();
    this.changes.dispose();
  }

  // ── Watching ─────────────────────────────────────────────────────────────

  /**
   * fs.watch on the registry folder; until it exists, on Claude Code's folder (so its creation
   * is seen at once), retried on every poll.
   */
  private watchDir(): void {
    if (this.disposed || (this.dirWatch && this.dirWatchOn === this.sessionsDir)) return;
    for (const dir of [this.sessionsDir, this.home]) {
      try {
        const watcher = fs.watch(dir, { persistent: false }, () => this.soon());
        this.dirWatch?.close();
        this.dirWatch = watcher;
        this.dirWatchOn = dir;
        watcher.on('error', () => {
          watcher.close();
          if (this.dirWatch === watcher) this.dirWatch = undefined;
        });
        if (dir === this.sessionsDir) this.soon(); // files may have arrived before the watch
        return;
      } catch {
        // Not there yet (Claude Code never ran): the parent, or the next poll.
      }
    }
  }

  private soon(): void {
    if (this.disposed || this.debounce) return;
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.watchDir();
      void this.scanNow();
    }, 15);
  }

  /**
   * While no session is tracked, a watch on the registry folder sees everything there is to see
   * (only a tracked process can die without touching a file), and without a Claude Code folder
   * there is nothing to read: an idle monitor then costs no work here. A watch on Claude Code's
   * folder alone is not enough: a `sessions` symlink whose target appears later changes nothing
   * in it (the real-VS-Code test links it so).
   */
  private pollNeeded(): boolean {
    if (this.tracked.size > 0 || this.rescan) return true;
    if (this.dirWatch) return this.dirWatchOn !== this.sessionsDir;
    return fs.existsSync(this.home);
  }

  // ── Scanning ─────────────────────────────────────────────────────────────

  /** One pass over the registry; true when what it shows changed. */
  private async scan(): Promise<boolean> {
    this.watchDir();
    let names: string[];
    try {
      names = await fs.promises.readdir(this.sessionsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.options.logger.debug(`Claude Code registry ${this.sessionsDir}: ${describeError(error)}`);
      names = [];
    }
    const max = this.options.maxSessions ?? 200;
    const pids = names.map(registryPid).filter((p): p is number => p !== undefined).slice(0, max);
    let changed = false;
    const seen = new Set(pids);
    for (const [pid, t] of this.tracked) {
      if (seen.has(pid)) continue;
      // Removed: a clean exit.
      t.transcriptWatch?.close();
      this.tracked.delete(pid);
      if (t.entry && t.process?.state === 'alive') changed = true;
    }
    for (const pid of pids) changed = (await this.scanOne(pid)) || changed;
    return changed;
  }

  private async scanOne(pid: number): Promise<boolean> {
    const file = path.join(this.sessionsDir, `${pid}.json`);
    let t = this.tracked.get(pid);
    let changed = false;
    let st: fs.Stats;
    try {
      st = await fs.promises.stat(file);
    } catch {
      return false; // removed between readdir and stat: the next scan drops it
    }
    const signature = `${st.ino}:${st.size}:${st.mtimeMs}`;
    if (!t || t.signature !== signature) {
      const before = t?.entry;
      const next = await this.readEntry(file, st.size);
      if (!t) {
        t = { pid, signature, firstSeen: this.now() };
        this.tracked.set(pid, t);
      }
      t.signature = signature;
      if (next.entry) {
        if (next.entry.pid !== pid) next.entry.pid = pid; // the file name is what the pid check uses
        if (before?.sessionId !== next.entry.sessionId) this.dropReader(t);
        t.entry = next.entry;
        t.problem = undefined;
      } else if (next.problem !== t.problem) {
        t.problem = next.problem;
        this.options.logger.warn(`Claude Code registry ${file}: ${next.problem}; skipped`);
      }
      changed = JSON.stringify(before) !== JSON.stringify(t.entry);
    }
    if (!t.entry) return changed;
    const process = this.check(pid, t.entry.procStart);
    const wasAlive = t.process?.state === 'alive';
    if (process.state !== t.process?.state && process.state !== 'alive') {
      this.options.logger.debug(`Claude Code registry ${file}: process ${process.state === 'reused' ? 'pid reused by another program' : 'gone'}; stale file ignored`);
    }
    if (JSON.stringify(process) !== JSON.stringify(t.process)) changed = true;
    t.process = process;
    if (process.state !== 'alive') {
      if (wasAlive) this.dropReader(t);
      return changed;
    }
    changed = (await this.readTranscript(t, t.entry)) || changed;
    const hold = this.permissionHold(t, t.entry);
    if (hold > 0 && !this.graceTimer) {
      this.graceTimer = setTimeout(() => {
        this.graceTimer = undefined;
        this.cached = undefined;
        void this.scanNow().then(() => {
          this.cached = undefined;
          this.changes.fire(undefined);
        });
      }, hold);
      this.graceTimer.unref?.();
    }
    return changed;
  }

  /** How much longer a permission wait is held back while its tool is not known yet (0: show it). */
  private permissionHold(t: Tracked, entry: RegistryEntry): number {
    const waitingForPermission = entry.status === 'waiting' && /permission/i.test(entry.waitingFor ?? 'permission');
    if (!waitingForPermission) {
      t.permissionSeen = undefined;
      return 0;
    }
    const key = entry.statusUpdatedAt ?? entry.updatedAt;
    let seen = t.permissionSeen;
    if (!seen || seen.key !== key) seen = t.permissionSeen = { key, at: this.now() };
    if ((t.reader?.state.runningTools.length ?? 0) > 0) return 0;
    return Math.max(0, seen.at + PERMISSION_TOOL_GRACE_MS - this.now());
  }

  private async readEntry(file: string, size: number): Promise<{ entry?: RegistryEntry; problem?: string }> {
    if (size > MAX_REGISTRY_BYTES) return { problem: `larger than ${MAX_REGISTRY_BYTES} bytes` };
    let text: string;
    try {
      text = await fs.promises.readFile(file, 'utf8');
    } catch (error) {
      return { problem: describeError(error) };
    }
    const parsed = parseRegistry(text);
    return parsed.ok ? { entry: parsed.entry } : { problem: parsed.error };
  }

  private async readTranscript(t: Tracked, entry: RegistryEntry): Promise<boolean> {
    if (!/^[A-Za-z0-9._-]+$/.test(entry.sessionId)) return false; // never a path out of the folder
    if (!t.reader) {
      const candidates = transcriptFolderNames(entry.cwd).map((folder) => path.join(this.home, 'projects', folder, `${entry.sessionId}.jsonl`));
      const file = candidates.find((f) => fs.existsSync(f));
      // None yet: Claude Code writes the transcript with the first prompt; look again next scan.
      if (!file) return false;
      t.reader = new TranscriptReader({ file, logger: this.options.logger });
    }
    if (!t.transcriptWatch) {
      try {
        t.transcriptWatch = fs.watch(t.reader.file, { persistent: false }, () => this.soon());
        t.transcriptWatch.on('error', () => {
          t.transcriptWatch?.close();
          t.transcriptWatch = undefined;
        });
      } catch {
        // Polled instead.
      }
    }
    return t.reader.readNew();
  }

  private dropReader(t: Tracked): void {
    t.transcriptWatch?.close();
    t.transcriptWatch = undefined;
    t.reader = undefined;
  }

  // ── Model ────────────────────────────────────────────────────────────────

  private build(): AgentSessions {
    const instances: InstanceModel[] = [];
    const sessions: SessionModel[] = [];
    const list = [...this.tracked.values()].sort((a, b) => a.firstSeen - b.firstSeen || a.pid - b.pid);
    for (const t of list) {
      if (!t.entry || t.process?.state !== 'alive') continue;
      const session = sessionOf(t.entry, t, this.now(), this.permissionHold(t, t.entry) > 0);
      instances.push(instanceOf(t.entry, t, session.id));
      sessions.push(session);
    }
    return { instances, sessions };
  }
}

export const CLAUDE_INSTANCE_PREFIX = 'claude:';

function instanceOf(entry: RegistryEntry, t: Tracked, sessionId: string): InstanceModel {
  const p = t.process?.state === 'alive' ? t.process : undefined;
  return {
    id: `${CLAUDE_INSTANCE_PREFIX}${entry.pid}`,
    agent: 'claude',
    kind: 'tui',
    pid: entry.pid,
    ...(p?.ppid !== undefined ? { ppid: p.ppid } : {}),
    ...(p?.tty ? { tty: p.tty } : {}),
    cwd: plainText(entry.cwd, 4096),
    ...(entry.version ? { version: entry.version } : {}),
    ...(entry.tmux ? { tmuxPane: entry.tmux } : {}),
    connection: 'connected',
    sessionIds: [sessionId],
    firstSeen: t.firstSeen,
  };
}

/** The session a registry entry and its transcript describe. */
export function sessionOf(entry: RegistryEntry, t: Pick<Tracked, 'reader' | 'firstSeen'>, now: number, holdWait = false): SessionModel {
  const tx = t.reader?.state;
  // Held back: still busy for a moment (see PERMISSION_TOOL_GRACE_MS).
  const status = holdWait ? 'busy' : (entry.status ?? 'idle');
  const waiting = status === 'waiting';
  const statusSince = entry.statusUpdatedAt ?? entry.updatedAt;
  const tools = status === 'idle' ? [] : [...(tx?.runningTools ?? [])];
  const permissions: PermissionModel[] = [];
  const permissionWait = waiting && /permission/i.test(entry.waitingFor ?? 'permission');
  if (permissionWait) {
    const tool = tools[tools.length - 1];
    permissions.push({
      id: `${entry.sessionId}:${statusSince ?? ''}`,
      sessionId: entry.sessionId,
      // The transcript has not named the tool (yet): its terminal shows it.
      permission: tool?.name ?? 'a tool',
      patterns: [],
      ...(tool?.arg ? { command: tool.arg } : {}),
      always: [],
      ...(tool ? { callID: tool.callID } : {}),
      askedAt: statusSince ?? now,
    });
  }
  const updatedAt = Math.max(entry.updatedAt ?? 0, tx?.lastActivityAt ?? 0) || t.firstSeen;
  return {
    id: entry.sessionId,
    instanceId: `${CLAUDE_INSTANCE_PREFIX}${entry.pid}`,
    title: tx?.lastPrompt ?? tx?.firstPrompt ?? entry.name ?? '',
    directory: plainText(entry.cwd, 4096),
    status: status === 'idle' ? 'idle' : 'busy',
    runningTools: tools,
    todos: emptyTodos(),
    permissions,
    questions: [],
    needsAttention: waiting,
    ...(waiting ? { attentionReason: permissionWait ? ('permission' as const) : ('question' as const) } : {}),
    ...(waiting && statusSince !== undefined ? { waitingSince: statusSince } : {}),
    ...(waiting && entry.waitingFor ? { waitingFor: entry.waitingFor } : {}),
    cost: tx?.cost ?? 0,
    tokens: tx ? { ...tx.tokens } : { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 },
    ...(tx?.modelId ? { modelId: tx.modelId } : {}),
    ...(tx?.gitBranch ? { gitBranch: tx.gitBranch } : {}),
    createdAt: entry.startedAt ?? t.firstSeen,
    updatedAt,
    source: 'files',
  };
}
