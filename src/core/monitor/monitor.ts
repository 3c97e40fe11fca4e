/**
 * The monitor service: instances from discovery and configured endpoints → one watcher per
 * server → one normalized snapshot → coalesced change events. Consumers (tree, status bar, CLI,
 * legacy files) read `snapshot()` and listen to `onDidChange`.
 */
import type { Logger } from '../log';
import { OpencodeError } from '../opencode/errors';
import { redactUrl } from '../opencode/http';
import type { PermissionReply } from '../opencode/schemas';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { ChangeCoalescer } from './changeCoalescer';
import { InstanceWatcher } from './instanceWatcher';
import type { ContainerSource, ContainerTarget, DiscoveredProcess, EndpointConfig, InstanceSource, LimitedSessionSource, ManagedSource } from './ports';
import type { ContainerInfo, InstanceKind, InstanceModel, ManagedInfo, MonitorSnapshot, SessionModel, UsageModel } from '../model/model';
import type { ManagedServerInfo } from '../servers/types';

export interface MonitorOptions {
  logger: Logger;
  source?: InstanceSource;
  managed?: ManagedSource;
  /** Attached at start (see `attachContainers`); `setContainers` also works without it. */
  containers?: ContainerSource;
  endpoints?: EndpointConfig[];
  limitedSessions?: LimitedSessionSource;
  /** Password for discovered local servers that ask for one (e.g. OPENCODE_SERVER_PASSWORD). */
  passwordFor?: (url: string) => string | undefined;
  heuristicThresholdMs?: number;
  reconcileIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Change events are at most this far apart under a constant stream of events. */
  coalesceMs?: number;
  /** Idle root sessions shown per instance, newest first. */
  idleSessionsPerInstance?: number;
  /** Idle sessions not updated for this long are not shown. */
  idleMaxAgeMs?: number;
  streamBackoff?: { initialMs?: number; maxMs?: number };
  /** Services made for this monitor (e.g. the DB source): disposed with it, last. */
  owned?: Array<{ dispose(): void | Promise<void> }>;
  now?: () => number;
}

export interface MonitorChange {
  instances: string[];
  sessions: string[];
  usage: boolean;
}

interface Entry {
  id: string;
  kind: InstanceKind;
  firstSeen: number;
  process?: DiscoveredProcess['process'];
  endpoint?: EndpointConfig;
  url?: string;
  version?: string;
  authRequired?: boolean;
  managed?: ManagedServerInfo;
  container?: ContainerTarget;
  watcher?: InstanceWatcher;
}

/** Longer than a discovery interval: by then discovery has seen the process go. */
const ENDED_MANAGED_GRACE_MS = 5_000;

const LIMITED_HINT = 'Start OpenCode with `--port 0` (or `opencode serve`) for live monitoring.';

export class Monitor {
  private readonly entries = new Map<string, Entry>();
  private endpoints: EndpointConfig[];
  private containers: ContainerTarget[] = [];
  private readonly containerSources = new Set<ContainerSource>();
  private lastManagedPids = new Set<number>();
  private readonly endedManaged = new Map<number, number>();
  private discovered: DiscoveredProcess[] = [];
  private readonly changes = new Emitter<MonitorChange>();
  readonly onDidChange = this.changes.event;
  private readonly coalescer: ChangeCoalescer;
  private cached: MonitorSnapshot | undefined;
  private usage: UsageModel | undefined;
  private subscriptions: Disposable[] = [];
  private heuristicTimer: NodeJS.Timeout | undefined;
  private lastChangeAt: number;
  private heuristicThresholdMs: number;
  private disposed = false;
  private readonly now: () => number;

  constructor(private readonly options: MonitorOptions) {
    this.now = options.now ?? Date.now;
    this.lastChangeAt = this.now();
    this.endpoints = options.endpoints ?? [];
    this.heuristicThresholdMs = options.heuristicThresholdMs ?? 5_000;
    this.coalescer = new ChangeCoalescer((change) => this.emit(change), options.coalesceMs ?? 10, this.now);
  }

