/**
 * Finds an Anthropic OAuth access token that can read the subscription usage, strictly
 * read-only: tokens are never refreshed, rewritten or copied (refresh tokens rotate, so a
 * monitor that refreshed would log Claude Code / OpenCode out — docs: usage-apis.md §3).
 *
 * Sources, in order, each optional; the first token that has not expired wins:
 *  1. Claude Code: `$CLAUDE_CONFIG_DIR/.credentials.json` or `~/.claude/.credentials.json`,
 *     then on macOS the Keychain item `Claude Code-credentials[-<hash>]`;
 *  2. OpenCode 1.x: `$XDG_DATA_HOME/opencode/auth.json` (default `~/.local/share/opencode`), `anthropic` OAuth entry;
 *  3. OpenCode 2.x: the `credential` table of `opencode.db` (`$OPENCODE_DB`), through `node:sqlite`
 *     when this Node has it.
 * The token lives only inside a UsageCredential (a private field that JSON and inspect never show).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNodeSqlite, wouldCreateWalFiles } from '../db/sqlite';
import type { SqliteDatabase, SqliteLoad } from '../db/sqlite';
import type { Logger } from '../log';
import { sourceLabel } from './format';
import { nullLogger } from '../log';
import type { Disposable } from '../util/events';
import { Emitter } from '../util/events';
import { redactSecrets } from './redact';
import { fileSignature } from '../util/fileSignature';
import { describeError } from '../util/describe';
import { decodeKeychainValue, keychainServices, securityKeychainReader } from './keychain';
import type { KeychainReader } from './keychain';
import { fromClaudeJson, fromOauthEntry, fromOpencodeAuthJson } from './tokenFormats';
import type { SourceResult } from './tokenFormats';
import { UsageCredential } from './usageCredential';
import type { CredentialLookup, CredentialProvider, CredentialSource } from './usageCredential';
import { everyAligned } from '../util/alignedDelay';

export interface CredentialStoreOptions {
  logger?: Logger;
  /** Reads HOME, CLAUDE_CONFIG_DIR, XDG_DATA_HOME, OPENCODE_DB, USER; nothing else. */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  now?: () => number;
  /** Defaults to `security find-generic-password` on macOS; never used elsewhere. */
  keychain?: KeychainReader;
  loadSqlite?: () => SqliteLoad;
  /** How often the credential files are stat-ed for changes. Default 5 s. */
  watchIntervalMs?: number;
  /** A token this close to its expiry counts as expired. Default 60 s. */
  expirySkewMs?: number;
}

const MAX_FILE_BYTES = 1024 * 1024;
const KEYCHAIN_RETRY_MS = 3600_000;

export interface CredentialPaths {
  claudeCredentials: string;
  claudeConfigDir?: string;
  opencodeAuth: string;
  opencodeDb: string;
}

/** Where the credential files are for this environment (xdg-basedir: an empty variable is unset). */
export function credentialPaths(env: NodeJS.ProcessEnv = process.env): CredentialPaths {
  const home = env.HOME || os.homedir();
  const claudeConfigDir = env.CLAUDE_CONFIG_DIR || undefined;
  const dataDir = env.XDG_DATA_HOME ? path.join(env.XDG_DATA_HOME, 'opencode') : path.join(home, '.local', 'share', 'opencode');
  const db = env.OPENCODE_DB && path.isAbsolute(env.OPENCODE_DB) ? env.OPENCODE_DB : path.join(dataDir, 'opencode.db');
  return {
    claudeCredentials: path.join(claudeConfigDir ?? path.join(home, '.claude'), '.credentials.json'),
    ...(claudeConfigDir ? { claudeConfigDir } : {}),
    opencodeAuth: path.join(dataDir, 'auth.json'),
    opencodeDb: db,
  };
}

/** True when `expiresAt` (ms) is past, or within `skewMs` of now. Unknown expiry: not expired. */
export function isExpired(expiresAt: number | undefined, now: number, skewMs = 60_000): boolean {
  return expiresAt !== undefined && expiresAt - skewMs <= now;
}

