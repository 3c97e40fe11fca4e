/**
 * Wiring only: services are created here in dependency order and disposed in reverse. Domain
 * logic lives in `src/core` (no `vscode` import there).
 */
import '../core/util/zodMode';
import * as vscode from 'vscode';
import { registerCommands } from './commands/registerCommands';
import { EndpointSync } from './endpointSync';
import { ServerPasswords } from './serverPasswords';
import { Config } from './settings';
import type { Logger } from '../core/log';
import { createMonitor } from '../core/createMonitor';
import type { Monitor } from '../core/monitor/monitor';
import type { AgentKind } from '../core/model/model';
import { ManagedServers } from './managedServers';
import { Notifications } from './notifications';
import { UsageMeter, dockerWatch, legacyFiles } from './features';
import { StatusBar } from './statusBar';
import { Terminals } from './terminals';
import { UsageConsent } from './usageConsent';
import { SessionTreeView } from './views/sessionTree';
import { LazyInsights } from './insights/lazyInsights';
import { describeError } from '../core/util/describe';
import { LabelStore } from '../core/labels/labelStore';

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
  // The labels file is shared with the other windows, the CLI and the daemon; disposed after the monitor.
  const labels = services.add(new LabelStore({ logger: log }).start());
  const { monitor, error } = startMonitor(config, log, servers, labels);
  services.addAsync(() => monitor.dispose());
  services.add(new EndpointSync(monitor, config, passwords));
  services.add(dockerWatch(monitor, config, log));
  const terminals = services.add(new Terminals(log));
  const tree = services.add(new SessionTreeView(monitor, log, config, context.workspaceState));
  if (error) tree.setError(error);
  services.add(new StatusBar(monitor));
  services.add(new Notifications(monitor, config, terminals, log));
  services.add(legacyFiles(monitor, config, log));
  const usage = services.add(new UsageMeter(monitor, config, log, String(context.extension.packageJSON.version), new UsageConsent(context.globalState)));
  const insights = services.add(new LazyInsights(context.extensionUri, log));
  services.add(registerCommands({ monitor, log, config, passwords, terminals, tree, servers, extensionId: context.extension.id, labels, refreshUsage: () => usage.refreshNow(), insights }));
  services.add(
    config.onDidChange((e) => {
      const c = config.current;
      if (e.affects('agents')) monitor.setHiddenAgents(hiddenAgents(c.agents));
      if (!e.affects('discovery') && !e.affects('heuristicThreshold')) return;
      monitor.setTuning({ discoveryIntervalMs: c.discoveryIntervalMs, heuristicThresholdMs: c.heuristicThresholdMs });
    }),
  );

  // Don't wait: the first scan only decides between "looking…" and "nothing found".
  void monitor.settle(SETTLE_TIMEOUT_MS).then(
    () => tree.markSettled(),
    (e: unknown) => {
      log.warn(`first scan: ${describeError(e)}`);
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

function startMonitor(config: Config, log: Logger, servers: ManagedServers, labels: LabelStore): { monitor: Monitor; error?: string } {
  const c = config.current;
  const options = {
    logger: log,
    labels,
    managed: servers.manager,
    localPassword: process.env.OPENCODE_SERVER_PASSWORD,
    discoveryIntervalMs: c.discoveryIntervalMs,
    heuristicThresholdMs: c.heuristicThresholdMs,
    hiddenAgents: hiddenAgents(c.agents),
  };
  try {
    return { monitor: createMonitor(options).start() };
  } catch (e) {
    const message = describeError(e);
    log.error(`cannot discover OpenCode processes: ${message}; watching configured servers only`);
    return { monitor: createMonitor({ ...options, discoverLocal: false }).start(), error: `Cannot look for OpenCode processes: ${message}` };
  }
}

function hiddenAgents(shown: Record<AgentKind, boolean>): AgentKind[] {
  return (Object.keys(shown) as AgentKind[]).filter((k) => !shown[k]);
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