  start(): this {
    const source = this.options.source;
    if (source) {
      this.subscriptions.push(source.onChange(({ all }) => this.onDiscovered(all)));
      source.start();
    }
    if (this.options.managed) this.subscriptions.push(this.options.managed.onDidChange(() => this.syncEntries()));
    if (this.options.containers) this.attachContainers(this.options.containers);
    if (this.options.limitedSessions) {
      this.subscriptions.push(
        this.options.limitedSessions.onChange(() => {
          const limited = [...this.entries.values()].filter((e) => !e.watcher && e.process);
          if (limited.length) this.invalidate({ instances: limited.map((e) => e.id) });
        }),
      );
    }
    this.syncEntries();
    return this;
  }

  /** One consistent picture of everything, rebuilt at most once per change burst. */
  snapshot(): MonitorSnapshot {
    this.cached ??= this.build();
    return this.cached;
  }

  /**
   * Resolves once discovery has scanned and every server found has answered its first full
   * fetch or failed to connect (bounded by `timeoutMs`): for one-shot snapshots.
   */
  async settle(timeoutMs = 8_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const work = (async () => {
      await Promise.all([this.options.source?.scanNow(), ...[...this.containerSources].map((c) => c.scanNow?.())]);
      await Promise.all([...this.entries.values()].map((e) => e.watcher?.ready));
    })();
    await Promise.race([work, deadline]);
    clearTimeout(timer);
  }

  /** Rescans and fetches every server in full; resolves when done. */
  async refresh(): Promise<void> {
    await this.options.source?.scanNow();
    await Promise.all([...this.entries.values()].map((e) => e.watcher?.refresh()));
  }

  setEndpoints(endpoints: EndpointConfig[]): void {
    this.endpoints = endpoints;
    this.syncEntries();
  }

  /**
   * Takes containers from `source` (started here) until the returned handle is disposed, which
   * stops the source and empties the list; the monitor's dispose stops it too.
   */
  attachContainers(source: ContainerSource): Disposable {
    const subscription = source.onChange((list) => this.setContainers(list));
    this.containerSources.add(source);
    source.start();
    return {
      dispose: () => {
        if (!this.containerSources.delete(source)) return;
        subscription.dispose();
        source.dispose();
        this.setContainers([]);
      },
    };
  }

  /** Containers found by Docker discovery (an empty list when it is off). */
  setContainers(containers: ContainerTarget[]): void {
    this.containers = containers;
    this.syncEntries();
  }

  /** Settings that may change while running. */
  setTuning(tuning: { heuristicThresholdMs?: number; discoveryIntervalMs?: number }): void {
    if (tuning.discoveryIntervalMs !== undefined) this.options.source?.setIntervalMs?.(tuning.discoveryIntervalMs);
    if (tuning.heuristicThresholdMs !== undefined && tuning.heuristicThresholdMs !== this.heuristicThresholdMs) {
      this.heuristicThresholdMs = tuning.heuristicThresholdMs;
      this.invalidate({ sessions: this.snapshot().sessions.map((s) => s.id) });
    }
  }

  setUsage(usage: UsageModel | undefined): void {
    this.usage = usage;
    this.invalidate({ usage: true });
  }

  // ── Actions, routed to the server that runs the session ───────────────────

  replyPermission(sessionId: string, permissionId: string, reply: PermissionReply, message?: string): Promise<void> {
    return this.ownerOf(sessionId).client.replyPermission(permissionId, reply, message);
  }

  replyQuestion(sessionId: string, questionId: string, answers: string[][]): Promise<void> {
    return this.ownerOf(sessionId).client.replyQuestion(questionId, answers);
  }

  rejectQuestion(sessionId: string, questionId: string): Promise<void> {
    return this.ownerOf(sessionId).client.rejectQuestion(questionId);
  }

  async abort(sessionId: string): Promise<void> {
    await this.ownerOf(sessionId).client.abort(sessionId);
  }

  prompt(sessionId: string, text: string): Promise<void> {
    return this.ownerOf(sessionId).client.promptAsync(sessionId, { text });
  }

  /** Base URL of the server that runs a session (for `opencode attach`). */
  urlOf(sessionId: string): string | undefined {
    const session = this.snapshot().sessions.find((s) => s.id === sessionId);
    return session ? this.entries.get(session.instanceId)?.url : undefined;
  }

