/**
 * Keeps one server's live state: its event stream for real time, a full fetch on every
 * (re)connect (the first one sent with the stream, checked by a light round once it is open),
 * and a light reconciliation round (status, permissions, questions) every 30 s as a safety net
 * for anything the stream missed.
 */
import type { Logger } from '../log';
import type { Capabilities } from '../opencode/client';
import { OpencodeClient } from '../opencode/client';
import { OpencodeError } from '../opencode/errors';
import type { OpencodeEvent } from '../opencode/events';
import type { EventStream, EventStreamStatus } from '../opencode/eventStream';
import type { PermissionReply, WireSession, WireStatusMap } from '../opencode/schemas';
import { Limiter } from '../util/limiter';
import type { ReconcileData, SessionDetails } from './instanceState';
import { InstanceState } from './instanceState';
import type { ConnectionState, InstanceProblem, SessionModel } from '../model/model';
import { describeError } from '../util/describe';
import { detailBudget } from './floodLimits';
import { plainHttpPasswordWarning } from '../opencode/passwordPolicy';
import { nextAlignedDelay } from '../util/alignedDelay';

export interface WatcherOptions {
  url: string;
  password?: string;
  logger: Logger;
  /** Called when sessions changed, or with `instance` for connection/meta changes. */
  onChange: (change: { sessions: boolean; instance: boolean }) => void;
  reconcileIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Parallel requests to this one server. */
  concurrency?: number;
  /** How many recent idle sessions get their todos fetched on a full round. */
  recentDetailSessions?: number;
  /** Event-stream backoff, mostly for tests. */
  backoff?: { initialMs?: number; maxMs?: number };
  now?: () => number;
}

export interface WatcherStats {
  fullRounds: number;
  lightRounds: number;
  events: number;
  lastRoundMs: number;
}

const MESSAGE_LIMIT = 3;
/**
 * Parallel requests to one server. 12 made a 5-server cold start faster but a 50-server one slower
 * (twice the sockets): what the first fetch gains now comes from its order, not its width.
 */
const DEFAULT_CONCURRENCY = 6;

export class InstanceWatcher {
  private readonly state: InstanceState;
  private readonly client: OpencodeClient;
  readonly stats: WatcherStats = { fullRounds: 0, lightRounds: 0, events: 0, lastRoundMs: 0 };
  connection: ConnectionState = 'connecting';
  problem: InstanceProblem | undefined;
  /** Whether requests carry a password: a 401 then means "rejected", not "required". */
  private hasPassword: boolean;
  version: string | undefined;
  capabilities: Capabilities | undefined;
  private stream: EventStream | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private rerun: 'full' | 'light' | undefined;
  private replay: OpencodeEvent[] | undefined;
  /** Until the first `server.connected`: the first full round went out with the stream, not after it. */
  private early = false;
  /** Set by the first failed round or stream attempt (a speculative watcher is adopted only without one). */
  private troubled = false;
  private v2Checked = false;
  private disposed = false;
  private readonly limiter: Limiter;
  private readonly reconcileIntervalMs: number;
  private markReady!: () => void;
  /** Settles after the first full round, or once the first connection attempt failed. */
  readonly ready: Promise<void> = new Promise((resolve) => (this.markReady = resolve));

  constructor(private readonly options: WatcherOptions) {
    this.state = new InstanceState(options.now);
    this.client = new OpencodeClient(
      { url: options.url, password: options.password },
      { logger: options.logger, timeoutMs: options.requestTimeoutMs, connections: options.concurrency ?? DEFAULT_CONCURRENCY },
    );
    this.limiter = new Limiter(options.concurrency ?? DEFAULT_CONCURRENCY);
    this.reconcileIntervalMs = options.reconcileIntervalMs ?? 30_000;
    this.hasPassword = !!options.password;
    this.warnPlainHttp(options.password);
  }

  private warnedPlainHttp = false;

  /** Once per server: a password about to cross the network unencrypted. */
  private warnPlainHttp(password: string | undefined): void {
    const warning = this.warnedPlainHttp ? undefined : plainHttpPasswordWarning(this.options.url, password);
    if (!warning) return;
    this.warnedPlainHttp = true;
    this.options.logger.warn(warning);
  }

  get instance(): string {
    return this.client.instance;
  }

  /** No round and no stream attempt has failed yet. */
  get untroubled(): boolean {
    return !this.troubled;
  }

  start(): this {
    this.stream = this.client.events({
      onEvent: (event) => this.onEvent(event),
      onStatus: (status) => this.onStreamStatus(status),
      backoff: this.options.backoff,
    });
    // The lists go out with the stream instead of after its first event, so a cold start takes
    // the slower of the two rather than their sum; the light round after `server.connected`
    // catches what changed between the lists and the stream's subscription.
    this.early = true;
    void this.reconcile('full');
    this.schedule();
    return this;
  }

