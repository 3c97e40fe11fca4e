/**
 * Services that follow a group of settings: each is started with the current settings and
 * started afresh (the previous one disposed first) whenever its group changes.
 */
import type * as vscode from 'vscode';
import type { Config, ConfigKey } from './config';
import { DockerSource } from './core/discovery/dockerSource';
import { LegacyWriter } from './core/legacy/legacyWriter';
import { WriterLock } from './core/legacy/writerLock';
import type { Logger } from './core/log';
import type { Monitor } from './core/monitor/monitor';
import { createUsageService } from './core/usage/service';
import type { UsageService } from './core/usage/service';

interface Stoppable {
  dispose(): void;
}

/** Runs `start` now and on every change of `key`; what it returned is disposed before the next run and on dispose. */
export class SettingFollower implements vscode.Disposable {
  private running: Stoppable | undefined;
  private readonly subscription: vscode.Disposable;

  constructor(
    config: Config,
    key: ConfigKey,
    private readonly start: () => Stoppable | undefined,
  ) {
    this.subscription = config.onDidChange((e) => {
      if (e.affects(key)) this.restart();
    });
    this.restart();
  }

  dispose(): void {
    this.subscription.dispose();
    this.stop();
  }

  private restart(): void {
    this.stop();
    this.running = this.start();
  }

  private stop(): void {
    const running = this.running;
    this.running = undefined;
    running?.dispose();
  }
}

/**
 * Claude subscription usage: one service per settings snapshot; only one process per user polls
 * the API (the others read its result).
 */
export class UsageMeter implements vscode.Disposable {
  private service: UsageService | undefined;
  private readonly follower: SettingFollower;

  constructor(monitor: Monitor, config: Config, logger: Logger, version: string) {
    this.follower = new SettingFollower(config, 'usage', () => {
      const settings = config.current.usage;
      if (!settings.enabled) {
        monitor.setUsage(undefined);
        return undefined;
      }
      try {
        const service = createUsageService({
          logger,
          ownerLabel: `VS Code window (pid ${process.pid})`,
          version,
          userAgent: settings.userAgent,
          baseUrl: settings.baseUrl || undefined,
          intervalSeconds: settings.intervalSeconds,
        });
        const subscription = service.onChange((usage) => monitor.setUsage(usage));
        this.service = service;
        service.start();
        monitor.setUsage(service.current());
        return {
          dispose: () => {
            subscription.dispose();
            if (this.service === service) this.service = undefined;
            void service.dispose();
          },
        };
      } catch (error) {
        logger.warn(`usage meter off: ${error instanceof Error ? error.message : String(error)}`);
        monitor.setUsage(undefined);
        return undefined;
      }
    });
  }

  refreshNow(): void {
    this.service?.refreshNow();
  }

  dispose(): void {
    this.follower.dispose();
  }
}

/**
 * The legacy SwiftBar files: while on, this window competes for the machine-wide writer lock and
 * writes only while it holds it.
 */
export function legacyFiles(monitor: Monitor, config: Config, logger: Logger): vscode.Disposable {
  return new SettingFollower(config, 'legacyFiles', () => {
    const { enabled, statePath, usagePath } = config.current.legacyFiles;
    if (!enabled) return undefined;
    const lock = new WriterLock({ ownerLabel: `VS Code window (pid ${process.pid})`, logger });
    const writer = new LegacyWriter({ lock, logger, statePath, usagePath });
    const subscription = monitor.onDidChange(() => writer.update(monitor.snapshot()));
    lock.start();
    writer.update(monitor.snapshot());
    logger.info(`legacy files on: ${statePath}, ${usagePath} (${lock.isHolder() ? 'this window writes them' : 'another process writes them'})`);
    return {
      dispose: () => {
        subscription.dispose();
        writer.dispose(); // before the lock: it leaves "not connected" while still the holder
        lock.dispose();
      },
    };
  });
}

/** Opt-in Docker discovery: the containers found go to the monitor. */
export function dockerWatch(monitor: Monitor, config: Config, logger: Logger): vscode.Disposable {
  return new SettingFollower(config, 'docker', () => {
    const { enabled, path } = config.current.docker;
    if (!enabled) return undefined;
    const source = new DockerSource({ logger, binary: path });
    const subscription = source.onChange((containers) => monitor.setContainers(containers));
    source.start();
    logger.info(`docker discovery on (${path} ps every 5 s)`);
    return {
      dispose: () => {
        subscription.dispose();
        source.dispose();
        monitor.setContainers([]);
      },
    };
  });
}
