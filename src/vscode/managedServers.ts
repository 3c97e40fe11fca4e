/**
 * The servers this window starts: one ServerManager (src/core/servers) fed by the settings, with
 * its password in SecretStorage. Every server it started is stopped when the extension
 * deactivates, and killed outright if the extension host exits before that finished.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Config } from './settings';
import type { Logger } from '../core/log';
import { ServerManager, resolveOpencodeBinary } from '../core/servers/serverManager';
import type { ManagedServerHandle, ManagedServerInfo } from '../core/servers/types';

const PASSWORD_KEY = 'opencodeMonitor.managedServerPassword';
/** VS Code waits only a few seconds for deactivate: past this, graceful becomes forced. */
const DEACTIVATE_GRACE_MS = 4_000;

export class ManagedServers {
  readonly manager: ServerManager;
  private readonly subscription: vscode.Disposable;
  /** A host that exits without deactivating (crash, kill) must not leave servers behind. */
  private readonly onExit = (): void => this.manager.killAllSync();

  constructor(
    private readonly config: Config,
    private readonly secrets: vscode.SecretStorage,
    private readonly logger: Logger,
    logDir: string,
  ) {
    this.manager = new ServerManager({
      logger,
      logDir,
      binary: () => this.binary(),
      restart: { enabled: config.current.servers.restartOnCrash },
    });
    this.subscription = config.onDidChange((e) => {
      if (e.affects('servers')) this.manager.setRestartPolicy({ enabled: this.config.current.servers.restartOnCrash });
    });
    process.once('exit', this.onExit);
  }

  /** The `opencode` to run: the setting, else PATH. Throws a clear error when there is none. */
  binary(): string {
    return resolveOpencodeBinary(this.config.current.opencodePath || undefined);
  }

  list(): ManagedServerInfo[] {
    return this.manager.list();
  }

  async start(folder: string): Promise<ManagedServerHandle> {
    const password = this.config.current.servers.requirePassword ? await this.password() : undefined;
    return this.manager.start(folder, password ? { password } : {});
  }

  passwordFor(url: string): string | undefined {
    return this.manager.passwordFor(url);
  }

  /** Generated once per machine user and kept in secret storage; never shown or logged. */
  private async password(): Promise<string> {
    const stored = await this.secrets.get(PASSWORD_KEY);
    if (stored) return stored;
    const created = randomBytes(24).toString('base64url');
    await this.secrets.store(PASSWORD_KEY, created);
    this.logger.info('generated the password of managed OpenCode servers (kept in secret storage)');
    return created;
  }

  async dispose(): Promise<void> {
    this.subscription.dispose();
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), DEACTIVATE_GRACE_MS)));
    if ((await Promise.race([this.manager.dispose(), late])) === 'late') {
      this.logger.warn(`managed servers still stopping after ${DEACTIVATE_GRACE_MS} ms: killing them`);
      this.manager.killAllSync();
    }
    clearTimeout(timer);
    process.removeListener('exit', this.onExit);
  }
}