  /** Full fetch now (joins one in flight, then runs once more). */
  refresh(): Promise<void> {
    return this.reconcile('full');
  }

  /** Discovery saw the server answer: skip any backoff wait. */
  nudge(): void {
    this.stream?.reconnectNow();
  }

  setPassword(password: string | undefined): void {
    this.warnPlainHttp(password);
    this.hasPassword = !!password;
    this.client.setPassword(password);
    this.stream?.restart();
  }

  // ── What the monitor reads ──────────────────────────────────────────────

  /** The sessions this server lists. */
  sessionInfos(): WireSession[] {
    return this.state.infos();
  }

  /** How many sessions this watcher holds state for (bounded against event floods). */
  sessionCount(): number {
    return this.state.sessionIds.length;
  }

  /** When this server last saw the session active, if ever. */
  activeAt(sessionId: string): number | undefined {
    return this.state.activeAt(sessionId);
  }

  /**
   * The normalized model of one of its sessions (undefined until its info is known). While the
   * server is not connected its live state is unknown: the model says so (`stale`) and counts nowhere.
   */
  sessionModel(sessionId: string, instanceId: string, heuristicThresholdMs: number): SessionModel | undefined {
    return this.state.toModel(sessionId, instanceId, {
      heuristicThresholdMs,
      hasPermissionApi: this.capabilities?.permissions ?? true,
      stale: this.connection !== 'connected',
    });
  }

  // ── Actions on its sessions ─────────────────────────────────────────────

  replyPermission(permissionId: string, reply: PermissionReply, message?: string): Promise<void> {
    return this.client.replyPermission(permissionId, reply, message);
  }

  replyQuestion(questionId: string, answers: string[][]): Promise<void> {
    return this.client.replyQuestion(questionId, answers);
  }

  rejectQuestion(questionId: string): Promise<void> {
    return this.client.rejectQuestion(questionId);
  }

  async abort(sessionId: string): Promise<void> {
    await this.client.abort(sessionId);
  }

  prompt(sessionId: string, text: string): Promise<void> {
    return this.client.promptAsync(sessionId, { text });
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.stream?.dispose();
    // Closing first aborts what is in flight: a round hanging on a deaf server would otherwise
    // keep its sockets (and this call) until its timeout.
    await this.client.close();
    await this.inflight?.catch(() => undefined);
  }

  private onEvent(event: OpencodeEvent): void {
    this.stats.events++;
    if (event.type === 'server.connected') {
      if (this.early) {
        this.early = false;
        // The early full round's data is live from here on; a light round checks the gap.
        if (this.stats.fullRounds > 0 && !this.inflight) {
          this.setConnection('connected', undefined);
          this.markReady();
        }
        void this.reconcile('light');
        return;
      }
      // Every (re)connection may have missed events: fetch everything once.
      void this.reconcile('full');
      return;
    }
    if (event.type === 'server.heartbeat' || event.type === 'message.part.delta') return;
    this.replay?.push(event);
    const changed = this.state.apply(event);
    if (changed.size > 0) this.options.onChange({ sessions: true, instance: false });
  }

  private onStreamStatus(status: EventStreamStatus): void {
    let next: ConnectionState = this.connection;
    let problem = this.problem;
    if (status.state === 'open') {
      // Connected means fresh data: that takes the full round the connection triggers.
      if (this.connection !== 'connected') next = 'connecting';
      problem = undefined;
    } else if (status.state === 'waiting') {
      this.troubled = true;
      next = status.error?.kind === 'auth_required' || status.attempt >= 2 ? 'down' : 'connecting';
      problem = connectionProblem(status.error, this.hasPassword);
      this.markReady();
    }
    this.setConnection(next, problem);
  }

  private setConnection(connection: ConnectionState, problem: InstanceProblem | undefined): void {
    if (connection === this.connection && problem?.kind === this.problem?.kind && problem?.text === this.problem?.text) return;
    // Leaving or reaching `connected` changes every session's model (stale or live).
    const sessions = (connection === 'connected') !== (this.connection === 'connected') && this.state.sessionIds.length > 0;
    this.connection = connection;
    this.problem = problem;
    this.options.onChange({ sessions, instance: true });
  }

  private schedule(): void {
    if (this.disposed) return;
    // On the interval's grid, so that every server's light round (and the other periodic work) shares one wake-up.
    this.timer = setTimeout(() => {
      void this.reconcile('light').finally(() => this.schedule());
    }, nextAlignedDelay(this.reconcileIntervalMs));
  }

  /** Single flight with a trailing rerun: no round is lost, none overlaps. */
  private reconcile(kind: 'full' | 'light'): Promise<void> {
    if (this.disposed) return Promise.resolve();
    if (this.inflight) {
      this.rerun = this.rerun === 'full' || kind === 'full' ? 'full' : 'light';
      return this.inflight;
    }
    this.inflight = this.round(kind).finally(() => {
      this.inflight = undefined;
      const again = this.rerun;
      this.rerun = undefined;
      if (again && !this.disposed) void this.reconcile(again);
    });
    return this.inflight;
  }

