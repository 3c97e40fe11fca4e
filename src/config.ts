/**
 * Typed settings, read as one snapshot, plus the server passwords kept in SecretStorage (never
 * in settings.json). Services that start and stop with a group of settings use
 * `SettingFollower` (src/settingServices.ts).
 */
import * as vscode from 'vscode';
import type { Logger } from './core/log';
import type { EndpointConfig, Monitor } from './core/monitor/monitor';
import type { MonitorSnapshot } from './core/monitor/model';
import { DEFAULT_STATE_PATH, DEFAULT_USAGE_PATH } from './core/legacy/legacyWriter';

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
  /** Servers without the permission API: a tool running longer than this counts as "maybe waiting" (ms). */
  heuristicThresholdMs: number;
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

export type ConfigKey = 'discovery' | 'endpoints' | 'opencodePath' | 'servers' | 'docker' | 'legacyFiles' | 'notifications' | 'heuristicThreshold' | 'usage';

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
    heuristicThresholdMs: clamp(c.get<number>('heuristicThreshold', 5000), 1000, 3_600_000, 5000),
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

// ── Server passwords ───────────────────────────────────────────────────────

const SECRET_PREFIX = `${SECTION}.serverPassword:`;
/** SecretStorage cannot list its keys: the URLs (not the passwords) are remembered here. */
const URLS_KEY = `${SECTION}.serverPasswordUrls`;

/** Passwords per server URL in SecretStorage, cached in memory for synchronous reads. */
export class ServerPasswords implements vscode.Disposable {
  private readonly cache = new Map<string, string>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly subscription: vscode.Disposable;
  readonly ready: Promise<void>;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
    private readonly logger: Logger,
  ) {
    // Another window may set or clear a password.
    this.subscription = secrets.onDidChange((e) => {
      if (e.key.startsWith(SECRET_PREFIX)) void this.reload(e.key.slice(SECRET_PREFIX.length)).then(() => this.emitter.fire());
    });
    this.ready = Promise.all(this.urls().map((url) => this.reload(url))).then(() => undefined);
  }

  get(url: string): string | undefined {
    const key = serverKey(url);
    return key ? this.cache.get(key) : undefined;
  }

  /** URLs that have a password. */
  urls(): string[] {
    return this.state.get<string[]>(URLS_KEY, []);
  }

  /** Stores a password; an empty one removes it. */
  async set(url: string, password: string | undefined): Promise<void> {
    const key = serverKey(url);
    if (!key) throw new Error(`not an http(s) URL: ${url}`);
    const urls = new Set(this.urls());
    if (password) {
      await this.secrets.store(SECRET_PREFIX + key, password);
      this.cache.set(key, password);
      urls.add(key);
    } else {
      await this.secrets.delete(SECRET_PREFIX + key);
      this.cache.delete(key);
      urls.delete(key);
    }
    await this.state.update(URLS_KEY, [...urls]);
    this.emitter.fire();
  }

  dispose(): void {
    this.subscription.dispose();
    this.emitter.dispose();
  }

  private async reload(key: string): Promise<void> {
    try {
      const value = await this.secrets.get(SECRET_PREFIX + key);
      if (value) this.cache.set(key, value);
      else this.cache.delete(key);
    } catch (error) {
      this.logger.warn(`cannot read the password of ${key}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
}

/**
 * Hands the monitor its endpoints: the configured ones with their passwords, plus discovered
 * local servers a password was set for (as endpoints of the same URL, so the monitor keeps one
 * instance and uses that password), only while they are discovered.
 */
export function endpointsFor(configured: readonly string[], passwords: ServerPasswords, snapshot: MonitorSnapshot): EndpointConfig[] {
  const endpoints: EndpointConfig[] = configured.map((url) => withPassword(url, passwords.get(url)));
  const listed = new Set(configured);
  for (const instance of snapshot.instances) {
    if (instance.kind === 'endpoint' || !instance.url) continue;
    const key = serverKey(instance.url);
    const password = key ? passwords.get(key) : undefined;
    if (key && password && !listed.has(key)) {
      listed.add(key);
      endpoints.push({ url: key, password });
    }
  }
  return endpoints;
}

function withPassword(url: string, password: string | undefined): EndpointConfig {
  return password ? { url, password } : { url };
}

/** Keeps `monitor.setEndpoints` in line with settings, passwords and discovery. */
export class EndpointSync implements vscode.Disposable {
  private last = '';
  private readonly subscriptions: vscode.Disposable[] = [];
  private started = false;

  constructor(
    private readonly monitor: Monitor,
    private readonly config: Config,
    private readonly passwords: ServerPasswords,
  ) {
    this.subscriptions.push(
      config.onDidChange((e) => {
        if (e.affects('endpoints')) this.sync();
      }),
      passwords.onDidChange(() => this.sync()),
      monitor.onDidChange((change) => {
        if (change.instances.length > 0) this.sync();
      }),
    );
    // The first call waits for the stored passwords, so no server is tried without its password.
    void passwords.ready.then(() => {
      this.started = true;
      this.sync();
    });
  }

  sync(): void {
    if (!this.started) return;
    const endpoints = endpointsFor(this.config.current.endpoints, this.passwords, this.monitor.snapshot());
    // The key holds passwords only to notice a change; it never leaves this object.
    const key = JSON.stringify(endpoints);
    if (key === this.last) return;
    this.last = key;
    this.monitor.setEndpoints(endpoints);
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
