/**
 * Wiring only: services are created here in dependency order and disposed in reverse. Domain
 * logic lives in `src/core` (no `vscode` import there).
 */
import * as vscode from 'vscode';
import { registerCommands } from './commands/registerCommands';
import type { ConfigChange } from './config';
import { Config, EndpointSync, ServerPasswords, changed } from './config';
import { LegacyWriter } from './core/legacy/legacyWriter';
import { WriterLock } from './core/legacy/writerLock';
import type { Logger } from './core/log';
import { createMonitor } from './core/monitor/createMonitor';
import { createUsageService } from './core/usage/service';
import type { UsageService } from './core/usage/service';
import type { Monitor } from './core/monitor/monitor';
import { DockerWatch } from './dockerWatch';
import { ManagedServers } from './managedServers';
import { Notifications } from './notifications';
import { StatusBar } from './statusBar';
import { Terminals } from './terminals';
import { SessionTreeView } from './views/sessionTree';

/** How long the view says "looking…" before an empty tree means "nothing found". */
const SETTLE_TIMEOUT_MS = 5_000;

/** Set by activate for deactivate, which must await the monitor's shutdown. */
let shutdown: (() => Promise<void>) | undefined;

export function activate(context: vscode.ExtensionContext): void {
  const services = new Services();
  context.subscriptions.push(services);
  shutdown = () => services.disposeAsync();

  const log = services.add(vscode.window.createOutputChannel('OpenCode Monitor', { log: true }));
  const config = services.add(new Config(log));
  const passwords = services.add(new ServerPasswords(context.secrets, context.globalState, log));
  // Before the monitor, so it is disposed after it: the watchers close before the servers stop.
  const servers = new ManagedServers(config, context.secrets, log, context.logUri.fsPath);
  services.addAsync(() => servers.dispose());
  const { monitor, error } = startMonitor(config, log, servers);
  services.addAsync(() => monitor.dispose());
  services.add(new EndpointSync(monitor, config, passwords));
  services.add(new DockerWatch(monitor, config, log));
  const terminals = services.add(new Terminals(log));
  const tree = services.add(new SessionTreeView(monitor, log));
  if (error) tree.setError(error);
  services.add(new StatusBar(monitor));
  services.add(new Notifications(monitor, config, terminals, log));
  services.add(new LegacyFiles(monitor, config, log));
  const usage = services.add(new UsageMeter(monitor, config, log, String(context.extension.packageJSON.version)));
  services.add(registerCommands({ monitor, log, config, passwords, terminals, tree, servers, extensionId: context.extension.id, refreshUsage: () => usage.refreshNow() }));
  services.add(
    config.onDidChange((e) => {
      if (!e.affects('discovery') && !e.affects('heuristicThreshold')) return;
      const c = config.current;
      monitor.setTuning({ discoveryIntervalMs: c.discoveryIntervalMs, heuristicThresholdMs: c.heuristicThresholdMs });
    }),
  );

  // Don't wait: the first scan only decides between "looking…" and "nothing found".
  void monitor.settle(SETTLE_TIMEOUT_MS).then(
    () => tree.markSettled(),
    (e: unknown) => {
      log.warn(`first scan: ${e instanceof Error ? e.message : String(e)}`);
      tree.markSettled();
    },
  );
  log.info(`OpenCode Monitor ${String(context.extension.packageJSON.version)} activated (pid ${process.pid})`);
}

export async function deactivate(): Promise<void> {
  const done = shutdown;
  shutdown = undefined;
  await done?.();
}

function startMonitor(config: Config, log: Logger, servers: ManagedServers): { monitor: Monitor; error?: string } {
  const c = config.current;
  const options = {
    logger: log,
    managed: servers.manager,
    localPassword: process.env.OPENCODE_SERVER_PASSWORD,
    discoveryIntervalMs: c.discoveryIntervalMs,
    heuristicThresholdMs: c.heuristicThresholdMs,
  };
  try {
    return { monitor: createMonitor(options).start() };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    log.error(`cannot discover OpenCode processes: ${message}; watching configured servers only`);
    return { monitor: createMonitor({ ...options, discoverLocal: false }).start(), error: `Cannot look for OpenCode processes: ${message}` };
  }
}