  private async round(kind: 'full' | 'light'): Promise<void> {
    const started = Date.now();
    this.replay = [];
    try {
      const full = kind === 'full' || !this.capabilities;
      const data = full ? await this.fetchFull((lists) => this.apply(lists)) : await this.fetchLight();
      if (this.disposed) return;
      this.apply(data);
      if (full) this.stats.fullRounds++;
      else this.stats.lightRounds++;
      this.stats.lastRoundMs = Date.now() - started;
    } catch (error) {
      if (this.disposed) return;
      this.troubled = true;
      const problem = connectionProblem(error, this.hasPassword);
      this.options.logger.debug(`reconcile ${kind} of ${this.instance} failed: ${problem?.text ?? ''}`);
      if (error instanceof OpencodeError && error.kind === 'auth_required') this.setConnection('down', problem);
      else if (this.stream?.status.state !== 'open') this.setConnection(this.connection === 'connected' ? 'connecting' : this.connection, problem);
      // The stream is fine but the server's answers are not: say so on the instance.
      else this.setConnection(this.connection, problem);
    } finally {
      this.replay = undefined;
      // Before the stream's first event, fresh lists are not yet a live picture (see start());
      // a stream that fails marks ready itself (onStreamStatus).
      if (!this.early) this.markReady();
    }
  }

  /** Takes a fetch's answers (then the events that came meanwhile, as new as they are) and says what changed. */
  private apply(data: ReconcileData): void {
    if (this.disposed) return;
    const changed = this.state.reconcile(data);
    for (const event of this.replay ?? []) for (const id of this.state.apply(event)) changed.add(id);
    // Connected before the change event: the sessions it announces are live, not stale.
    if (this.stream?.status.state === 'open' && (this.connection !== 'connected' || this.problem)) this.setConnection('connected', undefined);
    if (changed.size > 0) this.options.onChange({ sessions: true, instance: false });
  }

  /**
   * Every list at once, then the details (todos, last messages) of the sessions worth it.
   * `onLists` gets the lists before the details are asked for, so that sessions show as soon as
   * they are known (first paint, issue 18) and their tools and todos follow.
   */
  private async fetchFull(onLists: (lists: ReconcileData) => void): Promise<ReconcileData> {
    const get = <T>(task: () => Promise<T>) => this.limiter.run(task);
    // Everything goes out at once: the lists tell by themselves whether the server offers them
    // (a missing route answers 404 or the web UI's HTML), so no separate capability probes.
    // What decides the next requests goes first (the limiter keeps arrival order); the details of
    // a session go out as soon as the list naming it has arrived, not after the slowest list.
    const optional = <T>(task: () => Promise<T>) => get(task).catch((error: unknown) => routeMissing(error));
    const statusP = get(() => this.client.sessionStatus());
    const permissionsP = optional(() => this.client.permissions());
    const questionsP = optional(() => this.client.questions());
    const sessionsP = get(() => this.client.sessions());
    const healthP = get(() => this.client.health());
    const details = this.detailFetcher();
    const scheduled = Promise.all([
      statusP.then((status) => details.add(Object.keys(status).filter((id) => status[id]?.type !== 'idle'), status)),
      Promise.all([statusP, permissionsP]).then(([status, list]) => details.add(Array.isArray(list) ? list.map((p) => p.sessionID) : [], status)),
      Promise.all([statusP, questionsP]).then(([status, list]) => details.add(Array.isArray(list) ? list.map((q) => q.sessionID) : [], status)),
      // Recent idle sessions still show their todo list.
      Promise.all([statusP, sessionsP]).then(([status, sessions]) =>
        details.add(
          [...sessions].sort((a, b) => b.time.updated - a.time.updated).slice(0, this.options.recentDetailSessions ?? 5).map((s) => s.id),
          status,
        ),
      ),
    ]);
    // A failed list fails the round below; this only keeps its rejection from going unhandled.
    scheduled.catch(() => undefined);
    const [health, sessions, status, permissionsResult, questionsResult] = await Promise.all([healthP, sessionsP, statusP, permissionsP, questionsP]);
    const permissions = Array.isArray(permissionsResult) ? permissionsResult : undefined;
    const questions = Array.isArray(questionsResult) ? questionsResult : undefined;
    const capabilities: Capabilities = { version: health.version, v1: true, v2: this.capabilities?.v2 ?? false, permissions: !!permissions, questions: !!questions };
    const metaChanged = this.version !== capabilities.version || JSON.stringify(this.capabilities) !== JSON.stringify(capabilities);
    this.capabilities = capabilities;
    this.version = capabilities.version;
    if (metaChanged) this.options.onChange({ sessions: false, instance: true });
    onLists({ sessions, status, permissions, questions, details: new Map() });
    await scheduled;
    const result = { sessions, status, permissions, questions, details: await details.done() };
    this.detectV2();
    return result;
  }

