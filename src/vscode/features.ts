/**
 * The features that follow a group of settings, each a thin wrapper around the core helper the
 * CLI calls too: usage meter, legacy SwiftBar files, Docker discovery.
 */
import * as vscode from 'vscode';
import type { Logger } from '../core/log';
import type { Monitor } from '../core/monitor/monitor';
import type { RunningUsage } from '../core/usage/monitorUsage';
import { describeError } from '../core/util/describe';
import { SettingFollower } from './settingFollower';
import type { Config } from './settings';
import type { UsageConsent } from './usageConsent';

/*
 * Loaded on first use, not at activation: each feature is off by default or can wait a moment,
 * and their code (zod schemas, file writers, the usage client) is a good part of what a `require`
 * of the bundle would otherwise evaluate. esbuild keeps a `require()` inside a function lazy: the
 * module is bundled but only evaluated when the function first runs.
 */
const loadUsage = () => require('../core/usage/monitorUsage') as typeof import('../core/usage/monitorUsage');
const loadLegacyFiles = () => require('../core/legacy/legacyFiles') as typeof import('../core/legacy/legacyFiles');
const loadDockerWatch = () => require('../core/discovery/dockerWatch') as typeof import('../core/discovery/dockerWatch');

const OWNER_LABEL = `VS Code window (pid ${process.pid})`;

/**
 * Claude subscription usage: one service per settings snapshot; only one process per user polls
 * the API (the others read its result).
 */
export class UsageMeter implements vscode.Disposable {
  private running: RunningUsage | undefined;
  private readonly follower: SettingFollower;
  private readonly proxyChanges: vscode.Disposable;
  private disposed = false;

  constructor(monitor: Monitor, config: Config, logger: Logger, version: string, consent: UsageConsent) {
    let follower: SettingFollower | undefined;
    this.follower = follower = new SettingFollower(config, 'usage', () => {
      const settings = config.current.usage;
      if (!settings.enabled) {
        monitor.setUsage(undefined);
        return undefined;
      }
      const answer = consent.answer();
      if (answer === false) {
        logger.info('usage meter off: declined when asked (setting opencodeMonitor.usage.enabled turns it back on)');
        monitor.setUsage(undefined);
        return undefined;
      }
      if (answer === undefined) {
        monitor.setUsage(undefined);
        if (consent.credentialsPresent()) {
          void consent.ask().then((granted) => {
            // Starts the meter with the answer now on record (a "no" keeps it off).
            if (granted && !this.disposed) follower?.refresh();
          });
        }
        return undefined;
      }
      try {
        const running = loadUsage().startUsage(monitor, {
          logger,
          ownerLabel: OWNER_LABEL,
          version,
          userAgent: settings.userAgent,
          baseUrl: settings.baseUrl || undefined,
          intervalSeconds: settings.intervalSeconds,
          // VS Code's proxy setting: undici does not go through VS Code's own proxy support.
          proxy: vscode.workspace.getConfiguration('http').get<string>('proxy') || undefined,
        });
        this.running = running;
        return {
          dispose: () => {
            if (this.running === running) this.running = undefined;
            void running.dispose();
          },
        };
      } catch (error) {
        logger.warn(`usage meter off: ${describeError(error)}`);
        monitor.setUsage(undefined);
        return undefined;
      }
    });
    // The proxy is read when the meter starts: a changed `http.proxy` starts it afresh.
    this.proxyChanges = vscode.workspace.onDidChangeConfiguration((e) => {
      if (!e.affectsConfiguration('http.proxy') || !this.running) return;
      logger.info('usage meter: http.proxy changed, restarting');
      this.follower.refresh();
    });
  }

  refreshNow(): void {
    this.running?.service.refreshNow();
  }

  dispose(): void {
    this.disposed = true;
    this.proxyChanges.dispose();
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
    const files = loadLegacyFiles().startLegacyFiles(monitor, { logger, ownerLabel: OWNER_LABEL, statePath, usagePath });
    logger.info(`legacy files on: ${statePath}, ${usagePath} (${files.isHolder() ? 'this window writes them' : 'another process writes them'})`);
    return files;
  });
}

/** Opt-in Docker discovery: the containers found go to the monitor. */
export function dockerWatch(monitor: Monitor, config: Config, logger: Logger): vscode.Disposable {
  return new SettingFollower(config, 'docker', () => {
    const { enabled, path } = config.current.docker;
    if (!enabled) return undefined;
    const watch = loadDockerWatch().watchDocker(monitor, { logger, binary: path });
    logger.info(`docker discovery on (${path} ps every 5 s)`);
    return watch;
  });
}