/**
 * Claude subscription usage follows its settings: one service per settings snapshot, replaced
 * when they change; only one process per user polls the API (the others read its result).
 */
class UsageMeter implements vscode.Disposable {
  private service: UsageService | undefined;
  private subscription: { dispose(): void } | undefined;
  private readonly configSubscription: vscode.Disposable;

  constructor(
    private readonly monitor: Monitor,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly version: string,
  ) {
    this.configSubscription = config.onDidChange((e) => this.onConfigChanged(e));
    this.onConfigChanged();
  }

  refreshNow(): void {
    this.service?.refreshNow();
  }

  dispose(): void {
    this.configSubscription.dispose();
    this.stop();
  }

  private onConfigChanged(e?: ConfigChange): void {
    if (!changed(e, 'usage')) return;
    this.stop();
    const settings = this.config.current.usage;
    if (!settings.enabled) {
      this.monitor.setUsage(undefined);
      return;
    }
    try {
      const service = createUsageService({
        logger: this.log,
        ownerLabel: `VS Code window (pid ${process.pid})`,
        version: this.version,
        userAgent: settings.userAgent,
        baseUrl: settings.baseUrl || undefined,
        intervalSeconds: settings.intervalSeconds,
      });
      this.subscription = service.onChange((usage) => this.monitor.setUsage(usage));
      this.service = service;
      service.start();
      this.monitor.setUsage(service.current());
    } catch (error) {
      this.log.warn(`usage meter off: ${error instanceof Error ? error.message : String(error)}`);
      this.monitor.setUsage(undefined);
    }
  }

  private stop(): void {
    this.subscription?.dispose();
    this.subscription = undefined;
    void this.service?.dispose();
    this.service = undefined;
  }
}

/**
 * The legacy SwiftBar files follow their setting: while on, this window competes for the
 * machine-wide writer lock and writes only while it holds it.
 */
class LegacyFiles implements vscode.Disposable {
  private running: { lock: WriterLock; writer: LegacyWriter; subscription: vscode.Disposable } | undefined;
  private readonly configSubscription: vscode.Disposable;

  constructor(
    private readonly monitor: Monitor,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    this.configSubscription = config.onDidChange((e) => this.onConfigChanged(e));
    this.onConfigChanged();
  }

  dispose(): void {
    this.configSubscription.dispose();
    this.stop();
  }

  private onConfigChanged(e?: ConfigChange): void {
    if (!changed(e, 'legacyFiles')) return;
    this.stop();
    const { enabled, statePath, usagePath } = this.config.current.legacyFiles;
    if (!enabled) return;
    const lock = new WriterLock({ ownerLabel: `VS Code window (pid ${process.pid})`, logger: this.log });
    const writer = new LegacyWriter({ lock, logger: this.log, statePath, usagePath });
    const subscription = this.monitor.onDidChange(() => writer.update(this.monitor.snapshot()));
    this.running = { lock, writer, subscription };
    lock.start();
    writer.update(this.monitor.snapshot());
    this.log.info(`legacy files on: ${statePath}, ${usagePath} (${lock.isHolder() ? 'this window writes them' : 'another process writes them'})`);
  }

  private stop(): void {
    if (!this.running) return;
    const { lock, writer, subscription } = this.running;
    this.running = undefined;
    subscription.dispose();
    writer.dispose(); // before the lock: it leaves "not connected" while still the holder
    lock.dispose();
  }
}

/** Disposes what was added in reverse order, awaiting asynchronous shutdowns (the monitor). */
class Services implements vscode.Disposable {
  private readonly items: Array<() => void | Promise<void>> = [];
  private disposing: Promise<void> | undefined;

  add<T extends vscode.Disposable>(item: T): T {
    this.items.push(() => item.dispose());
    return item;
  }

  addAsync(dispose: () => Promise<void>): void {
    this.items.push(dispose);
  }

  dispose(): void {
    void this.disposeAsync();
  }

  disposeAsync(): Promise<void> {
    this.disposing ??= (async () => {
      for (const dispose of this.items.splice(0).reverse()) {
        try {
          await dispose();
        } catch {
          // one failing shutdown must not keep the others from running
        }
      }
    })();
    return this.disposing;
  }
}