export class CredentialStore implements CredentialProvider {
  readonly paths: CredentialPaths;
  private readonly logger: Logger;
  private readonly platform: NodeJS.Platform;
  private readonly now: () => number;
  private readonly keychain: KeychainReader | undefined;
  private readonly account: string | undefined;
  private readonly loadSqlite: () => SqliteLoad;
  private readonly watchIntervalMs: number;
  private readonly skewMs: number;
  private readonly changes = new Emitter<void>();
  private readonly notes = new Set<string>();
  private keychainBlockedUntil = 0;
  private signatures = new Map<string, string>();
  private timer: Disposable | undefined;
  private disposed = false;

  constructor(options: CredentialStoreOptions = {}) {
    const env = options.env ?? process.env;
    this.paths = credentialPaths(env);
    this.logger = options.logger ?? nullLogger;
    this.platform = options.platform ?? process.platform;
    this.now = options.now ?? Date.now;
    this.keychain = this.platform === 'darwin' ? (options.keychain ?? securityKeychainReader()) : undefined;
    this.account = env.USER || safeUsername();
    this.loadSqlite = options.loadSqlite ?? (() => loadNodeSqlite());
    this.watchIntervalMs = options.watchIntervalMs ?? 5_000;
    this.skewMs = options.expirySkewMs ?? 60_000;
  }

  /** The files read (for humans and for grouping processes that share a poller). */
  files(): string[] {
    return [this.paths.claudeCredentials, this.paths.opencodeAuth, this.paths.opencodeDb];
  }

  onDidChange(listener: () => void): Disposable {
    return this.changes.event(listener);
  }

  /**
   * Stat-polls the JSON credential files. Polling, not fs.watch: they are replaced by rename,
   * their folders may not exist yet, and a few stats every 5 s cost nothing. The Keychain and the
   * DB have no cheap change signal; they are re-read on every resolve().
   */
  start(): void {
    if (this.timer || this.disposed) return;
    this.signatures = this.currentSignatures();
    this.timer = everyAligned(this.watchIntervalMs, () => this.checkFiles(), { unref: true });
  }

  dispose(): void {
    this.disposed = true;
    this.timer?.dispose();
    this.timer = undefined;
    this.changes.dispose();
  }

  async resolve(): Promise<CredentialLookup> {
    const now = this.now();
    const sources: Array<[CredentialSource, () => Promise<SourceResult>]> = [
      ['claude-code', () => this.readClaudeFile()],
      ['claude-code-keychain', () => this.readKeychain()],
      ['opencode-auth', () => this.readOpencodeAuth()],
      ['opencode-db', () => Promise.resolve(this.readOpencodeDb())],
    ];
    let expired: { source: CredentialSource; expiresAt?: number } | undefined;
    let unusable: { source: CredentialSource; reason: 'token_not_found' | 'missing_scope'; detail: string } | undefined;
    for (const [source, read] of sources) {
      let result: SourceResult;
      try {
        result = await read();
      } catch (error) {
        this.note(`${source}:error`, `usage credentials: cannot read ${source}: ${redactedErrorText(error)}`);
        continue;
      }
      if (result.kind === 'token') {
        if (!isExpired(result.expiresAt, now, this.skewMs)) {
          return { ok: true, credential: new UsageCredential(result.token, source, result.expiresAt) };
        }
        expired ??= { source, ...(result.expiresAt !== undefined ? { expiresAt: result.expiresAt } : {}) };
      } else if (result.kind === 'unusable') {
        // A token without the scope is more telling than a broken entry.
        if (!unusable || (unusable.reason === 'token_not_found' && result.reason === 'missing_scope')) unusable = { source, reason: result.reason, detail: result.detail };
      }
    }
    if (expired) {
      const when = expired.expiresAt !== undefined ? ` at ${new Date(expired.expiresAt).toISOString()}` : '';
      return {
        ok: false,
        reason: 'token_expired',
        source: expired.source,
        ...(expired.expiresAt !== undefined ? { expiresAt: expired.expiresAt } : {}),
        detail: `the Claude token from ${sourceLabel(expired.source)} expired${when}; open Claude Code (or OpenCode) to refresh it`,
      };
    }
    if (unusable) return { ok: false, reason: unusable.reason, source: unusable.source, detail: unusable.detail };
    return { ok: false, reason: 'auth_not_found', detail: 'no Claude sign-in found (Claude Code or OpenCode)' };
  }

  // ── sources ───────────────────────────────────────────────────────────────

  private async readClaudeFile(): Promise<SourceResult> {
    const text = await readSmallFile(this.paths.claudeCredentials);
    return text === undefined ? { kind: 'none' } : fromClaudeJson(text, this.paths.claudeCredentials);
  }

