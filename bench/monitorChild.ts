/**
 * The measuring process: it runs the monitor (and nothing else while CPU is measured), the floor
 * clients next to it, and answers the bench over IPC. The lab and its scripted model live in the
 * parent, so every CPU second counted here is the monitor's.
 *
 * Private members are reached with element access (`monitor['entries']`): the bench drives one
 * reconciliation round on demand without a public API for it.
 */
import * as dc from 'node:diagnostics_channel';
import { Client, Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { Discovery } from '../src/core/discovery/discovery';
import { LinuxProcessScanner } from '../src/core/discovery/linuxScanner';
import type { OpencodeProcess } from '../src/core/discovery/types';
import { nullLogger } from '../src/core/log';
import type { Logger } from '../src/core/log';
import { InstanceState } from '../src/core/monitor/instanceState';
import type { InstanceWatcher } from '../src/core/monitor/instanceWatcher';
import type { MonitorSnapshot } from '../src/core/model/model';
import { Monitor } from '../src/core/monitor/monitor';
import type { OpencodeEvent } from '../src/core/opencode/events';
import { serve } from './ipc';
import { wallMs } from './stats';

// ── Recording the monitor's HTTP requests (undici's diagnostics channels) ──────────────────────

export interface RecordedRequest {
  method: string;
  origin: string;
  path: string;
  /** ms (performance.now) */
  createdAt: number;
  headersAt?: number;
  doneAt?: number;
  status?: number;
  error?: string;
}

interface UndiciRequest {
  method: string;
  origin: string;
  path: string;
}

const FLOOR_MARK = 'ocm-bench-floor=1';
let recording: RecordedRequest[] | undefined;
const live = new WeakMap<object, RecordedRequest>();

function onCreate(message: unknown): void {
  const { request } = message as { request: UndiciRequest };
  if (!recording || request.path.includes(FLOOR_MARK)) return;
  const r: RecordedRequest = { method: request.method, origin: String(request.origin), path: request.path, createdAt: performance.now() };
  live.set(request, r);
  recording.push(r);
}
function onHeaders(message: unknown): void {
  const { request, response } = message as { request: object; response: { statusCode: number } };
  const r = live.get(request);
  if (r) {
    r.headersAt = performance.now();
    r.status = response.statusCode;
  }
}
function onTrailers(message: unknown): void {
  const r = live.get((message as { request: object }).request);
  if (r) r.doneAt = performance.now();
}
function onError(message: unknown): void {
  const { request, error } = message as { request: object; error: Error };
  const r = live.get(request);
  if (r) r.error = error?.message ?? String(error);
}

function startRecording(): RecordedRequest[] {
  recording = [];
  dc.subscribe('undici:request:create', onCreate);
  dc.subscribe('undici:request:headers', onHeaders);
  dc.subscribe('undici:request:trailers', onTrailers);
  dc.subscribe('undici:request:error', onError);
  return recording;
}

function stopRecording(): RecordedRequest[] {
  const out = recording ?? [];
  recording = undefined;
  dc.unsubscribe('undici:request:create', onCreate);
  dc.unsubscribe('undici:request:headers', onHeaders);
  dc.unsubscribe('undici:request:trailers', onTrailers);
  dc.unsubscribe('undici:request:error', onError);
  return out;
}

// ── Event arrival on the socket → change emitted ──────────────────────────────────────────────

/** Event id → when its SSE line was complete in a chunk off the monitor's /event socket. */
const arrivals = new Map<string, number>();
/** Arrival times of events that changed the model and wait for the next change emission. */
let pendingChanged: number[] = [];
const eventToChange: number[] = [];
let latencyOn = false;
const streamBuffers = new WeakMap<object, string>();

function onBodyChunk(message: unknown): void {
  const { request, chunk } = message as { request: UndiciRequest; chunk: Buffer };
  if (!request.path.endsWith('/event')) return; // the monitor's stream (the floor's carries a mark)
  const at = performance.now();
  let text = (streamBuffers.get(request) ?? '') + chunk.toString('utf8');
  let end: number;
  while ((end = text.indexOf('\n')) >= 0) {
    const line = text.slice(0, end);
    text = text.slice(end + 1);
    const m = /^data: ?\{"id":"([^"]+)"/.exec(line);
    if (m) arrivals.set(m[1]!, at);
  }
  streamBuffers.set(request, text);
  if (arrivals.size > 20_000) arrivals.clear(); // events the watcher never applies (heartbeats, deltas)
}

