/**
 * The usage feature put together, for the CLI and the extension: credentials → client → poller,
 * behind the one-poller-per-user election. Settings map 1:1 onto the options:
 * `opencodeMonitor.usage.intervalSeconds` → intervalSeconds, `.baseUrl` → baseUrl,
 * `.userAgent` → userAgent (`.enabled` decides whether to create the service at all).
 */
import type { Logger } from '../log';
import type { UsageModel } from '../model/model';
import type { Disposable } from '../util/events';
import { CredentialStore } from './credentials';
import type { CredentialStoreOptions } from './credentials';
import { SharedUsage, usageShareKey } from './sharedUsage';
import type { UsageRole } from './sharedUsage';
import { UsageClient, defaultUserAgent, resolveUsageBaseUrl, userAgentOr } from './usageClient';
import { UsagePoller, clampUsageInterval } from './usagePoller';
import type { Clock } from './usagePoller';

export interface UsageServiceOptions {
  logger: Logger;
  /** Shown in the lock file: who polls. */
  ownerLabel: string;
  /** Of the extension / CLI, for the default User-Agent `opencode-monitor/<version>`. */
  version: string;
  /** Overrides the User-Agent; empty means the default. */
  userAgent?: string;
  /** The setting; OPENCODE_MONITOR_ANTHROPIC_BASE_URL wins over it. */
  baseUrl?: string;
  /** Default 300, minimum 60. */
  intervalSeconds?: number;
  env?: NodeJS.ProcessEnv;
  /** Folder of the shared lock and cache (default /tmp/opencode-monitor-<uid>). */
  shareDir?: string;
  timeoutMs?: number;
  /** Proxy for the usage API (VS Code's `http.proxy`); HTTPS_PROXY / NO_PROXY from `env` otherwise. */
  proxy?: string;
  clock?: Clock;
  credentials?: Omit<CredentialStoreOptions, 'logger' | 'env'>;
}

export interface UsageService {
  start(): void;
  current(): UsageModel | undefined;
  onChange(listener: (usage: UsageModel | undefined) => void): Disposable;
  refreshNow(): void;
  /** Resolves once a first value is known, or after `timeoutMs`. */
  settle(timeoutMs?: number): Promise<void>;
  readonly role: UsageRole;
  /** Where the shared lock and cache live (for diagnostics). */
  readonly cachePath: string;
  dispose(): Promise<void>;
}

export function createUsageService(options: UsageServiceOptions): UsageService {
  const env = options.env ?? process.env;
  const logger = options.logger;
  const baseUrl = resolveUsageBaseUrl(options.baseUrl, env);
  const intervalMs = clampUsageInterval(options.intervalSeconds !== undefined ? options.intervalSeconds * 1000 : undefined);
  const credentials = new CredentialStore({ ...options.credentials, logger, env });
  const client = new UsageClient({
    baseUrl,
    userAgent: userAgentOr(options.userAgent, defaultUserAgent(options.version)),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    ...(options.proxy ? { proxy: options.proxy } : {}),
    env,
  });
  const shared = new SharedUsage({
    logger,
    ownerLabel: options.ownerLabel,
    key: usageShareKey([baseUrl, ...credentials.files()]),
    intervalMs,
    ...(options.shareDir ? { dir: options.shareDir } : {}),
    ...(options.clock ? { now: () => options.clock!.now() } : {}),
    createPoller: (initial) => {
      credentials.start();
      return new UsagePoller({ credentials, client, logger, intervalMs, ...(options.clock ? { clock: options.clock } : {}), ...(initial ? { initialState: initial } : {}) });
    },
  });
  return {
    start: () => shared.start(),
    current: () => shared.current(),
    onChange: (listener) => shared.onChange(listener),
    refreshNow: () => shared.refreshNow(),
    settle: (timeoutMs) => shared.settle(timeoutMs),
    get role() {
      return shared.currentRole;
    },
    cachePath: shared.paths.cache,
    dispose: async () => {
      shared.dispose();
      credentials.dispose();
      await client.close();
    },
  };
}
