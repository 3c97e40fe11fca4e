/**
 * Runs a service that follows a group of settings: started with the current settings and started
 * afresh (the previous one disposed first) whenever its group changes.
 */
import type * as vscode from 'vscode';
import type { Config, ConfigKey } from './settings';

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

  /** Runs `start` again with the same settings (something else it depends on changed). */
  refresh(): void {
    this.restart();
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
