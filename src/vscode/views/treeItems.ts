/** Turns the pure row presentation (src/core/present/tree.ts) into vscode.TreeItems. */
import * as vscode from 'vscode';
import type { Collapsible, IconSpec, NodeKind, NodeRef, PresentedNode } from '../../core/present/tree';
import { plainText } from '../../core/present/neutralize';

/** The element handed to VS Code: one object per row id, kept while the row exists. */
export interface TreeNode {
  readonly id: string;
  readonly kind: NodeKind;
  /** Updated in place when the row is presented again. */
  ref: NodeRef;
}

const COLLAPSIBLE: Record<Collapsible, vscode.TreeItemCollapsibleState> = {
  none: vscode.TreeItemCollapsibleState.None,
  collapsed: vscode.TreeItemCollapsibleState.Collapsed,
  expanded: vscode.TreeItemCollapsibleState.Expanded,
};

export function themeIcon(icon: IconSpec): vscode.ThemeIcon {
  return new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
}

/** The tooltip is left out: resolveTreeItem adds it on hover. */
export function toTreeItem(p: PresentedNode, node: TreeNode, collapsible: Collapsible): vscode.TreeItem {
  const label = plainText(p.label);
  const description = p.description ? plainText(p.description) : undefined;
  const item = new vscode.TreeItem(label, COLLAPSIBLE[collapsible]);
  item.id = p.id;
  if (description) item.description = description;
  item.iconPath = themeIcon(p.icon);
  item.contextValue = p.contextValue;
  item.accessibilityInformation = { label: description ? `${label}, ${description}` : label };
  if (p.command) item.command = { command: p.command.id, title: p.command.title, arguments: [node] };
  return item;
}

export function tooltipOf(p: PresentedNode): vscode.MarkdownString {
  const md = new vscode.MarkdownString(p.tooltip, true);
  md.isTrusted = false;
  return md;
}