const originalApply = InstanceState.prototype.apply;
InstanceState.prototype.apply = function apply(this: InstanceState, event: OpencodeEvent): Set<string> {
  const changed = originalApply.call(this, event);
  if (latencyOn && event.id) {
    const at = arrivals.get(event.id);
    // First application only: a reconcile round replays events it overlapped.
    if (at !== undefined) {
      arrivals.delete(event.id);
      if (changed.size > 0) pendingChanged.push(at);
    }
  }
  return changed;
};

function setLatency(on: boolean): void {
  if (on === latencyOn) return;
  latencyOn = on;
  arrivals.clear();
  pendingChanged = [];
  if (on) dc.subscribe('undici:request:bodyChunkReceived', onBodyChunk);
  else dc.unsubscribe('undici:request:bodyChunkReceived', onBodyChunk);
}

// ── The monitor under test ────────────────────────────────────────────────────────────────────

let monitor: Monitor | undefined;
let subscription: { dispose(): void } | undefined;
let changes = 0;
/** Instance id → when it was first in the model / first connected / first limited (wall ms). */
const seen = new Map<string, { firstAt: number; connectedAt?: number; limitedAt?: number }>();
const changeWaiters = new Set<(snap: MonitorSnapshot) => void>();
const logger: Logger = nullLogger;

function adopt(next: Monitor): void {
  subscription?.dispose();
  monitor = next;
  seen.clear();
  // A consumer as the tree view is one: every change rebuilds the snapshot.
  subscription = next.onDidChange(() => {
    const now = performance.now();
    if (pendingChanged.length > 0) {
      for (const at of pendingChanged) eventToChange.push(now - at);
      pendingChanged = [];
    }
    changes++;
    const snap = next.snapshot();
    const wall = wallMs();
    for (const i of snap.instances) {
      let s = seen.get(i.id);
      if (!s) seen.set(i.id, (s = { firstAt: wall }));
      if (i.connection === 'connected' && s.connectedAt === undefined) s.connectedAt = wall;
      if (i.connection === 'limited' && s.limitedAt === undefined) s.limitedAt = wall;
    }
    for (const w of [...changeWaiters]) w(snap);
  });
}

async function dropMonitor(): Promise<void> {
  subscription?.dispose();
  subscription = undefined;
  const m = monitor;
  monitor = undefined;
  await m?.dispose();
}

/** [end time, duration] of every discovery scan of the current lab monitor (performance.now ms). */
let scans: Array<[number, number]> = [];

function labMonitor(home: string): { monitor: Monitor; scanMs: number[] } {
  const inner = new LinuxProcessScanner({ logger });
  const scanMs: number[] = [];
  scans = [];
  // Only the lab's processes: other OpenCode processes on this machine are not part of the bench.
  // The same list in answers the same list out, as the scanner's own (discovery skips its rebuild then).
  let last: { all: OpencodeProcess[]; lab: OpencodeProcess[] } | undefined;
  const scanner = {
    scan: async () => {
      const t = performance.now();
      const all = await inner.scan();
      scanMs.push(performance.now() - t);
      scans.push([performance.now(), performance.now() - t]);
      if (last?.all !== all) last = { all, lab: all.filter((p) => p.home === home) };
      return last.lab;
    },
  };
  const discovery = new Discovery({ logger, scanner, intervalMs: 1_000 });
  return { monitor: new Monitor({ logger, source: discovery }), scanMs };
}

function watchers(): InstanceWatcher[] {
  const entries = (monitor as unknown as { entries: Map<string, { watcher?: InstanceWatcher }> })['entries'];
  return [...entries.values()].flatMap((e) => (e.watcher ? [e.watcher] : []));
}

async function round(kind: 'full' | 'light'): Promise<number> {
  const list = watchers();
  // A round in flight (e.g. the 30 s timer) would be joined, not measured: let it finish.
  await Promise.all(list.map((w) => (w as unknown as { inflight?: Promise<void> })['inflight']?.catch(() => undefined)));
  const t = performance.now();
  await Promise.all(list.map((w) => (w as unknown as { reconcile(k: string): Promise<void> })['reconcile'](kind)));
  return performance.now() - t;
}