  private async readKeychain(): Promise<SourceResult> {
    if (!this.keychain || this.now() < this.keychainBlockedUntil) return { kind: 'none' };
    for (const service of keychainServices(this.paths.claudeConfigDir)) {
      let secret: string | undefined;
      try {
        secret = await this.keychain(service, this.account);
      } catch (error) {
        // Denied or locked: asking again every poll could pop a dialog each time.
        this.keychainBlockedUntil = this.now() + KEYCHAIN_RETRY_MS;
        this.note('keychain', `usage credentials: cannot read the Keychain item "${service}" (${redactedErrorText(error)}); not trying again for an hour`);
        return { kind: 'none' };
      }
      if (secret !== undefined) return fromClaudeJson(decodeKeychainValue(secret), `Keychain item "${service}"`);
    }
    return { kind: 'none' };
  }

  private async readOpencodeAuth(): Promise<SourceResult> {
    const file = this.paths.opencodeAuth;
    const text = await readSmallFile(file);
    if (text === undefined) return { kind: 'none' };
    return fromOpencodeAuthJson(text, file);
  }

  /** Skipped quietly without node:sqlite, without the DB, or while no OpenCode has it open. */
  private readOpencodeDb(): SourceResult {
    const file = this.paths.opencodeDb;
    if (!fs.existsSync(file)) return { kind: 'none' };
    // Opening a WAL database nobody has open would create its -wal/-shm files: not read-only.
    if (wouldCreateWalFiles(file)) return { kind: 'none' };
    const loaded = this.loadSqlite();
    if (!loaded.sqlite) {
      this.note('sqlite', `usage credentials: OpenCode 2.x credentials not read: ${loaded.reason}`, 'debug');
      return { kind: 'none' };
    }
    let db: SqliteDatabase | undefined;
    try {
      db = new loaded.sqlite.DatabaseSync(file, { readOnly: true, timeout: 1_000 });
      const table = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'credential'").get();
      if (!table) return { kind: 'none' };
      const rows = db
        .prepare("SELECT value FROM credential WHERE integration_id = 'anthropic' ORDER BY CASE WHEN active THEN 0 ELSE 1 END, time_updated DESC")
        .all() as Array<{ value?: unknown }>;
      let first: SourceResult = { kind: 'none' };
      for (const row of rows) {
        let value: unknown;
        try {
          value = typeof row.value === 'string' ? JSON.parse(row.value) : undefined;
        } catch {
          value = undefined;
        }
        const result = fromOauthEntry(value, `the anthropic credential in ${file}`);
        if (result.kind === 'token') return result;
        if (first.kind === 'none') first = result;
      }
      return first;
    } catch (error) {
      this.note('db', `usage credentials: cannot read ${file}: ${redactedErrorText(error)}`, 'debug');
      return { kind: 'none' };
    } finally {
      try {
        db?.close();
      } catch {
        // already closed
      }
    }
  }

  // ── change detection ──────────────────────────────────────────────────────

  private currentSignatures(): Map<string, string> {
    const out = new Map<string, string>();
    for (const file of [this.paths.claudeCredentials, this.paths.opencodeAuth]) out.set(file, fileSignature(file));
    return out;
  }

  private checkFiles(): void {
    if (this.disposed) return;
    const next = this.currentSignatures();
    const changed = [...next].some(([file, sig]) => this.signatures.get(file) !== sig);
    this.signatures = next;
    if (changed) this.changes.fire(undefined, (error) => this.logger.error(`usage credentials listener failed: ${redactedErrorText(error)}`));
  }

  private note(key: string, message: string, level: 'debug' | 'warn' = 'warn'): void {
    if (this.notes.has(key)) return;
    this.notes.add(key);
    this.logger[level](message);
  }
}

// ── I/O helpers ─────────────────────────────────────────────────────────────

async function readSmallFile(file: string): Promise<string | undefined> {
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined;
    throw error;
  }
  try {
    const st = await handle.stat();
    if (!st.isFile()) return undefined;
    if (st.size > MAX_FILE_BYTES) throw new Error(`${file} is larger than ${MAX_FILE_BYTES} bytes`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

function safeUsername(): string | undefined {
  try {
    return os.userInfo().username;
  } catch {
    return undefined;
  }
}

function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function redactedErrorText(error: unknown): string {
  return redactSecrets(describeError(error));
}
