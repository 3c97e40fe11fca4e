/**
 * What a command acts on. From the tree it gets the row; from a notification, a tooltip link or
 * a test it may get `{ sessionId, permissionId, … }` or a bare session id; from the palette
 * nothing, and then it asks with a quick pick.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import { instanceLabel, sessionActivity } from '../../core/present/format';
import type { InstanceModel, MonitorSnapshot, PermissionModel, QuestionModel, SessionModel } from '../../core/model/model';
import type { Monitor } from '../../core/monitor/monitor';
import type { NodeRef } from '../../core/present/tree';
import { permissionLabel, questionLabel, sessionLabel } from '../../core/present/tree';
import { describeError } from '../../core/util/describe';
import { plainText } from '../../core/present/neutralize';

export function refOf(arg: unknown): NodeRef {
  if (typeof arg === 'string') return { sessionId: arg };
  if (!arg || typeof arg !== 'object') return {};
  const o = (('ref' in arg && arg.ref && typeof arg.ref === 'object' ? arg.ref : arg) as Record<string, unknown>);
  const ref: NodeRef = {};
  for (const key of ['instanceId', 'sessionId', 'permissionId', 'questionId', 'url'] as const) {
    const value = o[key];
    if (typeof value === 'string') ref[key] = value;
  }
  return ref;
}

interface PickItem<T> extends vscode.QuickPickItem {
  value: T;
}

function sessionPick(snapshot: MonitorSnapshot, session: SessionModel, now: number): PickItem<SessionModel> {
  const instance = snapshot.instances.find((i) => i.id === session.instanceId);
  return {
    label: `${session.needsAttention ? '$(bell) ' : session.status !== 'idle' ? '$(loading~spin) ' : ''}${plainText(sessionLabel(session))}`,
    description: plainText(sessionActivity(session, now)),
    detail: instance ? plainText(instanceLabel(instance)) : undefined,
    value: session,
  };
}

export async function resolveSession(
  monitor: Monitor,
  arg: unknown,
  options: { filter?: (s: SessionModel) => boolean; placeHolder: string; none: string },
): Promise<SessionModel | undefined> {
  const snapshot = monitor.snapshot();
  const { sessionId } = refOf(arg);
  if (sessionId !== undefined) {
    const session = snapshot.sessions.find((s) => s.id === sessionId);
    if (!session) void vscode.window.showInformationMessage(plainText(`OpenCode session ${sessionId} is no longer running here.`));
    return session;
  }
  const candidates = snapshot.sessions.filter(options.filter ?? (() => true));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(options.none);
    return undefined;
  }
  const now = Date.now();
  const picked = await vscode.window.showQuickPick(
    candidates.map((s) => sessionPick(snapshot, s, now)),
    { placeHolder: options.placeHolder, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.value;
}

/** The instance of a row, session or pick (sessions and instances without sessions are offered). */
export async function resolveInstance(monitor: Monitor, arg: unknown, placeHolder: string): Promise<InstanceModel | undefined> {
  const snapshot = monitor.snapshot();
  const ref = refOf(arg);
  const byId = (id: string | undefined) => (id === undefined ? undefined : snapshot.instances.find((i) => i.id === id));
  if (ref.sessionId !== undefined) {
    const session = snapshot.sessions.find((s) => s.id === ref.sessionId);
    const instance = byId(session?.instanceId ?? ref.instanceId);
    if (!instance) void vscode.window.showInformationMessage('That OpenCode instance is no longer running.');
    return instance;
  }
  if (ref.instanceId !== undefined) {
    const instance = byId(ref.instanceId);
    if (!instance) void vscode.window.showInformationMessage('That OpenCode instance is no longer running.');
    return instance;
  }
  if (snapshot.instances.length === 0) {
    void vscode.window.showInformationMessage('No running OpenCode instance found.');
    return undefined;
  }
  const now = Date.now();
  const items: Array<PickItem<InstanceModel | undefined>> = [];
  for (const session of snapshot.sessions.filter((s) => !s.parentId)) {
    const p = sessionPick(snapshot, session, now);
    items.push({ ...p, value: byId(session.instanceId) });
  }
  for (const instance of snapshot.instances) {
    if (instance.sessionIds.length === 0) items.push({ label: `$(vm) ${plainText(instanceLabel(instance))}`, description: instance.kind, value: instance });
  }
  const picked = await vscode.window.showQuickPick(items, { placeHolder, matchOnDescription: true, matchOnDetail: true });
  return picked?.value;
}

export async function resolvePermission(monitor: Monitor, arg: unknown): Promise<{ session: SessionModel; permission: PermissionModel } | undefined> {
  const hit = await resolvePending(monitor, arg, {
    list: (s) => s.permissions,
    refId: (ref) => ref.permissionId,
    label: permissionLabel,
    gone: 'That permission request was already answered.',
    none: 'No OpenCode permission request is pending.',
    placeHolder: 'Which permission request?',
  });
  return hit && { session: hit.session, permission: hit.item };
}

export async function resolveQuestion(monitor: Monitor, arg: unknown): Promise<{ session: SessionModel; question: QuestionModel } | undefined> {
  const hit = await resolvePending(monitor, arg, {
    list: (s) => s.questions,
    refId: (ref) => ref.questionId,
    label: questionLabel,
    gone: 'That question was already answered.',
    none: 'No OpenCode question is pending.',
    placeHolder: 'Which question?',
  });
  return hit && { session: hit.session, question: hit.item };
}

interface PendingKind<T> {
  list: (session: SessionModel) => T[];
  refId: (ref: ReturnType<typeof refOf>) => string | undefined;
  label: (item: T) => string;
  /** Shown when the row's request no longer exists. */
  gone: string;
  /** Shown when nothing of this kind is pending. */
  none: string;
  placeHolder: string;
}

/** The request a row names, else the only pending one, else the one the user picks. */
async function resolvePending<T extends { id: string }>(monitor: Monitor, arg: unknown, kind: PendingKind<T>): Promise<{ session: SessionModel; item: T } | undefined> {
  const ref = refOf(arg);
  const all = monitor.snapshot().sessions.flatMap((session) => kind.list(session).map((item) => ({ session, item })));
  const id = kind.refId(ref);
  if (id !== undefined) {
    const hit = all.find((x) => x.item.id === id);
    if (!hit) void vscode.window.showInformationMessage(kind.gone);
    return hit;
  }
  const candidates = ref.sessionId !== undefined ? all.filter((x) => x.session.id === ref.sessionId) : all;
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(kind.none);
    return undefined;
  }
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((x) => ({ label: plainText(kind.label(x.item)), description: plainText(sessionLabel(x.session)), value: x })),
    { placeHolder: kind.placeHolder, matchOnDescription: true },
  );
  return picked?.value;
}

/** Logs and shows a failed action; OpencodeErrors already name the server and the route. */
export function reportFailure(logger: Logger, what: string, error: unknown): void {
  const detail = describeError(error);
  logger.warn(`${what} failed: ${detail}`);
  void vscode.window.showErrorMessage(plainText(`${what} failed: ${detail}`));
}