interface SnapshotSummary {
  instances: number;
  connected: number;
  sessions: number;
  busy: number;
  permissions: number;
  questions: number;
  withTodos: number;
  runningTools: number;
}

function summary(snap: MonitorSnapshot): SnapshotSummary {
  return {
    instances: snap.instances.length,
    connected: snap.instances.filter((i) => i.connection === 'connected').length,
    sessions: snap.sessions.length,
    busy: snap.sessions.filter((s) => s.status !== 'idle').length,
    permissions: snap.sessions.reduce((n, s) => n + s.permissions.length, 0),
    questions: snap.sessions.reduce((n, s) => n + s.questions.length, 0),
    withTodos: snap.sessions.filter((s) => s.todos.total > 0).length,
    runningTools: snap.sessions.reduce((n, s) => n + s.runningTools.length, 0),
  };
}

function breakdown(requests: RecordedRequest[], t0: number) {
  const rel = (v: number | undefined) => (v === undefined ? undefined : Math.round((v - t0) * 10) / 10);
  const first = (test: (r: RecordedRequest) => boolean) => requests.find(test);
  const lastDone = Math.max(...requests.filter((r) => !r.path.endsWith('/event')).map((r) => r.doneAt ?? r.headersAt ?? r.createdAt));
  return {
    firstHealthAt: rel(first((r) => r.path.endsWith('/global/health'))?.createdAt),
    firstStreamAt: rel(first((r) => r.path.endsWith('/event'))?.createdAt),
    lastStreamOpenAt: rel(Math.max(...requests.filter((r) => r.path.endsWith('/event')).map((r) => r.headersAt ?? 0))),
    firstListAt: rel(first((r) => r.path.endsWith('/session'))?.createdAt),
    lastRequestDoneAt: rel(lastDone),
  };
}

// ── Floor: the same requests, minimal keep-alive client, full parallelism ─────────────────────

const floorPools = new Map<string, Pool>();

function floorPool(origin: string, fresh: boolean): Pool {
  if (fresh) return new Pool(origin, { connections: null, headersTimeout: 10_000, bodyTimeout: 10_000 });
  let pool = floorPools.get(origin);
  if (!pool) floorPools.set(origin, (pool = new Pool(origin, { connections: null, keepAliveTimeout: 60_000, headersTimeout: 10_000, bodyTimeout: 10_000 })));
  return pool;
}

function marked(path: string): string {
  return path + (path.includes('?') ? '&' : '?') + FLOOR_MARK;
}

async function floorReplay(requests: Array<Pick<RecordedRequest, 'method' | 'origin' | 'path'>>, fresh: boolean): Promise<number> {
  const pools = new Map<string, Pool>();
  const clients: Client[] = [];
  const poolFor = (origin: string) => {
    let p = pools.get(origin);
    if (!p) pools.set(origin, (p = floorPool(origin, fresh)));
    return p;
  };
  for (const r of requests) if (!r.path.endsWith('/event')) poolFor(r.origin);
  const t = performance.now();
  await Promise.all(
    requests.map(async (r) => {
      if (r.path.endsWith('/event')) {
        // A stream counts as answered at its first chunk (server.connected).
        const client = new Client(r.origin);
        clients.push(client);
        const res = await client.request({ method: 'GET', path: marked(r.path), headers: { accept: 'text/event-stream' } });
        await new Promise<void>((resolve) => {
          res.body.once('data', () => resolve());
          res.body.once('error', () => resolve());
          res.body.once('end', () => resolve());
        });
        res.body.destroy();
        return;
      }
      const res = await poolFor(r.origin).request({ method: r.method as Dispatcher.HttpMethod, path: marked(r.path), headers: { accept: 'application/json' } });
      await res.body.text();
    }),
  );
  const ms = performance.now() - t;
  await Promise.all(clients.map((c) => c.destroy().catch(() => undefined)));
  if (fresh) await Promise.all([...pools.values()].map((p) => p.destroy().catch(() => undefined)));
  return ms;
}

// ── Floor for prompt → busy: a raw reader of each server's /event ─────────────────────────────

interface RawStream {
  client: Client;
  body?: Dispatcher.ResponseData['body'];
}
const rawStreams = new Map<string, RawStream>();
const busyWaiters = new Map<string, (at: number) => void>();

