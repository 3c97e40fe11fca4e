/**
 * What the monitor reads from: the ports its sources implement (discovery, endpoints, the DB,
 * managed servers, Docker). Sources depend on these types, never on the monitor itself.
 */
import type { AgentKind, ContainerInfo, InstanceModel, SessionModel } from '../model/model';
import type { ManagedServerInfo } from '../servers/types';
import type { Disposable } from '../util/events';

/** A process found on this machine, as discovery reports it. */
export interface DiscoveredProcess {
  id: string;
  process: {
    pid: number;
    ppid: number;
    tty?: string;
    cwd?: string;
    kind: 'serve' | 'web' | 'tui' | 'unknown';
    ports: number[];
    dataDir?: string;
  };
  /** Base URL of its confirmed OpenCode port. */
  url?: string;
  version?: string;
  authRequired?: boolean;
  /** No port confirmed yet; this one's first probe is out, without a password (discovery.ts). */
  candidateUrl?: string;
}

/** Where instances come from; discovery implements it. */
export interface InstanceSource {
  onChange(listener: (change: { all: DiscoveredProcess[] }) => void): Disposable;
  start(): void;
  dispose(): void | Promise<void>;
  scanNow(): Promise<unknown>;
  setIntervalMs?(ms: number): void;
}

export interface EndpointConfig {
  url: string;
  password?: string;
  label?: string;
}

/** Sessions of a port-less instance, read from OpenCode's shared DB. */
export interface LimitedSessionSource {
  sessionsFor(instance: InstanceModel): SessionModel[];
  /** Why it cannot read (e.g. no `node:sqlite`), shown on limited instances. */
  readonly unavailableReason?: string;
  onChange(listener: () => void): Disposable;
}

/** Servers this monitor started (src/core/servers/serverManager.ts implements it). */
export interface ManagedSource {
  list(): ManagedServerInfo[];
  onDidChange(listener: () => void): Disposable;
  /** The password a managed server was started with, by its URL. */
  passwordFor(url: string): string | undefined;
}

/** A container that runs OpenCode and publishes its port (src/core/discovery/containerSelection.ts). */
export interface ContainerTarget extends ContainerInfo {
  url: string;
  /** Why it may not answer (e.g. OpenCode bound to 127.0.0.1 inside the container). */
  hint?: string;
}

/** Where containers come from (src/core/discovery/dockerSource.ts). */
export interface ContainerSource {
  onChange(listener: (containers: ContainerTarget[]) => void): Disposable;
  start(): void;
  dispose(): void;
  /** Lists now (a one-shot snapshot waits for it); changes still arrive through onChange. */
  scanNow?(): Promise<unknown>;
}

/** The user's labels on sessions (src/core/labels/labelStore.ts implements it). */
export interface SessionLabels {
  get(sessionId: string): string | undefined;
  /** Sessions the monitor shows: their labels are kept (unseen ones are pruned after 30 days). */
  noteSeen(sessionIds: Iterable<string>): void;
  onDidChange(listener: () => void): Disposable;
}

/** What another agent's source shows: its instances and their sessions, already in model types. */
export interface AgentSessions {
  instances: InstanceModel[];
  sessions: SessionModel[];
}

/** Sessions of another coding agent, read by its own source (Claude Code: core/claude). */
export interface AgentSource {
  readonly agent: AgentKind;
  /** The current picture; the same object until the next change. */
  current(): AgentSessions;
  onChange(listener: () => void): Disposable;
  start(): void;
  /** Looks now (a one-shot snapshot waits for it). */
  scanNow(): Promise<unknown>;
  dispose(): void | Promise<void>;
}
