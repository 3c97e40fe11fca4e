/** Every command of the extension is registered here, with what it needs passed in. */
import * as vscode from 'vscode';
import type { Config } from '../settings';
import type { ServerPasswords } from '../serverPasswords';
import type { Monitor } from '../../core/monitor/monitor';
import { CommandId } from '../../core/present/commandIds';
import type { Terminals } from '../terminals';
import type { SessionTreeView } from '../views/sessionTree';
import { openSettings, openWalkthrough, probeServer, refresh, setServerPassword } from './general';
import { replyPermission } from './permissions';
import { answerQuestion, dismissQuestion } from './questions';
import { newServerTerminal, openInTerminal, restartServer, showServerLog, startServer, stopServer } from './servers';
import type { ManagedServers } from '../managedServers';
import { refOf } from './targets';
import { JumpCursor, abortSession, attachInTerminal, copySessionId, focusTerminal, jumpToNextNeedingMe } from './sessions';
import type { LabelStore } from '../../core/labels/labelStore';
import { labelSession } from './labels';

export interface CommandServices {
  monitor: Monitor;
  log: vscode.LogOutputChannel;
  config: Config;
  passwords: ServerPasswords;
  terminals: Terminals;
  tree: SessionTreeView;
  servers: ManagedServers;
  extensionId: string;
  labels: LabelStore;
  /** Fetch subscription usage again (rate-limited by the usage service itself). */
  refreshUsage?: () => void;
  /** The Insights panel (history, trace, security audit). */
  insights?: { show(traceSessionId?: string): void };
}

export function registerCommands(s: CommandServices): vscode.Disposable {
  const { monitor, log } = s;
  const cursor = new JumpCursor();
  /**
   * A keybinding passes no argument: with the tree focused, the selected permission / question row
   * is what the user means (otherwise the command asks which one).
   */
  const orSelected = (key: 'permissionId' | 'questionId') => (arg: unknown): unknown => {
    if (arg !== undefined) return arg;
    const node = s.tree.view.selection[0];
    return node !== undefined && refOf(node)[key] !== undefined ? node : undefined;
  };
  const permissionArg = orSelected('permissionId');
  const questionArg = orSelected('questionId');
  const handlers: Record<CommandId, (arg?: unknown) => unknown> = {
    [CommandId.refresh]: () => {
      s.refreshUsage?.();
      return refresh(monitor, log);
    },
    [CommandId.focusTerminal]: (arg) => focusTerminal(monitor, s.terminals, arg),
    [CommandId.nextNeedingMe]: (arg) => jumpToNextNeedingMe(monitor, s.tree, cursor, arg),
    [CommandId.approveOnce]: (arg) => replyPermission(monitor, log, permissionArg(arg), 'once'),
    [CommandId.approveAlways]: (arg) => replyPermission(monitor, log, permissionArg(arg), 'always'),
    [CommandId.rejectPermission]: (arg) => replyPermission(monitor, log, permissionArg(arg), 'reject'),
    [CommandId.answerQuestion]: (arg) => answerQuestion(monitor, log, questionArg(arg)),
    [CommandId.dismissQuestion]: (arg) => dismissQuestion(monitor, log, questionArg(arg)),
    [CommandId.abortSession]: (arg) => abortSession(monitor, log, arg),
    [CommandId.attachInTerminal]: (arg) => attachInTerminal(monitor, s.passwords, s.servers, log, arg),
    [CommandId.setServerPassword]: (arg) => setServerPassword(monitor, s.config, s.passwords, log, arg),
    [CommandId.showLog]: () => log.show(true),
    [CommandId.openSettings]: () => openSettings(s.extensionId),
    [CommandId.openWalkthrough]: () => openWalkthrough(s.extensionId),
    [CommandId.probeServer]: () => probeServer(log, s.passwords),
    [CommandId.copySessionId]: (arg) => copySessionId(monitor, arg),
    [CommandId.showWorkspaceSessions]: () => s.tree.setScope('workspace'),
    [CommandId.showAllSessions]: () => s.tree.setScope('all'),
    [CommandId.labelSession]: (arg) => labelSession(monitor, s.labels, log, arg),
    [CommandId.startServer]: (arg) => startServer(s, arg),
    [CommandId.openInTerminal]: (arg) => openInTerminal(s, arg),
    [CommandId.stopServer]: (arg) => stopServer(s, arg),
    [CommandId.restartServer]: (arg) => restartServer(s, arg),
    [CommandId.showServerLog]: (arg) => showServerLog(s, arg),
    [CommandId.newServerTerminal]: (arg) => newServerTerminal(s, arg),
    [CommandId.showInsights]: () => s.insights?.show(),
    [CommandId.showTrace]: (arg) => {
      const id = refOf(arg).sessionId;
      s.insights?.show(id && /^[\w-]{1,100}$/.test(id) ? id : undefined);
    },
  };
  return vscode.Disposable.from(
    ...Object.entries(handlers).map(([id, handler]) => vscode.commands.registerCommand(id, (arg?: unknown) => handler(arg))),
  );
}
