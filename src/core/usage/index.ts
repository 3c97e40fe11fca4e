/** Claude subscription usage (credentials, API client, poller, one poller per user) and local spend. */
export { CredentialStore, KEYCHAIN_SERVICE, UsageCredential, credentialPaths, isExpired, keychainServices, normalizeEpochMs, securityKeychainReader, sourceLabel } from './credentials';
export type { CredentialAbsence, CredentialLookup, CredentialPaths, CredentialProvider, CredentialSource, CredentialStoreOptions, ExecFileText, KeychainReader } from './credentials';
export { formatCost, formatPercent, formatTokens, resetCountdown, resetDay, spendText, usageAge, usageErrorText, usageLevel, usageStatusLine } from './format';
export type { UsageLevel } from './format';
export { redactSecrets, safeExcerpt } from './redact';
export { createUsageService } from './service';
export type { UsageService, UsageServiceOptions } from './service';
export { SharedUsage, ensurePrivateDir, parseCache, usageShareDir, usageShareKey, usageSharePaths, withAge } from './sharedUsage';
export type { SharedUsageOptions, UsageCacheFile, UsageRole } from './sharedUsage';
export { sessionSpendText, startOfLocalDay, summarizeSpend, totalTokens } from './spend';
export type { ModelSpend, SpendSummary, SpendTotals } from './spend';
export {
  ANTHROPIC_BETA,
  BASE_URL_ENV,
  DEFAULT_USAGE_BASE_URL,
  DEFAULT_USAGE_TIMEOUT_MS,
  USAGE_PATH,
  UsageApiError,
  UsageClient,
  checkUsageBaseUrl,
  defaultUserAgent,
  normalizeResetsAt,
  parseRetryAfter,
  parseUsageResponse,
  resolveUsageBaseUrl,
} from './usageClient';
export type { UsageApiErrorKind, UsageClientOptions, UsageData, UsageFetcher } from './usageClient';
export { DEFAULT_USAGE_INTERVAL_MS, MAX_USAGE_BACKOFF_MS, MIN_USAGE_INTERVAL_MS, UsagePoller, clampUsageInterval, systemClock } from './usagePoller';
export type { Clock, LastGoodUsage, UsagePollerOptions, UsagePollerState } from './usagePoller';
