/**
 * The shapes of the sessions tree's rows (no `vscode` import: unit-tested in plain Node;
 * src/vscode/views/treeItems.ts turns a PresentedNode into a vscode.TreeItem) and the small
 * helpers every kind of row uses.
 *
 * Ids are built from the data's own identity (never its state), so expansion and selection
 * survive updates.
 */

export type NodeKind = 'instance' | 'notice' | 'session' | 'finished' | 'permission' | 'question' | 'tool' | 'todos' | 'todo';

/** The identity a row points at: what commands invoked on it act on. */
export interface NodeRef {
  instanceId?: string;
  sessionId?: string;
  permissionId?: string;
  questionId?: string;
  /** Server URL (notices that ask for a password). */
  url?: string;
}

export interface IconSpec {
  /** Codicon id, e.g. `loading~spin`. */
  id: string;
  /** Theme color id. */
  color?: string;
}

export type Collapsible = 'none' | 'collapsed' | 'expanded';

export interface PresentedNode {
  id: string;
  kind: NodeKind;
  parentId?: string;
  childIds: string[];
  label: string;
  description?: string;
  icon: IconSpec;
  /**
   * A type, then flags, e.g. `session+needsYou+term`. `+term` (always last) marks rows whose
   * instance has a terminal to focus: menus offer "Focus Terminal" only there.
   */
  contextValue: string;
  /** Markdown (untrusted: no command links). */
  tooltip: string;
  collapsible: Collapsible;
  /** Run on click; the wrapper passes the row itself as the argument. */
  command?: { id: string; title: string };
  ref: NodeRef;
}

export interface PresentedTree {
  rootIds: string[];
  nodes: Map<string, PresentedNode>;
}

export const WARNING_COLOR = 'problemsWarningIcon.foreground';
export const ERROR_COLOR = 'problemsErrorIcon.foreground';

export const nodeId = {
  instance: (instanceId: string) => `instance:${instanceId}`,
  notice: (instanceId: string) => `notice:${instanceId}`,
  empty: (instanceId: string) => `empty:${instanceId}`,
  session: (sessionId: string) => `session:${sessionId}`,
  /** The row that folds a session's finished sub-agents. */
  finished: (sessionId: string) => `finished:${sessionId}`,
  permission: (permissionId: string) => `permission:${permissionId}`,
  question: (questionId: string) => `question:${questionId}`,
  tool: (sessionId: string, callId: string) => `tool:${sessionId}:${callId}`,
  todos: (sessionId: string) => `todos:${sessionId}`,
  todo: (sessionId: string, index: number) => `todo:${sessionId}:${index}`,
};

/** The contextValue flag of rows whose instance has a terminal "Focus Terminal" can find. */
export const TERMINAL_FLAG = '+term';

export function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}

export function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
