/**
 * Builds the monitor with the machine's discovery: shared by the extension, the CLI and the daemon.
 * It sits above the rooms it assembles (monitor, discovery, db); none of them imports it.
 * Docker discovery is attached afterwards by the host (core/discovery/dockerWatch.ts).
 */
import { ClaudeSource } from './claude/claudeSource';
import { DbSessionSource } from './db/dbSessionSource';
import { Discovery } from './discovery/discovery';
import { scanRootsFromEnv } from './discovery/scanScope';
import type { Logger } from './log';
import type { AgentKind } from './model/model';
import type { AgentSource, EndpointConfig, LimitedSessionSource, ManagedSource, SessionLabels } from './monitor/ports';
import { Monitor } from './monitor/monitor';
import { environmentPasswordFor } from './opencode/passwordPolicy';

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
  /** The user's labels on sessions (a LabelStore the host owns). */
  labels?: SessionLabels;
  /**
   * Claude Code sessions on this machine (its registry and transcripts): on with local
   * discovery; `false` turns it off, an object sets its folder (`$CLAUDE_CONFIG_DIR`) or poll.
   */
  claude?: false | { home?: string; pollMs?: number };
  /** Agent kinds left out of the snapshot (settings `opencodeMonitor.agents.*`). */
  hiddenAgents?: AgentKind[];
}

export function createMonitor(options: CreateMonitorOptions): Monitor {
  const discovery =
    options.discoverLocal === false
      ? undefined
      : new Discovery({ logger: options.logger, intervalMs: options.discoveryIntervalMs, password: options.localPassword, onlyUnder: scanRootsFromEnv() });
  const db = options.limitedSessions === undefined && discovery ? new DbSessionSource({ logger: options.logger }) : undefined;
  const agents: AgentSource[] = [];
  if (options.claude !== false && (options.discoverLocal !== false || options.claude)) {
    agents.push(new ClaudeSource({ logger: options.logger, ...(options.claude || {}) }));
  }
  return new Monitor({
    logger: options.logger,
    source: discovery,
    managed: options.managed,
    endpoints: options.endpoints,
    limitedSessions: db ?? (options.limitedSessions || undefined),
    owned: db ? [db] : [],
    passwordFor: (url) => environmentPasswordFor(url, true, options.localPassword),
    heuristicThresholdMs: options.heuristicThresholdMs,
    labels: options.labels,
    agents,
    ...(options.hiddenAgents ? { hiddenAgents: options.hiddenAgents } : {}),
  });
}