async function openRaw(url: string): Promise<void> {
  if (rawStreams.has(url)) return;
  const client = new Client(url);
  const raw: RawStream = { client };
  rawStreams.set(url, raw);
  const res = await client.request({ method: 'GET', path: marked('/event'), headers: { accept: 'text/event-stream' } });
  raw.body = res.body;
  let buffer = '';
  res.body.on('data', (chunk: Buffer) => {
    const at = performance.now();
    buffer += chunk.toString('utf8');
    let end: number;
    while ((end = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      if (!line.startsWith('data:')) continue;
      try {
        const event = JSON.parse(line.slice(5)) as { type?: string; properties?: { sessionID?: string; status?: { type?: string } } };
        if (event.type === 'session.status' && event.properties?.status?.type === 'busy') {
          const id = event.properties.sessionID ?? '';
          busyWaiters.get(id)?.(at);
          busyWaiters.delete(id);
        }
      } catch {
        // not JSON: not ours to judge here
      }
    }
  });
  res.body.on('error', () => undefined);
  await new Promise<void>((resolve) => res.body.once('data', () => resolve()));
}

async function closeRaw(): Promise<void> {
  const all = [...rawStreams.values()];
  rawStreams.clear();
  for (const r of all) r.body?.destroy();
  await Promise.all(all.map((r) => r.client.destroy().catch(() => undefined)));
}

const actions = new Map<string, Pool>();

function untilSnapshot<T>(test: (snap: MonitorSnapshot) => T | undefined, timeoutMs: number, label: string): Promise<{ value: T; at: number }> {
  return new Promise((resolve, reject) => {
    const now = monitor?.snapshot();
    const first = now ? test(now) : undefined;
    if (first !== undefined) return resolve({ value: first, at: performance.now() });
    const timer = setTimeout(() => {
      changeWaiters.delete(waiter);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}`));
    }, timeoutMs);
    const waiter = (snap: MonitorSnapshot) => {
      const value = test(snap);
      if (value === undefined) return;
      clearTimeout(timer);
      changeWaiters.delete(waiter);
      resolve({ value, at: performance.now() });
    };
    changeWaiters.add(waiter);
  });
}

async function promptBusy(args: { url: string; sessionId: string; text: string }): Promise<{ floorMs: number; monitorMs: number }> {
  const { url, sessionId } = args;
  await untilSnapshot((s) => (s.sessions.find((x) => x.id === sessionId)?.status === 'idle' ? true : undefined), 30_000, `${sessionId} idle before the prompt`);
  let pool = actions.get(url);
  if (!pool) actions.set(url, (pool = new Pool(url, { connections: 2 })));
  let floorAt = 0;
  const floor = new Promise<void>((resolve) => busyWaiters.set(sessionId, (at) => ((floorAt = at), resolve())));
  const seenBusy = untilSnapshot((s) => (s.sessions.find((x) => x.id === sessionId)?.status === 'busy' ? true : undefined), 30_000, `${sessionId} busy in the model`);
  const t0 = performance.now();
  const res = await pool.request({
    method: 'POST',
    path: `/session/${encodeURIComponent(sessionId)}/prompt_async`,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ parts: [{ type: 'text', text: args.text }] }),
  });
  await res.body.dump();
  if (res.statusCode >= 300) throw new Error(`prompt_async → HTTP ${res.statusCode}`);
  const [{ at: monitorAt }] = await Promise.all([seenBusy, floor]);
  return { floorMs: floorAt - t0, monitorMs: monitorAt - t0 };
}

async function waitEvents(total: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (watchers().reduce((n, w) => n + w.stats.events, 0) < total) {
    if (Date.now() > deadline) throw new Error(`only ${watchers().reduce((n, w) => n + w.stats.events, 0)} of ${total} events arrived`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function gcHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  return process.memoryUsage().heapUsed;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a fresh monitor and times it until settled; ends the request recording. */
async function coldStart(m: Monitor): Promise<{ ms: number; t0: number }> {
  const t0 = performance.now();
  adopt(m);
  m.start();
  await m.settle(20_000);
  const ms = performance.now() - t0;
  stopRecording();
  return { ms, t0 };
}

serve({
  /** Cold snapshot of the lab: discovery + every instance in full, on a fresh monitor (kept running afterwards). */
  labCold: async ({ home }: { home: string }) => {
    await dropMonitor();
    const requests = startRecording();
    const { monitor: m, scanMs } = labMonitor(home);
    const { ms, t0 } = await coldStart(m);
    return { ms, t0, requests, scanMs: scanMs[0], breakdown: breakdown(requests, t0), summary: summary(m.snapshot()) };
  },
  /** The scale fleet: configured endpoints (they are not processes), cold. */
  endpointsCold: async ({ urls }: { urls: string[] }) => {
    await dropMonitor();
    const requests = startRecording();
    const m = new Monitor({ logger, endpoints: urls.map((url) => ({ url })) });
    const { ms, t0 } = await coldStart(m);
    return { ms, requests: requests.map(({ method, origin, path }) => ({ method, origin, path })), breakdown: breakdown(requests, t0), summary: summary(m.snapshot()) };
  },
  round: async ({ kind }: { kind: 'full' | 'light' }) => {
    const requests = startRecording();
    const ms = await round(kind);
    stopRecording();
    return { ms, requests: requests.map(({ method, origin, path }) => ({ method, origin, path })) };
  },
  floor: async ({ requests, fresh }: { requests: RecordedRequest[]; fresh: boolean }) => ({ ms: await floorReplay(requests, fresh) }),
  summary: () => summary(monitor!.snapshot()),
  stats: () => monitor!.stats(),
  openRaw: async ({ urls }: { urls: string[] }) => {
    await Promise.all(urls.map(openRaw));
  },
  closeRaw: async () => closeRaw(),
  promptBusy,
  latency: ({ on }: { on: boolean }) => {
    setLatency(on);
    return { samples: eventToChange.splice(0) };
  },
  cpu: async ({ ms }: { ms: number }) => {
    const before = monitor!.stats();
    const changesBefore = changes;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await sleep(ms);
    const used = process.cpuUsage(c0);
    const wall = performance.now() - t0;
    const after = monitor!.stats();
    const inWindow = scans.filter(([end]) => end >= t0);
    return {
      discoveryScans: inWindow.length,
      discoveryScanWallMs: inWindow.reduce((n, [, d]) => n + d, 0),
      cpuMs: (used.user + used.system) / 1000,
      userMs: used.user / 1000,
      systemMs: used.system / 1000,
      wallMs: wall,
      events: after.events - before.events,
      changes: changes - changesBefore,
      lightRounds: after.lightRounds - before.lightRounds,
      fullRounds: after.fullRounds - before.fullRounds,
    };
  },
  /** When an instance was first seen / connected / limited in the model (wall ms), waiting up to timeoutMs. */
  instanceTimes: async ({ id, want, timeoutMs }: { id: string; want: 'connected' | 'limited'; timeoutMs: number }) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = seen.get(id);
      if (s && (want === 'connected' ? s.connectedAt : s.limitedAt) !== undefined) return s;
      if (Date.now() > deadline) return s ?? null;
      await sleep(20);
    }
  },
  heapStart: async ({ url }: { url: string }) => {
    await dropMonitor();
    const m = new Monitor({ logger, endpoints: [{ url }] });
    adopt(m);
    m.start();
    await m.settle(10_000);
    return summary(m.snapshot());
  },
  heapMark: async ({ events, timeoutMs }: { events: number; timeoutMs: number }) => {
    await waitEvents(events, timeoutMs);
    await sleep(200); // the last coalesced change
    return { heapUsed: gcHeap(), events: watchers().reduce((n, w) => n + w.stats.events, 0), changes };
  },
  /** Requests to one port while recording (e.g. discovery's probes of a new server), in wall ms. */
  record: ({ on, port }: { on: boolean; port?: number }) => {
    if (on) {
      startRecording();
      return [];
    }
    const all = stopRecording();
    return all
      .filter((r) => port === undefined || r.origin.endsWith(`:${port}`))
      .map((r) => ({ request: `${r.method} ${r.path}`, createdAt: performance.timeOrigin + r.createdAt, doneAt: r.doneAt === undefined ? undefined : performance.timeOrigin + r.doneAt, status: r.status, error: r.error }));
  },
  eventCount: () => watchers().reduce((n, w) => n + w.stats.events, 0),
  drop: async () => {
    await dropMonitor();
    await closeRaw();
    await Promise.all([...floorPools.values(), ...actions.values()].map((p) => p.destroy().catch(() => undefined)));
    floorPools.clear();
    actions.clear();
  },
});