  stats(): { instances: number; sessions: number; events: number; fullRounds: number; lightRounds: number } {
    let events = 0;
    let fullRounds = 0;
    let lightRounds = 0;
    for (const e of this.entries.values()) {
      events += e.watcher?.stats.events ?? 0;
      fullRounds += e.watcher?.stats.fullRounds ?? 0;
      lightRounds += e.watcher?.stats.lightRounds ?? 0;
    }
    const snap = this.snapshot();
    return { instances: snap.instances.length, sessions: snap.sessions.length, events, fullRounds, lightRounds };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.coalescer.dispose();
    if (this.heuristicTimer) clearTimeout(this.heuristicTimer);
    for (const s of this.subscriptions.reverse()) s.dispose();
    this.subscriptions = [];
    await this.options.source?.dispose();
    for (const source of this.containerSources) source.dispose();
    this.containerSources.clear();
    await Promise.all([...this.entries.values()].map((e) => e.watcher?.dispose()));
    this.entries.clear();
    for (const owned of [...(this.options.owned ?? [])].reverse()) await owned.dispose();
    this.changes.dispose();
  }

  // ── Instances ────────────────────────────────────────────────────────────

  private onDiscovered(all: DiscoveredProcess[]): void {
    this.discovered = all;
    this.syncEntries();
  }

  /** Brings entries and watchers in line with discovery, managed servers, endpoints and containers. */
  private syncEntries(): void {
    if (this.disposed) return;
    const wanted = new Map<string, Omit<Entry, 'watcher' | 'firstSeen'>>();
    const urlsOfProcesses = new Set<string>();
    // A managed server is one row across its restarts; its process (found by discovery too) folds into it.
    const managedByPid = new Map<number, Omit<Entry, 'watcher' | 'firstSeen'>>();
    const managedByUrl = new Map<string, Omit<Entry, 'watcher' | 'firstSeen'>>();
    const managedPids = new Set<number>();
    for (const m of this.options.managed?.list() ?? []) {
      if (m.state === 'stopped') continue;
      const url = m.url ? normalizeUrl(m.url) : undefined;
      if (url) urlsOfProcesses.add(url);
      // Watched only once it answers: before that it is in OpenCode's deaf startup window.
      const entry = { id: `managed:${m.id}`, kind: 'serve' as const, managed: m, url: m.state === 'running' ? url : undefined };
      wanted.set(entry.id, entry);
      if (url) managedByUrl.set(url, entry);
      if (m.pid !== undefined) {
        managedByPid.set(m.pid, entry);
        managedPids.add(m.pid);
      }
    }
    this.forgetEndedManaged(managedPids);
    for (const d of this.discovered) {
      const url = d.url ? normalizeUrl(d.url) : undefined;
      // Its own pid, or the real opencode under a wrapper the manager spawned (npm launcher, script).
      const managed = managedByPid.get(d.process.pid) ?? managedByPid.get(d.process.ppid) ?? (url ? managedByUrl.get(url) : undefined);
      if (managed) {
        Object.assign(managed, { process: d.process, version: d.version, authRequired: d.authRequired });
        continue;
      }
      // A managed process that just ended: discovery has not seen it go yet; no stray row meanwhile.
      if (this.endedManaged.has(d.process.pid)) continue;
      if (url) urlsOfProcesses.add(url);
      wanted.set(d.id, {
        id: d.id,
        kind: d.process.kind === 'unknown' ? 'unknown' : d.process.kind,
        process: d.process,
        url,
        version: d.version,
        authRequired: d.authRequired,
      });
    }
    // Containers before endpoints: a container whose password was set (an endpoint of its URL)
    // stays the container's row rather than turning into an endpoint row and back.
    for (const container of this.containers) {
      const url = normalizeUrl(container.url);
      const same = [...wanted.values()].find((w) => w.url === url);
      if (same) {
        same.container = container;
        continue;
      }
      wanted.set(`container:${container.id}`, { id: `container:${container.id}`, kind: 'container', container, url });
    }
    for (const endpoint of this.endpoints) {
      const url = normalizeUrl(endpoint.url);
      const local = [...wanted.values()].find((w) => w.url === url);
      if (local) {
        local.endpoint = endpoint; // same server found as a process: one instance, the endpoint's password
        continue;
      }
      if (urlsOfProcesses.has(url)) continue;
      wanted.set(`url:${redactUrl(url)}`, { id: `url:${redactUrl(url)}`, kind: 'endpoint', endpoint, url });
    }
    const changed: string[] = [];
    const keptFirstSeen = new Map<string, number>();
    for (const [id, entry] of this.entries) {
      const next = wanted.get(id);
      if (!next || next.url !== entry.url || (next.endpoint?.password ?? undefined) !== (entry.endpoint?.password ?? undefined)) {
        if (next && next.url === entry.url && entry.watcher) {
          // Only the password changed: keep the watcher, reconnect with the new one.
          entry.endpoint = next.endpoint;
          entry.watcher.setPassword(this.passwordOf(entry));
          changed.push(id);
          continue;
        }
        this.entries.delete(id);
        void entry.watcher?.dispose();
        // Same row, new URL (a managed server restarted on another port): it keeps its place.
        if (next) keptFirstSeen.set(id, entry.firstSeen);
        changed.push(id);
      }
    }
    for (const [id, next] of wanted) {
      const existing = this.entries.get(id);
      if (existing) {
        const before = entryKey(existing);
        existing.process = next.process;
        existing.version = next.version ?? existing.version;
        existing.authRequired = next.authRequired;
        existing.endpoint = next.endpoint;
        existing.managed = next.managed;
        existing.container = next.container;
        if (before !== entryKey(existing)) changed.push(id);
        if (existing.watcher && existing.watcher.connection !== 'connected') existing.watcher.nudge();
        continue;
      }
      const entry: Entry = { ...next, firstSeen: keptFirstSeen.get(id) ?? this.now() };
      if (entry.url) entry.watcher = this.createWatcher(entry, entry.url);
      this.entries.set(id, entry);
      changed.push(id);
    }
    if (changed.length) this.invalidate({ instances: changed });
  }

