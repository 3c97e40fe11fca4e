/**
 * Pure mapping of a monitor snapshot to the rows of the sessions tree (no `vscode` import, so it
 * is unit-tested in plain Node; src/vscode/views/treeItems.ts turns a row into a vscode.TreeItem):
 * instances > sessions > their requests, active sub-agents, finished sub-agents folded into one
 * row, tools and todos. The rows themselves are built in instanceRows, sessionRows, requestRows
 * and workRows; `diffTrees` says which rows to refresh.
 */
import type { InstanceModel, MonitorSnapshot, SessionModel } from '../model/model';
import { emptyNode, hasTerminal, instanceNode, noticeNode } from './instanceRows';
import { permissionNode, questionNode } from './requestRows';
import { byCreated, byLongestWaiting, byNewest, finishedNode, sessionNode, waitKey } from './sessionRows';
import type { PresentedNode, PresentedTree } from './treeNodes';
import { nodeId } from './treeNodes';
import { todoNode, todosNode, toolNode, visibleTools } from './workRows';
import { withRisk, withRiskAlert } from './risk';

// The row shapes and the label helpers, where consumers have always found them.
export type { Collapsible, IconSpec, NodeKind, NodeRef, PresentedNode, PresentedTree } from './treeNodes';
export { ERROR_COLOR, WARNING_COLOR, nodeId } from './treeNodes';
export { instanceDescription, instanceIcon, instanceTooltip } from './instanceRows';
export { sessionContextValue, sessionIcon, sessionLabel, sessionTooltip } from './sessionRows';
export { permissionLabel, questionLabel } from './requestRows';
export { toolLabel, visibleTools } from './workRows';

export function emptyTree(): PresentedTree {
  return { rootIds: [], nodes: new Map() };
}

/** A sub-agent that is done: neither working, waiting, nor of unknown state. */
function finished(s: SessionModel): boolean {
  return s.status === 'idle' && !s.needsAttention && !s.stale;
}

/** How sessions are ordered: newest first (rows stay put), or the ones waiting longest for the user first. */
export type SessionSort = 'newest' | 'longestWaiting';

export interface PresentOptions {
  sort?: SessionSort;
}

export function presentTree(snapshot: MonitorSnapshot, now: number, options: PresentOptions = {}): PresentedTree {
  const order = options.sort === 'longestWaiting' ? byLongestWaiting : byNewest;
  const nodes = new Map<string, PresentedNode>();
  const sessionsById = new Map(snapshot.sessions.map((s) => [s.id, s]));
  const instancesById = new Map<string, InstanceModel>(snapshot.instances.map((i) => [i.id, i]));
  const terminalOf = (s: SessionModel) => {
    const instance = instancesById.get(s.instanceId);
    return instance !== undefined && hasTerminal(instance);
  };
  const childrenOf = new Map<string, SessionModel[]>();
  const rootsOf = new Map<string, SessionModel[]>();
  for (const s of snapshot.sessions) {
    const parent = s.parentId !== undefined && s.parentId !== s.id ? sessionsById.get(s.parentId) : undefined;
    const list = parent ? childrenOf : rootsOf;
    const key = parent ? parent.id : s.instanceId;
    const bucket = list.get(key) ?? [];
    bucket.push(s);
    list.set(key, bucket);
  }
  const add = (node: PresentedNode): string => {
    nodes.set(node.id, node);
    return node.id;
  };
  const visited = new Set<string>();

  const addSession = (session: SessionModel, parentId: string): string => {
    visited.add(session.id);
    const id = nodeId.session(session.id);
    const terminal = terminalOf(session);
    const childIds: string[] = [];
    for (const p of session.permissions) childIds.push(add(withRisk(permissionNode(p, session, id, now, terminal), p.risk)));
    for (const q of session.questions) childIds.push(add(questionNode(q, session, id, now, terminal)));
    const subAgents = (childrenOf.get(session.id) ?? []).filter((c) => !visited.has(c.id)).sort(byCreated);
    // Sub-agents at work show as rows; finished ones fold into one collapsed row (issue 18).
    const done = subAgents.filter(finished);
    for (const child of subAgents) if (!finished(child)) childIds.push(addSession(child, id));
    if (done.length > 0) {
      const foldId = nodeId.finished(session.id);
      add(finishedNode(session, id, done.map((child) => addSession(child, foldId))));
      childIds.push(foldId);
    }
    const shownChildren = new Set(subAgents.map((c) => c.id));
    for (const tool of visibleTools(session, shownChildren)) childIds.push(add(withRisk(toolNode(tool, session, id, now), tool.risk)));
    if (session.todos.total > 0) {
      const todosId = nodeId.todos(session.id);
      const itemIds = session.todos.items.map((item, index) => add(todoNode(item, index, session, todosId)));
      add(todosNode(session, id, itemIds));
      childIds.push(todosId);
    }
    add(withRiskAlert(sessionNode(session, parentId, childIds, now, terminal), session.riskAlert));
    return id;
  };

  const rootIds: string[] = [];
  const instances = options.sort === 'longestWaiting' ? instancesByLongestWaiting(snapshot) : snapshot.instances;
  for (const instance of instances) {
    const id = nodeId.instance(instance.id);
    const childIds: string[] = [];
    const notice = noticeNode(instance, id);
    if (notice) childIds.push(add(notice));
    for (const session of (rootsOf.get(instance.id) ?? []).sort(order)) childIds.push(addSession(session, id));
    if (childIds.length === 0) childIds.push(add(emptyNode(instance, id)));
    add(instanceNode(instance, snapshot.sessions, childIds, now));
    rootIds.push(id);
  }
  return { rootIds, nodes };
}

/** Instances whose sessions wait longest first; the others keep their order. */
function instancesByLongestWaiting(snapshot: MonitorSnapshot): InstanceModel[] {
  const earliest = new Map<string, number>();
  for (const s of snapshot.sessions) earliest.set(s.instanceId, Math.min(earliest.get(s.instanceId) ?? Number.MAX_SAFE_INTEGER, waitKey(s)));
  return snapshot.instances
    .map((instance, index) => ({ instance, index, key: earliest.get(instance.id) ?? Number.MAX_SAFE_INTEGER }))
    .sort((a, b) => a.key - b.key || a.index - b.index)
    .map((x) => x.instance);
}

// ── Change detection ───────────────────────────────────────────────────────

/**
 * The rows to refresh between two trees: `all` when the top level changed, otherwise the rows
 * whose own presentation or list of children changed, without those inside another refreshed
 * row (refreshing a row refreshes its subtree).
 */
export function diffTrees(prev: PresentedTree, next: PresentedTree): 'all' | string[] {
  if (!sameList(prev.rootIds, next.rootIds)) return 'all';
  const changed = new Set<string>();
  for (const [id, node] of next.nodes) {
    const before = prev.nodes.get(id);
    if (!before) continue; // new rows come with their parent's changed child list
    if (!sameList(before.childIds, node.childIds) || presentationKey(before) !== presentationKey(node)) changed.add(id);
  }
  const result: string[] = [];
  for (const id of changed) {
    let ancestor = next.nodes.get(id)?.parentId;
    let covered = false;
    while (ancestor !== undefined) {
      if (changed.has(ancestor)) {
        covered = true;
        break;
      }
      ancestor = next.nodes.get(ancestor)?.parentId;
    }
    if (!covered) result.push(id);
  }
  return result;
}

function presentationKey(n: PresentedNode): string {
  return JSON.stringify([n.label, n.description, n.icon, n.contextValue, n.tooltip, n.collapsible, n.command, n.parentId]);
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
