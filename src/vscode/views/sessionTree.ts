/**
 * The "Sessions" tree: instances > sessions > sub-agents, requests, tools and todos.
 *
 * Rows are cached objects keyed by stable ids (so expansion and selection survive updates);
 * each update re-presents the snapshot and fires only the rows whose text, icon or children
 * changed (`diffTrees`), or everything when the set of instances changed.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { Monitor } from '../../core/monitor/monitor';
import type { MonitorSnapshot } from '../../core/model/model';
import { countSessions } from '../../core/model/counts';
import { ContextKey, SESSIONS_VIEW_ID } from '../../core/present/commandIds';
import type { Collapsible, PresentedTree } from '../../core/present/tree';
import { diffTrees, emptyTree, nodeId, presentTree } from '../../core/present/tree';
import type { TreeNode } from './treeItems';
import { toTreeItem, tooltipOf } from './treeItems';
import { describeError } from '../../core/util/describe';
import type { Config } from '../settings';
import type { PresentOptions } from '../../core/present/tree';
import type { SessionScope } from '../../core/present/workspaceScope';
import { scopeSnapshot } from '../../core/present/workspaceScope';

const SCOPE_KEY = 'opencodeMonitor.sessionScope';

/** VS Code applies tree changes about 200 ms after they are fired; a reveal must come after. */
const REVEAL_DELAY_MS = 400;
/** Elapsed times in descriptions move on while the view is visible (not faster: a refresh re-renders a row's inline buttons). */
const TICK_MS = 5_000;

export class SessionTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private tree: PresentedTree = emptyTree();
  private readonly cache = new Map<string, TreeNode>();
  /** Rows VS Code has asked for: the only ones worth firing. */
  private readonly handedOut = new Set<string>();
  /**
   * The state a row was first rendered with. VS Code keeps it (later values are ignored), and a
   * row first rendered as a leaf shows collapsed once it has children.
   */
  private readonly firstState = new Map<string, Collapsible>();
  /** Expanded or collapsed by the user since. */
  private readonly userState = new Map<string, boolean>();
  private readonly emitter = new vscode.EventEmitter<TreeNode | TreeNode[] | undefined>();
  readonly onDidChangeTreeData = this.emitter.event;

  /** Re-presents the snapshot, fires what changed, and returns the ids of new rows. */
  update(snapshot: MonitorSnapshot, now: number, options: PresentOptions = {}): string[] {
    const previous = this.tree;
    const next = presentTree(snapshot, now, options);
    const diff = diffTrees(previous, next);
    this.tree = next;
    for (const id of [...this.cache.keys()]) {
      const presented = next.nodes.get(id);
      if (presented) {
        this.cache.get(id)!.ref = presented.ref;
      } else {
        this.cache.delete(id);
        this.handedOut.delete(id);
        this.firstState.delete(id);
        this.userState.delete(id);
      }
    }
    if (diff === 'all') {
      this.emitter.fire(undefined);
    } else {
      const nodes = diff.filter((id) => this.handedOut.has(id)).map((id) => this.nodeFor(id));
      if (nodes.length > 0) this.emitter.fire(nodes);
    }
    return [...next.nodes.keys()].filter((id) => !previous.nodes.has(id));
  }

  getChildren(element?: TreeNode): TreeNode[] {
    const ids = element ? (this.tree.nodes.get(element.id)?.childIds ?? []) : this.tree.rootIds;
    return ids.map((id) => {
      this.handedOut.add(id);
      return this.nodeFor(id);
    });
  }

  getTreeItem(element: TreeNode): vscode.TreeItem {
    const presented = this.tree.nodes.get(element.id);
    if (!presented) return new vscode.TreeItem(element.id); // gone between the change event and this call
    let first = this.firstState.get(element.id);
    if (first === undefined) this.firstState.set(element.id, (first = presented.collapsible));
    const state: Collapsible = presented.collapsible === 'none' ? 'none' : first === 'none' ? 'collapsed' : first;
    return toTreeItem(presented, element, state);
  }

  resolveTreeItem(item: vscode.TreeItem, element: TreeNode): vscode.TreeItem {
    const presented = this.tree.nodes.get(element.id);
    if (presented) item.tooltip = tooltipOf(presented);
    return item;
  }

  getParent(element: TreeNode): TreeNode | undefined {
    const parentId = this.tree.nodes.get(element.id)?.parentId;
    return parentId === undefined ? undefined : this.nodeFor(parentId);
  }

  noteExpanded(element: TreeNode, expanded: boolean): void {
    this.userState.set(element.id, expanded);
  }

  /**
   * A new request deserves a reveal when its session row is rendered (VS Code knows it) but
   * collapsed somewhere above. An unrendered session appears expanded by itself.
   */
  needsReveal(id: string): boolean {
    const parent = this.tree.nodes.get(id)?.parentId;
    return parent !== undefined && this.handedOut.has(parent) && !this.isShown(id);
  }

  /** Whether every row above `id` is expanded, as far as the provider knows. */
  isShown(id: string): boolean {
    for (let parent = this.tree.nodes.get(id)?.parentId; parent !== undefined; parent = this.tree.nodes.get(parent)?.parentId) {
      const expanded = this.userState.get(parent) ?? this.firstState.get(parent) === 'expanded';
      if (!expanded) return false;
    }
    return true;
  }

  /** The row of an id, when it is in the tree. */
  node(id: string): TreeNode | undefined {
    return this.tree.nodes.has(id) ? this.nodeFor(id) : undefined;
  }

  /** A session's first pending request (where the actions are), else the session itself. */
  attentionNodeOf(sessionId: string): TreeNode | undefined {
    const session = this.tree.nodes.get(nodeId.session(sessionId));
    if (!session) return undefined;
    const request = session.childIds.find((id) => id.startsWith('permission:') || id.startsWith('question:'));
    return this.nodeFor(request ?? session.id);
  }

  dispose(): void {
    this.emitter.dispose();
  }

  private nodeFor(id: string): TreeNode {
    let node = this.cache.get(id);
    if (!node) {
      const presented = this.tree.nodes.get(id);
      node = { id, kind: presented?.kind ?? 'notice', ref: presented?.ref ?? {} };
      this.cache.set(id, node);
    }
    return node;
  }
}