  private createWatcher(entry: Entry, url: string): InstanceWatcher {
    return new InstanceWatcher({
      url,
      password: this.passwordOf(entry),
      logger: this.options.logger,
      reconcileIntervalMs: this.options.reconcileIntervalMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      backoff: this.options.streamBackoff,
      now: this.now,
      onChange: ({ sessions, instance }) => this.invalidate({ sessions, instances: instance ? [entry.id] : [] }),
    }).start();
  }

  /** A managed server's own password first: a password stored for a reused port must not override it. */
  private passwordOf(entry: Entry): string | undefined {
    const managed = entry.managed && entry.url ? this.options.managed?.passwordFor(entry.url) : undefined;
    if (managed) return managed;
    if (entry.endpoint?.password) return entry.endpoint.password;
    // Only a server found on this machine gets the fallback password, never a configured endpoint (issue 11).
    return entry.url && (entry.process || entry.container) ? this.options.passwordFor?.(entry.url) : undefined;
  }

  /** Pids managed at the last sync but no longer: ignored in discovery results for a few seconds. */
  private forgetEndedManaged(current: Set<number>): void {
    const now = this.now();
    for (const pid of this.lastManagedPids) if (!current.has(pid)) this.endedManaged.set(pid, now + ENDED_MANAGED_GRACE_MS);
    for (const [pid, until] of this.endedManaged) if (until <= now || current.has(pid)) this.endedManaged.delete(pid);
    this.lastManagedPids = current;
  }

  private ownerOf(sessionId: string): InstanceWatcher {
    const session = this.snapshot().sessions.find((s) => s.id === sessionId);
    const watcher = session ? this.entries.get(session.instanceId)?.watcher : undefined;
    if (!watcher) {
      throw new OpencodeError('unsupported', session?.instanceId ?? 'monitor', 'session', `no live server runs session ${sessionId}`);
    }
    return watcher;
  }

  // ── Snapshot ─────────────────────────────────────────────────────────────

  private invalidate(change: { instances?: Iterable<string>; sessions?: Iterable<string>; usage?: boolean }): void {
    if (this.disposed) return;
    this.cached = undefined;
    this.lastChangeAt = this.now();
    this.coalescer.add(change);
  }

  private emit(change: { instances: Set<string>; sessions: Set<string>; usage: boolean }): void {
    this.changes.fire(
      { instances: [...change.instances], sessions: [...change.sessions], usage: change.usage },
      (error) => this.options.logger.error(`change listener failed: ${error instanceof Error ? error.message : String(error)}`),
    );
  }

