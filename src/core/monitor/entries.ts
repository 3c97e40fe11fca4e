/**
 * Matching: which rows (entries) the monitor should have, from discovered processes, managed
 * servers, Docker containers and configured endpoints. One server is one row, whichever way it
 * was found.
 */
import { redactUrl } from '../opencode/http';
import type { InstanceKind } from '../model/model';
import type { ManagedServerInfo } from '../servers/types';
import type { ContainerTarget, DiscoveredProcess, EndpointConfig } from './ports';
import type { InstanceWatcher } from './instanceWatcher';
import type { SpeculativeWatcher } from './speculation';

export interface Entry {
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
  /** A found process's port whose first probe is out (DiscoveredProcess.candidateUrl). */
  candidateUrl?: string;
  /** A watcher of candidateUrl started before the probe's verdict; not shown until adopted (monitor.ts). */
  speculative?: SpeculativeWatcher;
}

/** An entry as matching wants it, before it has a watcher or a place in the list. */
export type WantedEntry = Omit<Entry, 'watcher' | 'firstSeen' | 'speculative'>;

export interface MatchInput {
  managed: readonly ManagedServerInfo[];
  discovered: readonly DiscoveredProcess[];
  containers: readonly ContainerTarget[];
  endpoints: readonly EndpointConfig[];
  /** Updated with the managed pids seen now, then asked about discovered ones. */
  endedManaged: EndedManaged;
}

/** The rows wanted now, by id. */
export function matchEntries(input: MatchInput): Map<string, WantedEntry> {
  const wanted = new Map<string, WantedEntry>();
  const urlsOfProcesses = new Set<string>();
  // A managed server is one row across its restarts; its process (found by discovery too) folds into it.
  const managedByPid = new Map<number, WantedEntry>();
  const managedByUrl = new Map<string, WantedEntry>();
  const managedPids = new Set<number>();
  for (const m of input.managed) {
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
  input.endedManaged.update(managedPids);
  for (const d of input.discovered) {
    const url = d.url ? normalizeUrl(d.url) : undefined;
    // Its own pid, or the real opencode under a wrapper the manager spawned (npm launcher, script).
    const managed = managedByPid.get(d.process.pid) ?? managedByPid.get(d.process.ppid) ?? (url ? managedByUrl.get(url) : undefined);
    if (managed) {
      Object.assign(managed, { process: d.process, version: d.version, authRequired: d.authRequired });
      continue;
    }
    // A managed process that just ended: discovery has not seen it go yet; no stray row meanwhile.
    if (input.endedManaged.has(d.process.pid)) continue;
    if (url) urlsOfProcesses.add(url);
    wanted.set(d.id, {
      id: d.id,
      kind: d.process.kind === 'unknown' ? 'unknown' : d.process.kind,
      process: d.process,
      url,
      version: d.version,
      authRequired: d.authRequired,
      ...(!url && d.candidateUrl ? { candidateUrl: normalizeUrl(d.candidateUrl) } : {}),
    });
  }
  // Containers before endpoints: a container whose password was set (an endpoint of its URL)
  // stays the container's row rather than turning into an endpoint row and back.
  for (const container of input.containers) {
    const url = normalizeUrl(container.url);
    const same = [...wanted.values()].find((w) => w.url === url);
    if (same) {
      same.container = container;
      continue;
    }
    wanted.set(`container:${container.id}`, { id: `container:${container.id}`, kind: 'container', container, url });
  }
  for (const endpoint of input.endpoints) {
    const url = normalizeUrl(endpoint.url);
    const local = [...wanted.values()].find((w) => w.url === url);
    if (local) {
      local.endpoint = endpoint; // same server found as a process: one instance, the endpoint's password
      continue;
    }
    if (urlsOfProcesses.has(url)) continue;
    wanted.set(`url:${redactUrl(url)}`, { id: `url:${redactUrl(url)}`, kind: 'endpoint', endpoint, url });
  }
  return wanted;
}

/** Longer than a discovery interval: by then discovery has seen the process go. */
const ENDED_MANAGED_GRACE_MS = 5_000;

/** Pids managed at the last sync but no longer: ignored in discovery results for a few seconds. */
export class EndedManaged {
  private last = new Set<number>();
  private readonly until = new Map<number, number>();

  constructor(private readonly now: () => number) {}

  update(current: Set<number>): void {
    const now = this.now();
    for (const pid of this.last) if (!current.has(pid)) this.until.set(pid, now + ENDED_MANAGED_GRACE_MS);
    for (const [pid, until] of this.until) if (until <= now || current.has(pid)) this.until.delete(pid);
    this.last = current;
  }

  has(pid: number): boolean {
    return this.until.has(pid);
  }
}

/** What changes an existing entry's row. */
export function entryKey(e: Entry): string {
  return JSON.stringify([e.process, e.version, e.authRequired, e.managed, e.container, e.endpoint?.label]);
}

export function normalizeUrl(url: string): string {
  return url.replace(/\/+$/, '');
}
