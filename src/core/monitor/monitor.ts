/**
 * The monitor service: instances from discovery and configured endpoints → one watcher per
 * server → one normalized snapshot → coalesced change events. Consumers (tree, status bar, CLI,
 * legacy files) read `snapshot()` and listen to `onDidChange`.
 */
import type { Logger } from '../log';
import type { PermissionReply } from '../opencode/schemas';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { ChangeCoalescer } from './changeCoalescer';
import type { Entry } from './entries';
import { EndedManaged, entryKey, matchEntries } from './entries';
import { HeuristicTimer } from './heuristicTimer';
import { instanceRow } from './instanceRow';
import { InstanceWatcher } from './instanceWatcher';
import type { AgentSource, ContainerSource, ContainerTarget, DiscoveredProcess, EndpointConfig, InstanceSource, LimitedSessionSource, ManagedSource, SessionLabels } from './ports';
import { sessionOwners } from './sessionOwners';
import { adoptable, startSpeculative } from './speculation';
import type { SpeculativeWatcher } from './speculation';
import { visibleSessions } from './visibility';
import type { AgentKind, InstanceModel, MonitorSnapshot, SessionModel, UsageModel } from '../model/model';
import { AGENT_NAMES } from '../model/model';
import { describeError } from '../util/describe';
import { compareIds } from '../util/compareIds';

export interface MonitorOptions {
  logger: Logger;
  source?: InstanceSource;
  managed?: ManagedSource;
  /** Attached at start (see `attachContainers`); `setContainers` also works without it. */
  containers?: ContainerSource;
  endpoints?: EndpointConfig[];
  limitedSessions?: LimitedSessionSource;
  /** The user's labels, put on the sessions of every snapshot. */
  labels?: SessionLabels;
  /** Other coding agents' sessions (Claude Code); started and disposed with the monitor. */
  agents?: AgentSource[];
  /** Agent kinds left out of the snapshot (a setting per agent kind). */
  hiddenAgents?: AgentKind[];
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
  /** Some session changed; consumers read which from the snapshot. */
  sessions: boolean;
  usage: boolean;
}

/** An action on a session that no live server runs (a port-less TUI's, or its server is gone): a domain case. */
export class NoLiveServerError extends Error {
  override readonly name = 'NoLiveServerError';
  constructor(readonly sessionId: string, why?: string) {
    super(why ?? `no live server runs session ${sessionId}`);
  }
}

export class Monitor {
  private readonly entries = new Map<string, Entry>();
  private endpoints: EndpointConfig[];
  private containers: ContainerTarget[] = [];
  private readonly containerSources = new Set<ContainerSource>();
  private readonly endedManaged: EndedManaged;
  private discovered: DiscoveredProcess[] = [];
  private readonly changes = new Emitter<MonitorChange>();
  readonly onDidChange = this.changes.event;
  private readonly coalescer: ChangeCoalescer;
  private cached: MonitorSnapshot | undefined;
  private usage: UsageModel | undefined;
  private subscriptions: Disposable[] = [];
  private readonly heuristicTimer = new HeuristicTimer(() => this.invalidate({ sessions: true }));
  private lastChangeAt: number;
  private heuristicThresholdMs: number;
  private disposed = false;
  private readonly now: () => number;
  private hiddenAgents: Set<AgentKind>;

