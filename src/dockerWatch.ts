/** Opt-in Docker discovery: follows its settings and hands the containers found to the monitor. */
import type * as vscode from 'vscode';
import type { ConfigChange } from './config';
import { changed } from './config';
import type { Config } from './config';
import { DockerSource } from './core/discovery/dockerSource';
import type { Logger } from './core/log';
import type { Monitor } from './core/monitor/monitor';

export class DockerWatch implements vscode.Disposable {
  private running: { source: DockerSource; subscription: { dispose(): void } } | undefined;
  private readonly configSubscription: vscode.Disposable;

  constructor(
    private readonly monitor: Monitor,
    private readonly config: Config,
    private readonly logger: Logger,
  ) {
    this.configSubscription = config.onDidChange((e) => this.onConfigChanged(e));
    this.onConfigChanged();
  }

  dispose(): void {
    this.configSubscription.dispose();
    this.stop();
  }

  private onConfigChanged(e?: ConfigChange): void {
    if (!changed(e, 'docker')) return;
    this.stop();
    const { enabled, path } = this.config.current.docker;
    if (!enabled) return;
    const source = new DockerSource({ logger: this.logger, binary: path });
    const subscription = source.onChange((containers) => this.monitor.setContainers(containers));
    this.running = { source, subscription };
    source.start();
    this.logger.info(`docker discovery on (${path} ps every 5 s)`);
  }

  private stop(): void {
    if (!this.running) return;
    this.running.subscription.dispose();
    this.running.source.dispose();
    this.running = undefined;
    this.monitor.setContainers([]);
  }
}
