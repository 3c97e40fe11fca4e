/** Pushes the configured and password-protected endpoints into the monitor. */
import type * as vscode from 'vscode';
import type { Monitor } from '../core/monitor/monitor';
import type { EndpointConfig } from '../core/monitor/ports';
import type { MonitorSnapshot } from '../core/model/model';
import type { Config } from './settings';
import type { ServerPasswords } from './serverPasswords';
import { serverKey } from './settings';

/**
 * Hands the monitor its endpoints: the configured ones with their passwords, plus discovered
 * local servers a password was set for (as endpoints of the same URL, so the monitor keeps one
 * instance and uses that password), only while they are discovered.
 */
export function endpointsFor(configured: readonly string[], passwords: ServerPasswords, snapshot: MonitorSnapshot): EndpointConfig[] {
  const endpoints: EndpointConfig[] = configured.map((url) => withPassword(url, passwords.get(url)));
  const listed = new Set(configured);
  for (const instance of snapshot.instances) {
    if (instance.kind === 'endpoint' || !instance.url) continue;
    const key = serverKey(instance.url);
    const password = key ? passwords.get(key) : undefined;
    if (key && password && !listed.has(key)) {
      listed.add(key);
      endpoints.push({ url: key, password });
    }
  }
  return endpoints;
}

function withPassword(url: string, password: string | undefined): EndpointConfig {
  return password ? { url, password } : { url };
}

/** Keeps `monitor.setEndpoints` in line with settings, passwords and discovery. */
export class EndpointSync implements vscode.Disposable {
  private last = '';
  private readonly subscriptions: vscode.Disposable[] = [];
  private started = false;

  constructor(
    private readonly monitor: Monitor,
    private readonly config: Config,
    private readonly passwords: ServerPasswords,
  ) {
    this.subscriptions.push(
      config.onDidChange((e) => {
        if (e.affects('endpoints')) this.sync();
      }),
      passwords.onDidChange(() => this.sync()),
      monitor.onDidChange((change) => {
        if (change.instances.length > 0) this.sync();
      }),
    );
    // The first call waits for the stored passwords, so no server is tried without its password.
    void passwords.ready.then(() => {
      this.started = true;
      this.sync();
    });
  }

  sync(): void {
    if (!this.started) return;
    const endpoints = endpointsFor(this.config.current.endpoints, this.passwords, this.monitor.snapshot());
    // The key holds passwords only to notice a change; it never leaves this object.
    const key = JSON.stringify(endpoints);
    if (key === this.last) return;
    this.last = key;
    this.monitor.setEndpoints(endpoints);
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }
}