  /**
   * Once, after the first full round: whether the server also offers the 2.x routes (informative
   * only). Its two requests used to go out with the lists and took limiter slots the first
   * details waited for on a cold start (issue 17).
   */
  private detectV2(): void {
    if (this.v2Checked) return;
    this.v2Checked = true;
    void this.limiter
      .run(() => this.client.v2Info())
      .then((v2) => {
        if (this.disposed || !this.capabilities || this.capabilities.v2 === (v2 !== undefined)) return;
        this.capabilities = { ...this.capabilities, v2: v2 !== undefined };
        this.options.onChange({ sessions: false, instance: true });
      })
      .catch(() => undefined);
  }

  private async fetchLight(): Promise<ReconcileData> {
    const get = <T>(task: () => Promise<T>) => this.limiter.run(task);
    const caps = this.capabilities!;
    const [status, permissions, questions] = await Promise.all([
      get(() => this.client.sessionStatus()),
      caps.permissions ? get(() => this.client.permissions()) : Promise.resolve(undefined),
      caps.questions ? get(() => this.client.questions()) : Promise.resolve(undefined),
    ]);
    // Anything we did not know of, or whose state we got wrong, gets the full treatment.
    const unknown = this.state.unknownIn(status);
    let sessions: WireSession[] | undefined;
    if (unknown.length > 0) sessions = await get(() => this.client.sessions());
    const stale = new Set<string>(unknown);
    for (const id of new Set([...Object.keys(status), ...this.state.sessionIds])) {
      if (this.state.statusDiffers(id, status[id])) stale.add(id);
    }
    // Only sessions the server lists, a few per round: an event flood of made-up ids costs nothing.
    const listedIds = new Set([...(sessions ?? []), ...this.state.infos()].map((s) => s.id));
    const listed = (id: string) => status[id] !== undefined || listedIds.has(id);
    const details = await this.fetchDetails(status, detailBudget(stale, listed));
    return { sessions, status, permissions, questions, details };
  }

  private async fetchDetails(status: WireStatusMap, active: Set<string>): Promise<Map<string, SessionDetails>> {
    const details = this.detailFetcher();
    details.add(active, status);
    return details.done();
  }

  /**
   * Todos of each session added (once), and its last messages when the server says it is not
   * idle. Failed detail requests leave that session's details out; they never fail the round.
   */
  private detailFetcher(): { add(ids: Iterable<string>, status: WireStatusMap): void; done(): Promise<Map<string, SessionDetails>> } {
    const details = new Map<string, SessionDetails>();
    const tasks: Promise<void>[] = [];
    const started = new Set<string>();
    return {
      add: (ids, status) => {
        for (const id of ids) {
          if (started.has(id)) continue;
          started.add(id);
          const withMessages = status[id] !== undefined && status[id]?.type !== 'idle';
          tasks.push(
            (async () => {
              const [todos, messages] = await Promise.all([
                this.limiter.run(() => this.client.todos(id)).catch(() => undefined),
                withMessages ? this.limiter.run(() => this.client.messages(id, { limit: MESSAGE_LIMIT })).catch(() => undefined) : undefined,
              ]);
              details.set(id, { ...(todos ? { todos } : {}), ...(messages ? { messages } : {}) });
            })(),
          );
        }
      },
      done: async () => {
        await Promise.all(tasks);
        return details;
      },
    };
  }
}

/** A route the server does not offer resolves to `missing`; any other failure fails the round. */
function routeMissing(error: unknown): 'missing' {
  if (error instanceof OpencodeError) {
    if (error.kind === 'no_route' || (error.kind === 'http' && (error.status === 404 || error.status === 405))) return 'missing';
  }
  throw error;
}

/** A failure as a problem kind (what consumers switch on) and its text (what they show). */
export function connectionProblem(error: unknown, hasPassword: boolean): InstanceProblem | undefined {
  if (error === undefined) return undefined;
  if (error instanceof OpencodeError) {
    switch (error.kind) {
      case 'auth_required':
        return { kind: 'auth', text: hasPassword ? 'password rejected' : 'password required' };
      case 'timeout':
        return { kind: 'timeout', text: 'not answering (timeout)' };
      case 'network':
        return { kind: 'unreachable', text: `unreachable: ${error.message.split(': ').slice(1).join(': ')}` };
      case 'no_route':
      case 'unsupported':
        return { kind: 'unsupported', text: error.message };
      default:
        return { kind: 'server', text: error.message };
    }
  }
  return { kind: 'server', text: describeError(error) };
}
