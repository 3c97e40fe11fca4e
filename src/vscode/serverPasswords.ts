/** Server passwords per URL in SecretStorage (never in settings.json). */
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import { SECTION, serverKey } from './settings';
import { describeError } from '../core/util/describe';

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
      this.logger.warn(`cannot read the password of ${key}: ${describeError(error)}`);
    }
  }
}
