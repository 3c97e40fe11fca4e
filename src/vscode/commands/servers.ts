/**
 * Servers and terminals this extension starts: Start/Stop/Restart a managed `opencode serve`,
 * its log, a terminal for it, and "Open OpenCode in Terminal" (the TUI with a known port, so it
 * is watched live from the first second and its terminal is known exactly).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { basename, formatDuration, instanceLabel } from '../../core/present/format';
import type { InstanceModel } from '../../core/model/model';
import type { Monitor } from '../../core/monitor/monitor';
import type { ManagedServerInfo } from '../../core/servers/types';
import { freePort } from '../../core/util/freePort';
import type { ManagedServers } from '../managedServers';
import type { Terminals } from '../terminals';
import { refOf, reportFailure } from './targets';
import { describeError } from '../../core/util/describe';
import { plainText } from '../../core/present/neutralize';

export interface ServerCommandServices {
  monitor: Monitor;
  servers: ManagedServers;
  terminals: Terminals;
  log: vscode.LogOutputChannel;
}

export async function startServer(s: ServerCommandServices, arg: unknown): Promise<void> {
  const folder = await pickFolder(arg, 'Start an OpenCode server in which folder?');
  if (!folder || !(await trusted(folder))) return;
  const name = basename(folder);
  const started = Date.now();
  try {
    const handle = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Starting an OpenCode server in ${name}…` },
      () => s.servers.start(folder),
    );
    const info = handle.info();
    s.log.info(`managed server ${info.id} in ${folder} runs at ${info.url} (pid ${info.pid}, ready after ${Date.now() - started} ms)`);
    vscode.window.setStatusBarMessage(`$(server-process) OpenCode server for ${name} runs at ${info.url}`, 5_000);
  } catch (error) {
    await reportServerFailure(s, `Starting an OpenCode server in ${name}`, error);
  }
}

export async function stopServer(s: ServerCommandServices, arg: unknown): Promise<void> {
  const info = await pickManaged(s, arg, 'Stop which OpenCode server?');
  if (!info) return;
  const started = Date.now();
  try {
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: `Stopping OpenCode server ${basename(info.folder)}` }, () =>
      s.servers.manager.stop(info.id),
    );
    s.log.info(`managed server ${info.id} in ${info.folder} stopped in ${Date.now() - started} ms`);
  } catch (error) {
    reportFailure(s.log, `Stopping the OpenCode server of ${basename(info.folder)}`, error);
  }
}

export async function restartServer(s: ServerCommandServices, arg: unknown): Promise<void> {
  const info = await pickManaged(s, arg, 'Restart which OpenCode server?');
  if (!info) return;
  try {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Restarting the OpenCode server of ${basename(info.folder)}…` },
      () => s.servers.manager.restart(info.id),
    );
  } catch (error) {
    await reportServerFailure(s, `Restarting the OpenCode server of ${basename(info.folder)}`, error);
  }
}

export async function showServerLog(s: ServerCommandServices, arg: unknown): Promise<void> {
  const info = await pickManaged(s, arg, 'Show the log of which OpenCode server?');
  if (!info) return;
  if (!info.logFile || !fs.existsSync(info.logFile)) {
    void vscode.window.showInformationMessage(plainText(`The OpenCode server of ${basename(info.folder)} has no log file yet.`));
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(info.logFile), { preview: true });
}

/** A shell in the server's folder that knows the server: OPENCODE_SERVER (and its password). */
export async function newServerTerminal(s: ServerCommandServices, arg: unknown): Promise<void> {
  const info = await pickManaged(s, arg, 'Open a terminal for which OpenCode server?', (i) => i.url !== undefined && i.state === 'running');
  if (!info?.url) return;
  const password = s.servers.passwordFor(info.url);
  const terminal = vscode.window.createTerminal({
    name: `OpenCode server ${basename(info.folder)}`,
    cwd: info.folder,
    iconPath: new vscode.ThemeIcon('server-process'),
    env: { OPENCODE_SERVER: info.url, ...(password ? { OPENCODE_SERVER_PASSWORD: password } : {}) },
    // The server stops with the window: a restored terminal would point at nothing (and keep the password).
    isTransient: true,
  });
  terminal.show();
}

/** `opencode --port <free port>` in a terminal of its own: live from the first second. */
export async function openInTerminal(s: ServerCommandServices, arg: unknown): Promise<void> {
  const folder = await pickFolder(arg, 'Open OpenCode in which folder?');
  if (!folder || !(await trusted(folder))) return;
  let binary: string;
  try {
    binary = s.servers.binary();
  } catch (error) {
    await reportServerFailure(s, 'Opening OpenCode in a terminal', error);
    return;
  }
  try {
    const port = await freePort();
    const args = ['--port', String(port)];
    // A Windows npm shim is a .cmd: it needs cmd.exe, and `/s /c "<whole line>"` keeps a path with spaces whole.
    const viaCmd = process.platform === 'win32' && /\.(cmd|bat)$/i.test(binary);
    const terminal = vscode.window.createTerminal({
      name: `OpenCode ${basename(folder)}`,
      cwd: folder,
      iconPath: new vscode.ThemeIcon('terminal'),
      shellPath: viaCmd ? (process.env.ComSpec ?? 'cmd.exe') : binary,
      shellArgs: viaCmd ? `/d /s /c ""${binary}" ${args.join(' ')}"` : args,
      env: { OPENCODE_CALLER: 'vscode' },
      // Not brought back by a reload: its OpenCode would be a new process on a port nobody links.
      isTransient: true,
    });
    s.terminals.link(port, terminal);
    terminal.show();
    s.log.info(`opened OpenCode in a terminal for ${folder} on port ${port}`);
    // Discovery finds it within its interval; a scan now makes the row appear sooner.
    setTimeout(() => void s.monitor.refresh().catch(() => undefined), 1_500);
  } catch (error) {
    reportFailure(s.log, 'Opening OpenCode in a terminal', error);
  }
}