  constructor(private readonly options: MonitorOptions) {
    this.now = options.now ?? Date.now;
    this.endedManaged = new EndedManaged(this.now);
    this.lastChangeAt = this.now();
    this.endpoints = options.endpoints ?? [];
    this.hiddenAgents = new Set(options.hiddenAgents ?? []);
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
    if (this.options.labels) this.subscriptions.push(this.options.labels.onDidChange(() => this.invalidate({ sessions: true })));
    for (const agent of this.options.agents ?? []) {
      this.subscriptions.push(agent.onChange(() => this.invalidate({ instances: agent.current().instances.map((i) => i.id), sessions: true })));
      agent.start();
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
      await Promise.all([
        this.options.source?.scanNow(),
        ...[...this.containerSources].map((c) => c.scanNow?.()),
        ...(this.options.agents ?? []).map((a) => a.scanNow()),
      ]);
      await Promise.all([...this.entries.values()].map((e) => e.watcher?.ready));
    })();
    await Promise.race([work, deadline]);
    clearTimeout(timer);
  }

  /** Rescans and fetches every server in full; resolves when done. */
  async refresh(): Promise<void> {
    await Promise.all([this.options.source?.scanNow(), ...(this.options.agents ?? []).map((a) => a.scanNow())]);
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
      this.invalidate({ sessions: true });
    }
  }

  /** Which agent kinds the snapshot leaves out (their sources keep watching: showing is instant). */
  setHiddenAgents(kinds: readonly AgentKind[]): void {
    const next = new Set(kinds);
    if (next.size === this.hiddenAgents.size && [...next].every((k) => this.hiddenAgents.has(k))) return;
    this.hiddenAgents = next;
    this.invalidate({ sessions: true, instances: this.snapshot().instances.map((i) => i.id) });
  }

  setUsage(usage: UsageModel | undefined): void {
    this.usage = usage;
    this.invalidate({ usage: true });
  }

  // ── Actions, routed to the server that runs the session (async: a refusal is a rejection) ──

  replyPermission(sessionId: string, permissionId: string, reply: PermissionReply, message?: string): Promise<void> {
    return this.withOwner(sessionId, (w) => w.replyPermission(permissionId, reply, message));
  }

  replyQuestion(sessionId: string, questionId: string, answers: string[][]): Promise<void> {
    return this.withOwner(sessionId, (w) => w.replyQuestion(questionId, answers));
  }

  rejectQuestion(sessionId: string, questionId: string): Promise<void> {
    return this.withOwner(sessionId, (w) => w.rejectQuestion(questionId));
  }

  abort(sessionId: string): Promise<void> {
    return this.withOwner(sessionId, (w) => w.abort(sessionId));
  }

  prompt(sessionId: string, text: string): Promise<void> {
    return this.withOwner(sessionId, (w) => w.prompt(sessionId, text));
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
    this.heuristicTimer.dispose();
    for (const s of this.subscriptions.reverse()) s.dispose();
    this.subscriptions = [];
    await this.options.source?.dispose();
    for (const agent of this.options.agents ?? []) await agent.dispose();
    for (const source of this.containerSources) source.dispose();
    this.containerSources.clear();
    await Promise.all([...this.entries.values()].flatMap((e) => [e.watcher?.dispose(), e.speculative?.watcher.dispose()]));
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
    const wanted = matchEntries({
      managed: this.options.managed?.list() ?? [],
      discovered: this.discovered,
      containers: this.containers,
      endpoints: this.endpoints,
      endedManaged: this.endedManaged,
    });
    const changed: string[] = [];
    const keptFirstSeen = new Map<string, number>();
    /** Speculative watchers of rows being rebuilt: the new row may adopt its one. */
    const spare = new Map<string, SpeculativeWatcher>();
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
        if (entry.speculative) spare.set(id, entry.speculative);
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
        existing.candidateUrl = next.candidateUrl;
        if (before !== entryKey(existing)) changed.push(id);
        if (existing.watcher && existing.watcher.connection !== 'connected') existing.watcher.nudge();
        continue;
      }
      const entry: Entry = { ...next, firstSeen: keptFirstSeen.get(id) ?? this.now() };
      if (entry.url) entry.watcher = this.adoptOrCreate(entry, entry.url, spare.get(id));
      else if (spare.has(id)) entry.speculative = spare.get(id);
      spare.delete(id);
      this.entries.set(id, entry);
      changed.push(id);
    }
    for (const s of spare.values()) void s.watcher.dispose();
    const watched = new Set([...this.entries.values()].filter((e) => e.watcher).map((e) => e.url));
    for (const entry of this.entries.values()) this.speculate(entry, watched);
    if (changed.length) this.invalidate({ instances: changed });
  }

  /** Starts or stops the watcher of a row's candidate port (speculation.ts). */
  private speculate(entry: Entry, watched: Set<string | undefined>): void {
    // matchEntries gives a candidate only to a found process's own row while it has no URL.
    const url = entry.candidateUrl;
    const wanted = url !== undefined && !watched.has(url) && this.options.passwordFor?.(url) === undefined;
    if (entry.speculative && (!wanted || entry.speculative.url !== url)) {
      void entry.speculative.watcher.dispose();
      entry.speculative = undefined;
    }
    if (wanted && !entry.speculative) {
      entry.speculative = startSpeculative(url, this.options.logger, this.now, (logger, onChange) => this.newWatcher(url, undefined, logger, onChange));
    }
  }

  /** The row's speculative watcher when it watched this URL and may be trusted, else a new one. */
  private adoptOrCreate(entry: Entry, url: string, speculative: SpeculativeWatcher | undefined): InstanceWatcher {
    if (speculative && adoptable(speculative, url, this.now()) && this.passwordOf(entry) === undefined) {
      speculative.bind(this.onWatcherChange(entry));
      // What it fetched meanwhile is news now.
      this.invalidate({ sessions: true, instances: [entry.id] });
      return speculative.watcher;
    }
    if (speculative) void speculative.watcher.dispose();
    return this.createWatcher(entry, url);
  }

  private createWatcher(entry: Entry, url: string): InstanceWatcher {
    return this.newWatcher(url, this.passwordOf(entry), this.options.logger, this.onWatcherChange(entry));
  }

  private newWatcher(url: string, password: string | undefined, logger: Logger, onChange: (change: { sessions: boolean; instance: boolean }) => void): InstanceWatcher {
    return new InstanceWatcher({
      url,
      password,
      logger,
      reconcileIntervalMs: this.options.reconcileIntervalMs,
      requestTimeoutMs: this.options.requestTimeoutMs,
      backoff: this.options.streamBackoff,
      now: this.now,
      onChange,
    }).start();
  }

  private onWatcherChange(entry: Entry): (change: { sessions: boolean; instance: boolean }) => void {
    return ({ sessions, instance }) => this.invalidate({ sessions, instances: instance ? [entry.id] : [] });
  }

  /** A managed server's own password first: a password stored for a reused port must not override it. */
  private passwordOf(entry: Entry): string | undefined {
    const managed = entry.managed && entry.url ? this.options.managed?.passwordFor(entry.url) : undefined;
    if (managed) return managed;
    if (entry.endpoint?.password) return entry.endpoint.password;
    // Only a server found on this machine gets the fallback password, never a configured endpoint (issue 11).
    return entry.url && (entry.process || entry.container) ? this.options.passwordFor?.(entry.url) : undefined;
  }

  /** The watcher of the server that runs a session, if a live one does. */
  private ownerOf(sessionId: string): InstanceWatcher | undefined {
    const session = this.snapshot().sessions.find((s) => s.id === sessionId);
    return session ? this.entries.get(session.instanceId)?.watcher : undefined;
  }

  private async withOwner(sessionId: string, act: (watcher: InstanceWatcher) => Promise<void>): Promise<void> {
    const watcher = this.ownerOf(sessionId);
    if (!watcher) {
      const session = this.snapshot().sessions.find((s) => s.id === sessionId);
      const agent = session ? this.snapshot().instances.find((i) => i.id === session.instanceId)?.agent : undefined;
      // Claude Code has no API to answer or stop a session from outside: only its terminal can.
      throw new NoLiveServerError(sessionId, agent && agent !== 'opencode' ? `${AGENT_NAMES[agent]} offers no safe way to do this from outside: use its terminal (session ${sessionId})` : undefined);
    }
    await act(watcher);
  }

  // ── Snapshot ─────────────────────────────────────────────────────────────

  private invalidate(change: { instances?: Iterable<string>; sessions?: boolean; usage?: boolean }): void {
    if (this.disposed) return;
    this.cached = undefined;
    this.lastChangeAt = this.now();
    this.coalescer.add(change);
  }

  private emit(change: { instances: Set<string>; sessions: boolean; usage: boolean }): void {
    this.changes.fire(
      { instances: [...change.instances], sessions: change.sessions, usage: change.usage },
      (error) => this.options.logger.error(`change listener failed: ${describeError(error)}`),
    );
  }

  private build(): MonitorSnapshot {
    const now = this.now();
    const threshold = this.heuristicThresholdMs;
    const entries = [...this.entries.values()].sort((a, b) => a.firstSeen - b.firstSeen || compareIds(a.id, b.id));
    const byId = new Map<string, SessionModel>();
    for (const [id, entry] of sessionOwners(entries)) {
      const model = entry.watcher?.sessionModel(id, entry.id, threshold);
      if (model) byId.set(id, model);
    }
    const hidden = this.hiddenAgents;
    const instances: InstanceModel[] = hidden.has('opencode') ? [] : entries.map((entry) => instanceRow(entry, this.options.limitedSessions));
    if (hidden.has('opencode')) byId.clear();
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
    for (const agent of this.options.agents ?? []) {
      if (hidden.has(agent.agent)) continue;
      const shown = agent.current();
      instances.push(...shown.instances.map((i) => ({ ...i })));
      for (const session of shown.sessions) if (!byId.has(session.id)) byId.set(session.id, session);
    }
    let sessions = visibleSessions([...byId.values()], now, {
      idleMaxAgeMs: this.options.idleMaxAgeMs ?? 24 * 3600_000,
      idleSessionsPerInstance: this.options.idleSessionsPerInstance ?? 10,
    });
    const labels = this.options.labels;
    if (labels) {
      // New objects: a source may hand out the same model again (and must not keep a removed label).
      sessions = sessions.map((s) => {
        const label = labels.get(s.id);
        return label ? { ...s, label } : s;
      });
      labels.noteSeen(sessions.map((s) => s.id));
    }
    for (const instance of instances) instance.sessionIds = sessions.filter((s) => s.instanceId === instance.id).map((s) => s.id);
    // Without a permission API, "needs you" is guessed from a tool running too long.
    this.heuristicTimer.schedule(sessions, now, threshold, (id) => this.entries.get(id)?.watcher?.capabilities?.permissions === false);
    return { instances, sessions, ...(this.usage ? { usage: this.usage } : {}), updatedAt: this.lastChangeAt };
  }
}