export type ViewState = 'starting' | 'empty' | 'ready' | 'error';

/** The tree view around the provider: badge, welcome state, context keys, ticking, reveal. */
export class SessionTreeView implements vscode.Disposable {
  readonly provider = new SessionTreeProvider();
  readonly view: vscode.TreeView<TreeNode>;
  private readonly subscriptions: vscode.Disposable[] = [];
  private readonly contextValues = new Map<string, unknown>();
  private ticker: NodeJS.Timeout | undefined;
  private readonly revealTimers = new Set<NodeJS.Timeout>();
  private revealQueue: Promise<void> = Promise.resolve();
  private settled = false;
  private error: string | undefined;
  private timeDependent = false;
  private scope: SessionScope;

  constructor(
    private readonly monitor: Monitor,
    private readonly logger: Logger,
    private readonly config?: Config,
    /** Where this window keeps "This workspace / All" (the window's own choice). */
    private readonly workspaceState?: vscode.Memento,
  ) {
    this.scope = workspaceState?.get<SessionScope>(SCOPE_KEY) === 'workspace' ? 'workspace' : 'all';
    this.view = vscode.window.createTreeView(SESSIONS_VIEW_ID, { treeDataProvider: this.provider, showCollapseAll: true });
    this.subscriptions.push(
      this.view,
      this.provider,
      monitor.onDidChange(() => this.render()),
      this.view.onDidChangeVisibility(() => this.syncTicker()),
      this.view.onDidExpandElement((e) => this.provider.noteExpanded(e.element, true)),
      this.view.onDidCollapseElement((e) => this.provider.noteExpanded(e.element, false)),
    );
    if (config) this.subscriptions.push(config.onDidChange((e) => e.affects('sessions') && this.render()));
    this.subscriptions.push(vscode.workspace.onDidChangeWorkspaceFolders(() => this.render()));
    this.render();
  }

  /** "This workspace" shows only the sessions (and their instances) in this window's folders. */
  async setScope(scope: SessionScope): Promise<void> {
    this.scope = scope;
    await this.workspaceState?.update(SCOPE_KEY, scope);
    this.render();
  }

  /** Discovery has scanned once: an empty tree now means "nothing found". */
  markSettled(): void {
    this.settled = true;
    this.render();
  }