// ── Helpers ────────────────────────────────────────────────────────────────

async function reportServerFailure(s: ServerCommandServices, what: string, error: unknown): Promise<void> {
  const detail = describeError(error);
  s.log.warn(`${what} failed: ${detail}`);
  const notFound = /not found|ENOENT/i.test(detail);
  const actions = notFound ? ['Open Settings', 'Show Log'] : ['Show Log'];
  // A toast shows one paragraph: the reason and its last stderr lines, folded onto it.
  const choice = await vscode.window.showErrorMessage(plainText(`${what} failed: ${oneParagraph(detail, 500)}`), ...actions);
  if (choice === 'Show Log') s.log.show(true);
  if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'opencodeMonitor.opencodePath');
}

function oneParagraph(text: string, max: number): string {
  const folded = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ⏎ ');
  return folded.length <= max ? folded : `${folded.slice(0, max - 1)}…`;
}

/** The folder from the argument (an explorer Uri, a row), else the only workspace folder, else a pick. */
async function pickFolder(arg: unknown, placeHolder: string): Promise<string | undefined> {
  if (arg instanceof vscode.Uri && arg.scheme === 'file') return directoryOf(arg.fsPath);
  if (typeof arg === 'string' && path.isAbsolute(arg)) return directoryOf(arg);
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file');
  if (folders.length === 1) return folders[0]!.uri.fsPath;
  if (folders.length > 1) {
    // Only folders on disk: OpenCode cannot run in a virtual one.
    const picked = await vscode.window.showQuickPick(
      folders.map((f) => ({ label: f.name, description: f.uri.fsPath, path: f.uri.fsPath })),
      { placeHolder },
    );
    return picked?.path;
  }
  const picked = await vscode.window.showOpenDialog({ canSelectFolders: true, canSelectFiles: false, canSelectMany: false, openLabel: 'Use This Folder', title: placeHolder });
  return picked?.[0]?.fsPath;
}

function directoryOf(p: string): string {
  try {
    return fs.statSync(p).isDirectory() ? p : path.dirname(p);
  } catch {
    return p;
  }
}

/** OpenCode reads the folder's configuration (plugins, MCP servers, commands): ask first in an untrusted workspace. */
async function trusted(folder: string): Promise<boolean> {
  if (vscode.workspace.isTrusted) return true;
  const choice = await vscode.window.showWarningMessage(
    plainText(`This workspace is not trusted. OpenCode reads the configuration of ${basename(folder)} (plugins, MCP servers) and may run its commands.`),
    { modal: true },
    'Start Anyway',
  );
  return choice === 'Start Anyway';
}

async function pickManaged(
  s: ServerCommandServices,
  arg: unknown,
  placeHolder: string,
  filter: (info: ManagedServerInfo) => boolean = () => true,
): Promise<ManagedServerInfo | undefined> {
  const list = s.servers.list().filter(filter);
  const ref = refOf(arg);
  if (ref.instanceId !== undefined) {
    const instance = s.monitor.snapshot().instances.find((i) => i.id === ref.instanceId);
    const id = instance?.managed?.serverId ?? (ref.instanceId.startsWith('managed:') ? ref.instanceId.slice('managed:'.length) : undefined);
    const info = id !== undefined ? list.find((i) => i.id === id) : undefined;
    if (!info) void vscode.window.showInformationMessage('That OpenCode server is no longer managed here.');
    return info;
  }
  if (list.length === 0) {
    void vscode.window.showInformationMessage('No OpenCode server was started from this window.');
    return undefined;
  }
  if (list.length === 1) return list[0];
  const now = Date.now();
  const byId = new Map(s.monitor.snapshot().instances.filter((i) => i.managed).map((i) => [i.managed!.serverId, i] as const));
  const picked = await vscode.window.showQuickPick(
    list.map((info) => ({ label: plainText(labelOf(info, byId.get(info.id))), description: serverStateText(info, now), detail: plainText(info.folder), info })),
    { placeHolder },
  );
  return picked?.info;
}

function labelOf(info: ManagedServerInfo, instance: InstanceModel | undefined): string {
  return instance ? instanceLabel(instance) : basename(info.folder);
}

function serverStateText(info: ManagedServerInfo, now: number): string {
  if (info.state === 'running' && info.runningSince !== undefined) return `running for ${formatDuration(now - info.runningSince)}`;
  return info.state;
}
