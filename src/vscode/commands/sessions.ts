/** Session actions: focus its terminal, jump to the next one waiting, abort, copy id, attach. */
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { ServerPasswords } from '../serverPasswords';
import type { Logger } from '../../core/log';
import { instanceLabel, truncate } from '../../core/present/format';
import type { Monitor } from '../../core/monitor/monitor';
import { redactUrl } from '../../core/opencode/http';
import { attachLaunch } from '../../core/platform/attachLaunch';
import { processExecutable } from '../../core/os/processExe';
import type { InstanceModel } from '../../core/model/model';
import { nextNeedingYou } from '../../core/present/attention';
import { CommandId } from '../../core/present/commandIds';
import { sessionLabel } from '../../core/present/tree';
import type { ManagedServers } from '../managedServers';
import type { Terminals } from '../terminals';
import type { SessionTreeView } from '../views/sessionTree';
import { refOf, reportFailure, resolveInstance, resolveSession } from './targets';
import { plainText } from '../../core/present/neutralize';

export async function focusTerminal(monitor: Monitor, terminals: Terminals, arg: unknown): Promise<void> {
  const instance = await resolveInstance(monitor, arg, 'Focus the terminal of which OpenCode session?');
  if (!instance) return;
  const result = await terminals.focus(instance);
  if (result.where === 'tmux') vscode.window.setStatusBarMessage(`$(terminal-tmux) Selected tmux pane ${result.target}`, 5_000);
  if (result.where !== 'none') return;
  const attach = instance.url ? 'Attach in Terminal' : undefined;
  const choice = await vscode.window.showInformationMessage(
    plainText(`No terminal found for OpenCode ${instanceLabel(instance)}: ${result.reason}.`),
    ...(attach ? [attach] : []),
  );
  if (choice === attach) await vscode.commands.executeCommand(CommandId.attachInTerminal, refOf(arg).sessionId ? arg : { instanceId: instance.id });
}

/** Remembers where the last jump went, so repeated jumps walk every waiting session. */
export class JumpCursor {
  last: string | undefined;
}

export async function jumpToNextNeedingMe(monitor: Monitor, tree: SessionTreeView, cursor: JumpCursor, arg: unknown): Promise<void> {
  const snapshot = monitor.snapshot();
  const wanted = refOf(arg).sessionId;
  const session = (wanted !== undefined ? snapshot.sessions.find((s) => s.id === wanted) : undefined) ?? nextNeedingYou(snapshot, cursor.last);
  if (!session) {
    await tree.focus();
    return;
  }
  cursor.last = session.id;
  if (!(await tree.reveal(session.id))) await tree.focus();
}

export async function abortSession(monitor: Monitor, logger: Logger, arg: unknown): Promise<void> {
  const session = await resolveSession(monitor, arg, {
    filter: (s) => s.status !== 'idle' || s.needsAttention,
    placeHolder: 'Abort which OpenCode session?',
    none: 'No OpenCode session is busy.',
  });
  if (!session) return;
  try {
    await monitor.abort(session.id);
    logger.info(`Aborted “${sessionLabel(session)}” (${session.id})`);
  } catch (error) {
    reportFailure(logger, `Aborting “${sessionLabel(session)}”`, error);
  }
}

export async function copySessionId(monitor: Monitor, arg: unknown): Promise<void> {
  const session = await resolveSession(monitor, arg, { placeHolder: 'Copy the id of which session?', none: 'No OpenCode session found.' });
  if (!session) return;
  await vscode.env.clipboard.writeText(session.id);
  vscode.window.setStatusBarMessage(`$(copy) Copied ${session.id}`, 3_000);
}

/**
 * `opencode attach <url> [--session <id>]` in a new integrated terminal, with OPENCODE_SERVER set.
 * A known password goes into the terminal's environment (OPENCODE_SERVER_PASSWORD), never onto
 * the command line.
 */
export async function attachInTerminal(monitor: Monitor, passwords: ServerPasswords, servers: ManagedServers, logger: Logger, arg: unknown): Promise<void> {
  const ref = refOf(arg);
  const snapshot = monitor.snapshot();
  let url: string | undefined;
  let sessionId: string | undefined;
  let name = 'OpenCode';
  let cwd: string | undefined;
  let instance: InstanceModel | undefined;
  if (ref.sessionId === undefined && ref.instanceId !== undefined) {
    instance = snapshot.instances.find((i) => i.id === ref.instanceId);
    url = instance?.url;
    name = instance ? `OpenCode ${instanceLabel(instance)}` : name;
    cwd = instance?.cwd;
  } else {
    const session = await resolveSession(monitor, arg, {
      filter: (s) => monitor.urlOf(s.id) !== undefined,
      placeHolder: 'Attach to which OpenCode session?',
      none: 'No OpenCode session runs on a server that can be attached to.',
    });
    if (!session) return;
    url = monitor.urlOf(session.id);
    instance = monitor.snapshot().instances.find((i) => i.id === session.instanceId);
    sessionId = session.id;
    name = `OpenCode: ${truncate(sessionLabel(session), 30)}`;
    cwd = session.directory;
  }
  if (!url) {
    void vscode.window.showInformationMessage('This OpenCode instance has no server to attach to. Start it with “--port 0” (or “opencode serve”).');
    return;
  }
  const safeUrl = redactUrl(url);
  const password = passwords.get(safeUrl) ?? servers.passwordFor(safeUrl);
  // The binary of the server's own process first (PATH may have none), else the setting or PATH.
  const binary = attachBinary(instance, servers);
  if (!binary) {
    const choice = await vscode.window.showErrorMessage(
      'Cannot attach: no `opencode` binary found. Set “opencodeMonitor.opencodePath” to the OpenCode executable.',
      'Open Settings',
    );
    if (choice === 'Open Settings') await vscode.commands.executeCommand('workbench.action.openSettings', 'opencodeMonitor.opencodePath');
    return;
  }
  try {
    // Its own process, no shell line (issue 11); throws on a session id OpenCode never issues.
    const launch = attachLaunch(binary, safeUrl, sessionId);
    const env: Record<string, string> = { OPENCODE_SERVER: safeUrl, ...(password ? { OPENCODE_SERVER_PASSWORD: password } : {}) };
    const terminal = vscode.window.createTerminal({
      ...launch,
      name,
      iconPath: new vscode.ThemeIcon('terminal'),
      ...(cwd && isDirectory(cwd) ? { cwd } : {}),
      env,
      // Not restored by a reload with a password in its environment.
      isTransient: true,
    });
    terminal.show();
    logger.info(`Attached a terminal to ${safeUrl}${sessionId ? ` (session ${sessionId})` : ''}`);
  } catch (error) {
    reportFailure(logger, `Attaching to ${safeUrl}`, error);
  }
}

/** The running process's executable when it is on this machine, else the configured binary or PATH's. */
export function attachBinary(instance: InstanceModel | undefined, servers: Pick<ManagedServers, 'binary'>): string | undefined {
  const local = instance?.pid !== undefined && instance.kind !== 'endpoint' && instance.kind !== 'container' ? processExecutable(instance.pid) : undefined;
  if (local) return local;
  try {
    return servers.binary();
  } catch {
    return undefined;
  }
}

function isDirectory(path: string): boolean {
  try {
    return fs.statSync(path).isDirectory();
  } catch {
    return false;
  }
}
