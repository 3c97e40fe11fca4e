/** Approve once / always / reject a pending permission request. */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { Monitor } from '../../core/monitor/monitor';
import type { PermissionReply } from '../../core/opencode/schemas';
import { permissionLabel, sessionLabel } from '../../core/present/tree';
import { reportFailure, resolvePermission } from './targets';

const VERB: Record<PermissionReply, string> = { once: 'Approved once', always: 'Approved always', reject: 'Rejected' };

export async function replyPermission(monitor: Monitor, logger: Logger, arg: unknown, reply: PermissionReply): Promise<void> {
  const target = await resolvePermission(monitor, arg);
  if (!target) return;
  const { session, permission } = target;
  const what = `${permissionLabel(permission)} for “${sessionLabel(session)}”`;
  try {
    await monitor.replyPermission(session.id, permission.id, reply);
    logger.info(`${VERB[reply]}: ${what} (${permission.id})`);
    vscode.window.setStatusBarMessage(`$(check) ${VERB[reply]}: ${permissionLabel(permission)}`, 4_000);
  } catch (error) {
    reportFailure(logger, `Replying to ${what}`, error);
  }
}