  private build(): MonitorSnapshot {
    const now = this.now();
    const threshold = this.heuristicThresholdMs;
    const entries = [...this.entries.values()].sort((a, b) => a.firstSeen - b.firstSeen || a.id.localeCompare(b.id));
    // Which server owns each session: the one that runs it now (or did last), else one in its folder.
    const owners = new Map<string, { entry: Entry; activeAt: number; cwdMatch: boolean }>();
    for (const entry of entries) {
      const watcher = entry.watcher;
      if (!watcher) continue;
      for (const info of watcher.state.infos()) {
        const activeAt = watcher.state.activeAt(info.id) ?? -1;
        const cwdMatch = entry.process?.cwd === info.directory;
        const current = owners.get(info.id);
        if (!current || activeAt > current.activeAt || (activeAt === current.activeAt && cwdMatch && !current.cwdMatch)) {
          owners.set(info.id, { entry, activeAt, cwdMatch });
        }
      }
    }
    const byId = new Map<string, SessionModel>();
    for (const [id, { entry }] of owners) {
      const watcher = entry.watcher!;
      const model = watcher.state.toModel(id, entry.id, {
        heuristicThresholdMs: threshold,
        hasPermissionApi: watcher.capabilities?.permissions ?? true,
      });
      if (model) byId.set(id, model);
    }
    const instances: InstanceModel[] = entries.map((entry) => this.instanceModel(entry));
    const limited = this.options.limitedSessions;
    if (limited) {
      for (const instance of instances) {
        if (instance.connection !== 'limited') continue;
        // A port-less TUI runs its sessions: its DB view wins over a server that only lists them idle.
        for (const session of limited.sessionsFor(instance)) {
          if (byId.get(session.id)?.status === 'idle' || !byId.has(session.id)) byId.set(session.id, session);
        }
      }
    }
    const sessions = this.visible([...byId.values()], now);
    for (const instance of instances) instance.sessionIds = sessions.filter((s) => s.instanceId === instance.id).map((s) => s.id);
    this.scheduleHeuristic(sessions, now, threshold);
    return { instances, sessions, ...(this.usage ? { usage: this.usage } : {}), updatedAt: this.lastChangeAt };
  }

  private instanceModel(entry: Entry): InstanceModel {
    const p = entry.process;
    const watcher = entry.watcher;
    let connection: InstanceModel['connection'];
    let error: string | undefined;
    let hint: string | undefined;
    const managed = entry.managed;
    if (watcher) {
      connection = watcher.connection;
      error = watcher.error;
      if (error === 'password required') hint = 'Set the server password to monitor it.';
      else if (connection !== 'connected' && entry.container?.hint) hint = entry.container.hint;
    } else if (managed) {
      ({ connection, error, hint } = managedConnection(managed));
    } else if (p && p.kind === 'tui' && p.ports.length === 0) {
      connection = 'limited';
      error = 'limited (no port)';
      const unavailable = this.options.limitedSessions?.unavailableReason;
      hint = unavailable ? `${LIMITED_HINT} Sessions from OpenCode's database are unavailable: ${unavailable}.` : LIMITED_HINT;
    } else {
      connection = 'connecting';
    }
    const pid = p?.pid ?? managed?.pid;
    return {
      id: entry.id,
      agent: 'opencode',
      kind: entry.kind,
      ...(entry.container ? { label: entry.container.name } : entry.endpoint?.label ? { label: entry.endpoint.label } : {}),
      ...(pid !== undefined ? { pid } : {}),
      ...(p ? { ppid: p.ppid } : {}),
      ...(entry.url ? { url: redactUrl(entry.url), port: portOf(entry.url) } : {}),
      ...(p?.tty ? { tty: p.tty } : {}),
      ...((p?.cwd ?? managed?.folder) ? { cwd: p?.cwd ?? managed?.folder } : {}),
      ...(p?.dataDir ? { dataDir: p.dataDir } : {}),
      ...((watcher?.version ?? entry.version) ? { version: watcher?.version ?? entry.version } : {}),
      connection,
      ...(error ? { error } : {}),
      ...(hint ? { hint } : {}),
      ...(watcher?.capabilities ? { capabilities: { v1: watcher.capabilities.v1, v2: watcher.capabilities.v2, permissions: watcher.capabilities.permissions, questions: watcher.capabilities.questions } } : {}),
      ...(managed ? { managed: managedInfo(managed) } : {}),
      ...(entry.container ? { container: containerInfo(entry.container) } : {}),
      sessionIds: [],
      firstSeen: entry.firstSeen,
    };
  }