  /** The monitor could not start (or only partly): shown in the view and its welcome content. */
  setError(message: string | undefined): void {
    this.error = message;
    this.view.message = message;
    this.render();
  }

  /** Shows a session's pending request (or the session) selected and focused. */
  async reveal(sessionId: string): Promise<boolean> {
    const node = this.provider.attentionNodeOf(sessionId);
    if (!node) return false;
    const done = this.revealQueue.then(() => this.view.reveal(node, { select: true, focus: true, expand: true }));
    this.revealQueue = done.then(undefined, () => undefined);
    await done;
    return true;
  }

  async focus(): Promise<void> {
    await vscode.commands.executeCommand(`${SESSIONS_VIEW_ID}.focus`);
  }

  dispose(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    for (const timer of this.revealTimers) clearTimeout(timer);
    this.revealTimers.clear();
    for (const s of this.subscriptions.splice(0).reverse()) s.dispose();
  }

  private render(): void {
    const all = this.monitor.snapshot();
    const folders = (vscode.workspace.workspaceFolders ?? []).filter((f) => f.uri.scheme === 'file').map((f) => f.uri.fsPath);
    // Without a folder there is no "this workspace": everything shows.
    const snapshot = this.scope === 'workspace' && folders.length > 0 ? scopeSnapshot(all, folders) : all;
    this.setContext(ContextKey.scope, this.scope);
    this.view.description = snapshot === all ? undefined : 'This workspace';
    const added = this.provider.update(snapshot, Date.now(), { sort: this.config?.current.sessionSort });
    const waiting = countSessions(snapshot.sessions).needsYou;
    if (this.view.badge?.value !== (waiting || undefined)) {
      this.view.badge = waiting > 0 ? { value: waiting, tooltip: `${waiting} agent session${waiting === 1 ? '' : 's'} waiting for you` } : undefined;
    }
    const state: ViewState = this.error && snapshot.instances.length === 0 ? 'error' : snapshot.instances.length > 0 ? 'ready' : this.settled ? 'empty' : 'starting';
    this.setContext(ContextKey.state, state);
    this.setContext(ContextKey.needsYou, waiting > 0);
    this.setContext(ContextKey.permissionsPending, snapshot.sessions.some((s) => s.permissions.length > 0));
    this.setContext(ContextKey.questionsPending, snapshot.sessions.some((s) => s.questions.length > 0));
    this.setContext(ContextKey.busy, snapshot.sessions.some((s) => s.status !== 'idle'));
    this.setContext(ContextKey.managedServers, snapshot.instances.some((i) => i.managed !== undefined));
    // Elapsed times of active sessions, and the uptime of running managed servers.
    this.timeDependent = snapshot.sessions.some((s) => s.status !== 'idle' || s.needsAttention) || snapshot.instances.some((i) => i.managed?.state === 'running');
    this.syncTicker();
    if (this.view.visible) this.showNewRequests(added);
  }

  /**
   * New permissions and questions hidden under a collapsed row are revealed, without taking
   * focus. One reveal at a time, and only for rows VS Code has rendered: concurrent reveals
   * make its extension host re-fetch the same children twice and lose track of rows.
   */
  private showNewRequests(added: string[]): void {
    const ids = added.filter((id) => id.startsWith('permission:') || id.startsWith('question:'));
    if (ids.length === 0) return;
    const timer = setTimeout(() => {
      this.revealTimers.delete(timer);
      for (const id of ids) {
        this.revealQueue = this.revealQueue.then(async () => {
          const node = this.provider.node(id);
          if (!node || !this.view.visible || !this.provider.needsReveal(id)) return;
          try {
            await this.view.reveal(node, { select: false, focus: false, expand: false });
          } catch (error) {
            this.logger.debug(`reveal ${id}: ${describeError(error)}`);
          }
        });
      }
    }, REVEAL_DELAY_MS);
    this.revealTimers.add(timer);
  }

  private syncTicker(): void {
    const wanted = this.view.visible && this.timeDependent;
    if (wanted && !this.ticker) {
      this.ticker = setInterval(() => this.render(), TICK_MS);
    } else if (!wanted && this.ticker) {
      clearInterval(this.ticker);
      this.ticker = undefined;
    }
  }

  private setContext(key: string, value: unknown): void {
    if (this.contextValues.get(key) === value) return;
    this.contextValues.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }
}
