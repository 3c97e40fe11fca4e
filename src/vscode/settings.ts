/**
 * Typed settings, read as one snapshot. Server passwords are not settings: they live in
 * SecretStorage (serverPasswords.ts). Services that start and stop with a group of settings use
 * `SettingFollower` (settingFollower.ts).
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { AgentKind } from '../core/model/model';
import { DEFAULT_STATE_PATH, DEFAULT_USAGE_PATH } from '../core/legacy/legacyWriter';

export const SECTION = 'opencodeMonitor';
export interface MonitorConfig {
  /** Pause between two scans for OpenCode processes (ms, ≥ 250). */
  discoveryIntervalMs: number;
  /** Extra servers to watch (remote, container, tunnel), without credentials. */
  endpoints: string[];
  /** The `opencode` executable; empty: the first one on PATH. */
  opencodePath: string;
  servers: {
    restartOnCrash: boolean;
    requirePassword: boolean;
  };
  docker: {
    enabled: boolean;
    path: string;
  };
  legacyFiles: {
    /** Write the SwiftBar files of the old menu-bar plugin (one writer per machine). */
    enabled: boolean;
    statePath: string;
    usagePath: string;
  };
  notifications: {
    /** A session starts waiting for a permission or an answer. */
    needsYou: boolean;
    /** A busy session finishes (opt-in). */
    finished: boolean;
  };
  /** Which coding agents' sessions are shown. */
  agents: Record<AgentKind, boolean>;
  /** Servers without the permission API: a tool running longer than this counts as "maybe waiting" (ms). */
  heuristicThresholdMs: number;
  /** Order of the sessions in the tree. */
  sessionSort: 'newest' | 'longestWaiting';
  usage: {
    /** Show Claude subscription usage when a Claude sign-in exists. */
    enabled: boolean;
    intervalSeconds: number;
    /** Empty: api.anthropic.com (or OPENCODE_MONITOR_ANTHROPIC_BASE_URL). */
    baseUrl: string;
    /** Empty: opencode-monitor/<version>. */
    userAgent: string;
  };
}

export type ConfigKey = 'agents' | 'discovery' | 'endpoints' | 'opencodePath' | 'servers' | 'docker' | 'legacyFiles' | 'notifications' | 'heuristicThreshold' | 'usage' | 'sessions';

export interface ConfigChange {
  previous: MonitorConfig;
  affects(key: ConfigKey): boolean;
}

export function readConfig(logger?: Logger): MonitorConfig {
  const c = vscode.workspace.getConfiguration(SECTION);
  return {
    discoveryIntervalMs: clamp(c.get<number>('discovery.interval', 1000), 250, 60_000, 1000),
    endpoints: cleanEndpoints(c.get<unknown>('endpoints', []), logger),
    opencodePath: nonEmpty(c.get<unknown>('opencodePath'), ''),
    servers: {
      restartOnCrash: c.get<boolean>('servers.restartOnCrash', true) !== false,
      requirePassword: c.get<boolean>('servers.requirePassword', false) === true,
    },
    docker: {
      enabled: c.get<boolean>('docker.enabled', false) === true,
      path: nonEmpty(c.get<string>('docker.path'), 'docker'),
    },
    legacyFiles: {
      enabled: c.get<boolean>('legacyFiles.enabled', false) === true,
      statePath: nonEmpty(c.get<string>('legacyFiles.statePath'), DEFAULT_STATE_PATH),
      usagePath: nonEmpty(c.get<string>('legacyFiles.usagePath'), DEFAULT_USAGE_PATH),
    },
    notifications: {
      needsYou: c.get<boolean>('notifications.needsYou', true) !== false,
      finished: c.get<boolean>('notifications.finished', false) === true,
    },
    agents: {
      opencode: c.get<boolean>('agents.opencode.show', true) !== false,
      claude: c.get<boolean>('agents.claudeCode.show', true) !== false,
    },
    heuristicThresholdMs: clamp(c.get<number>('heuristicThreshold', 5000), 1000, 3_600_000, 5000),
    sessionSort: c.get<string>('sessions.sort', 'newest') === 'longestWaiting' ? 'longestWaiting' : 'newest',
    usage: {
      enabled: c.get<boolean>('usage.enabled', true) !== false,
      intervalSeconds: clamp(c.get<number>('usage.intervalSeconds', 300), 60, 3600, 300),
      baseUrl: (c.get<string>('usage.baseUrl') ?? '').trim(),
      userAgent: (c.get<string>('usage.userAgent') ?? '').trim(),
    },
  };
}

export class Config implements vscode.Disposable {
  private value: MonitorConfig;
  private readonly emitter = new vscode.EventEmitter<ConfigChange>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: vscode.Disposable;

  constructor(private readonly logger: Logger) {
    this.value = readConfig(logger);
    this.subscription = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration(SECTION)) return;
      const previous = this.value;
      this.value = readConfig(this.logger);
      this.emitter.fire({ previous, affects: (key) => e.affectsConfiguration(`${SECTION}.${key}`) });
    });
  }

  get current(): MonitorConfig {
    return this.value;
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }
}

/** A server URL as a key: no credentials, no trailing slash; undefined when not http(s). */
export function serverKey(url: string): string | undefined {
  try {
    const u = new URL(url.trim());
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  } catch {
    return undefined;
  }
}

function cleanEndpoints(raw: unknown, logger?: Logger): string[] {
  if (!Array.isArray(raw)) return [];
  const out: string[] = [];
  for (const entry of raw) {
    if (typeof entry !== 'string' || !entry.trim()) continue;
    const key = serverKey(entry);
    if (!key) {
      logger?.warn(`setting ${SECTION}.endpoints: ignoring "${entry.replace(/\/\/[^/@]*@/, '//')}" (not an http(s) URL)`);
      continue;
    }
    if (/\/\/[^/]*@/.test(entry)) {
      logger?.warn(`setting ${SECTION}.endpoints: credentials in ${key} are ignored; use "OpenCode: Set Server Password…" instead`);
    }
    if (!out.includes(key)) out.push(key);
  }
  return out;
}

function clamp(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function nonEmpty(value: unknown, fallback: string): string {
  return typeof value === 'string' && value.trim() ? value.trim() : fallback;
}