  /** Active sessions always; idle ones only while recent, and a few per instance. */
  private visible(all: SessionModel[], now: number): SessionModel[] {
    const maxAge = this.options.idleMaxAgeMs ?? 24 * 3600_000;
    const perInstance = this.options.idleSessionsPerInstance ?? 10;
    const byId = new Map(all.map((s) => [s.id, s]));
    const active = (s: SessionModel) => s.status !== 'idle' || s.needsAttention;
    const shown = new Set<string>();
    for (const s of all) {
      if (!active(s)) continue;
      // An active sub-agent brings its chain of parents along.
      for (let cur: SessionModel | undefined = s; cur && !shown.has(cur.id); cur = cur.parentId ? byId.get(cur.parentId) : undefined) shown.add(cur.id);
    }
    const idleRoots = all
      .filter((s) => !s.parentId && !shown.has(s.id) && now - s.updatedAt <= maxAge)
      .sort((a, b) => b.updatedAt - a.updatedAt);
    const perCount = new Map<string, number>();
    for (const s of idleRoots) {
      const n = perCount.get(s.instanceId) ?? 0;
      if (n >= perInstance) continue;
      perCount.set(s.instanceId, n + 1);
      shown.add(s.id);
    }
    // Children of shown sessions that are recent enough to matter.
    for (const s of all) {
      if (s.parentId && shown.has(s.parentId) && now - s.updatedAt <= maxAge) shown.add(s.id);
    }
    return all
      .filter((s) => shown.has(s.id))
      .sort((a, b) => a.instanceId.localeCompare(b.instanceId) || b.updatedAt - a.updatedAt || a.id.localeCompare(b.id));
  }

  /** The "tool running too long" heuristic changes with time alone: wake up when it would. */
  private scheduleHeuristic(sessions: SessionModel[], now: number, threshold: number): void {
    if (this.heuristicTimer) clearTimeout(this.heuristicTimer);
    this.heuristicTimer = undefined;
    let next = Infinity;
    for (const s of sessions) {
      const entry = this.entries.get(s.instanceId);
      if (s.needsAttention || entry?.watcher?.capabilities?.permissions !== false) continue;
      for (const t of s.runningTools) if (t.name !== 'task' && t.startedAt !== undefined) next = Math.min(next, t.startedAt + threshold);
    }
    if (next === Infinity) return;
    const sessionIds = sessions.map((s) => s.id);
    this.heuristicTimer = setTimeout(() => this.invalidate({ sessions: sessionIds }), Math.max(0, next - now) + 5);
  }
}

/** What changes an existing entry's row. */
function entryKey(e: Entry): string {
  return JSON.stringify([e.process, e.version, e.authRequired, e.managed, e.container, e.endpoint?.label]);
}

/** A managed server that is not watched right now: what its row says. */
function managedConnection(m: ManagedServerInfo): { connection: InstanceModel['connection']; error?: string; hint?: string } {
  switch (m.state) {
    case 'starting':
      return { connection: 'connecting', error: 'starting' };
    case 'waitingReady':
      return { connection: 'connecting', error: 'waiting until it answers' };
    case 'stopping':
      return { connection: 'connecting', error: 'stopping' };
    case 'running':
      return { connection: 'connecting' };
    case 'crashed':
    case 'stopped':
      return {
        connection: 'down',
        error: m.lastError ?? m.state,
        hint: m.nextRestartAt !== undefined ? 'It is restarted automatically in a moment.' : 'Restart it, or look at its log.',
      };
  }
}

function managedInfo(m: ManagedServerInfo): ManagedInfo {
  return {
    serverId: m.id,
    state: m.state,
    folder: m.folder,
    ...(m.runningSince !== undefined ? { runningSince: m.runningSince } : {}),
    restarts: m.restarts,
    ...(m.state === 'crashed' && m.nextRestartAt !== undefined ? { restartPending: true } : {}),
    ...(m.lastError ? { lastError: m.lastError } : {}),
    ...(m.logFile ? { logFile: m.logFile } : {}),
    passwordProtected: m.passwordProtected,
  };
}

function containerInfo(c: ContainerTarget): ContainerInfo {
  return { id: c.id, name: c.name, image: c.image, hostPort: c.hostPort, containerPort: c.containerPort };
}

function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

function portOf(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (u.port) return Number(u.port);
    return u.protocol === 'https:' ? 443 : 80;
  } catch {
    return undefined;
  }
}
