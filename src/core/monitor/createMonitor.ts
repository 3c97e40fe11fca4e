/** Builds the monitor with the machine's discovery: shared by the extension, the CLI and the daemon. */
import { DbSessionSource } from '../db/dbSessionSource';
import { Discovery } from '../discovery/discovery';
import { DockerSource } from '../discovery/dockerSource';
import type { Logger } from '../log';
import type { EndpointConfig, LimitedSessionSource, ManagedSource } from './monitor';
import { Monitor } from './monitor';

export interface CreateMonitorOptions {
  logger: Logger;
  endpoints?: EndpointConfig[];
  /** Servers this process started (shown as managed, watched as soon as they answer). */
  managed?: ManagedSource;
  /** Password tried on local servers that ask for one (OPENCODE_SERVER_PASSWORD). */
  localPassword?: string;
  discoveryIntervalMs?: number;
  heuristicThresholdMs?: number;
  /** Sessions of port-less TUIs; default: read from OpenCode's shared DB (`false` turns it off). */
  limitedSessions?: LimitedSessionSource | false;
  /** Set false to watch configured endpoints only. */
  discoverLocal?: boolean;
  /** Opt-in: OpenCode in Docker containers that publish its port (`docker ps` every 5 s). */
  docker?: { binary?: string; intervalMs?: number };
}

export function createMonitor(options: CreateMonitorOptions): Monitor {
  const discovery =
    options.discoverLocal === false
      ? undefined
      : new Discovery({ logger: options.logger, intervalMs: options.discoveryIntervalMs, password: options.localPassword });
  const db = options.limitedSessions === undefined && discovery ? new DbSessionSource({ logger: options.logger }) : undefined;
  const docker = options.docker ? new DockerSource({ logger: options.logger, ...options.docker }) : undefined;
  return new Monitor({
    logger: options.logger,
    source: discovery,
    managed: options.managed,
    endpoints: options.endpoints,
    limitedSessions: db ?? (options.limitedSessions || undefined),
    containers: docker,
    owned: db ? [db] : [],
    passwordFor: () => options.localPassword,
    heuristicThresholdMs: options.heuristicThresholdMs,
  });
}
