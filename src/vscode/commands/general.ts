/** Refresh, log, settings, server passwords, and probing a server by URL. */
import * as vscode from 'vscode';
import type { Config } from '../settings';
import type { ServerPasswords } from '../serverPasswords';
import { serverKey } from '../settings';
import type { Logger } from '../../core/log';
import { instanceLabel } from '../../core/present/format';
import type { Monitor } from '../../core/monitor/monitor';
import { OpencodeClient } from '../../core/opencode/client';
import { SESSIONS_VIEW_ID, WALKTHROUGH_ID } from '../../core/present/commandIds';
import { plainText } from '../../core/present/neutralize';
import { refOf, reportFailure } from './targets';

export async function refresh(monitor: Monitor, logger: Logger): Promise<void> {
  try {
    await vscode.window.withProgress({ location: { viewId: SESSIONS_VIEW_ID } }, () => monitor.refresh());
  } catch (error) {
    reportFailure(logger, 'Refreshing OpenCode instances', error);
  }
}

export async function openSettings(extensionId: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openSettings', `@ext:${extensionId}`);
}

export async function openWalkthrough(extensionId: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.openWalkthrough', `${extensionId}#${WALKTHROUGH_ID}`, false);
}

export async function setServerPassword(monitor: Monitor, config: Config, passwords: ServerPasswords, logger: Logger, arg: unknown): Promise<void> {
  const url = refOf(arg).url ?? (await pickServerUrl(monitor, config, passwords));
  const key = url ? serverKey(url) : undefined;
  if (!key) return;
  const had = passwords.get(key) !== undefined;
  const password = await vscode.window.showInputBox({
    title: `Password for ${key}`,
    prompt: `The server's OPENCODE_SERVER_PASSWORD (user “opencode”). It is kept in VS Code's secret storage.${had ? ' Leave empty to remove the stored one.' : ''}`,
    password: true,
    ignoreFocusOut: true,
  });
  if (password === undefined || (!password && !had)) return;
  try {
    await passwords.set(key, password || undefined);
    logger.info(`${password ? 'Stored' : 'Removed'} the password of ${key}`);
    vscode.window.setStatusBarMessage(`$(key) ${password ? 'Password stored' : 'Password removed'} for ${key}`, 4_000);
  } catch (error) {
    reportFailure(logger, `Storing the password of ${key}`, error);
  }
}

async function pickServerUrl(monitor: Monitor, config: Config, passwords: ServerPasswords): Promise<string | undefined> {
  interface UrlItem extends vscode.QuickPickItem {
    url?: string;
  }
  const items: UrlItem[] = [];
  const seen = new Set<string>();
  const push = (url: string, label: string, description: string) => {
    const key = serverKey(url);
    if (!key || seen.has(key)) return;
    seen.add(key);
    items.push({ label, description, detail: passwords.get(key) ? '$(key) password stored' : undefined, url: key });
  };
  for (const instance of monitor.snapshot().instances) {
    if (instance.url) push(instance.url, instanceLabel(instance), instance.error ?? instance.url);
  }
  for (const url of config.current.endpoints) push(url, url, 'configured endpoint');
  for (const url of passwords.urls()) push(url, url, 'stored password');
  items.push({ label: '$(edit) Other server URL…', alwaysShow: true });
  const picked = await vscode.window.showQuickPick(items, { placeHolder: 'Set the password of which OpenCode server?', matchOnDescription: true });
  if (!picked) return undefined;
  if (picked.url) return picked.url;
  return vscode.window.showInputBox({
    title: 'OpenCode server URL',
    prompt: 'Base URL, without user or password',
    value: 'http://127.0.0.1:4096',
    ignoreFocusOut: true,
    validateInput: (v) => (serverKey(v) ? (/\/\/[^/]*@/.test(v) ? 'Leave the password out of the URL' : undefined) : 'An http(s) URL'),
  });
}

export async function probeServer(logger: Logger, passwords: ServerPasswords): Promise<void> {
  const url = await vscode.window.showInputBox({
    title: 'Probe an OpenCode server',
    prompt: 'Base URL of a running `opencode serve`',
    value: 'http://127.0.0.1:4096',
    ignoreFocusOut: true,
    validateInput: (v) => (serverKey(v) ? undefined : 'An http(s) URL'),
  });
  if (!url) return;
  const key = serverKey(url) ?? url;
  const client = new OpencodeClient({ url, password: passwords.get(key) ?? process.env.OPENCODE_SERVER_PASSWORD }, { logger });
  try {
    const capabilities = await client.capabilities();
    const sessions = await client.sessions();
    const message = `${client.instance}: OpenCode ${capabilities.version}, ${sessions.length} session(s)`;
    logger.info(message, capabilities);
    void vscode.window.showInformationMessage(plainText(message));
  } catch (error) {
    reportFailure(logger, `Probing ${key}`, error);
  } finally {
    await client.close();
  }
}
