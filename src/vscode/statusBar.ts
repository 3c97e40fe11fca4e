/**
 * The one status-bar item: busy and waiting counts, usage percentages. Created once, then only
 * its text, tooltip and colours change.
 */
import * as vscode from 'vscode';
import type { Monitor } from '../core/monitor/monitor';
import { CommandId, STATUS_BAR_ITEM_ID } from '../core/present/commandIds';
import type { StatusPresentation } from '../core/present/statusText';
import { presentStatus } from '../core/present/statusText';

/** Waiting times in the tooltip move on even when nothing changes. */
const TICK_MS = 5_000;

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;
  private readonly ticker: NodeJS.Timeout;
  private last = '';

  constructor(private readonly monitor: Monitor) {
    this.item = vscode.window.createStatusBarItem(STATUS_BAR_ITEM_ID, vscode.StatusBarAlignment.Left, 50);
    this.item.name = 'OpenCode Monitor';
    this.item.command = CommandId.nextNeedingMe;
    this.subscription = monitor.onDidChange(() => this.update());
    this.ticker = setInterval(() => this.update(), TICK_MS);
    this.update();
    this.item.show();
  }

  update(): void {
    const p = presentStatus(this.monitor.snapshot(), Date.now());
    const key = JSON.stringify(p);
    if (key === this.last) return;
    this.last = key;
    this.apply(p);
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.item.dispose();
  }

  private apply(p: StatusPresentation): void {
    this.item.text = p.text;
    const tooltip = new vscode.MarkdownString(p.tooltip, true);
    tooltip.isTrusted = { enabledCommands: p.commands };
    this.item.tooltip = tooltip;
    this.item.backgroundColor = p.background ? new vscode.ThemeColor(`statusBarItem.${p.background}Background`) : undefined;
    this.item.color = p.color ? new vscode.ThemeColor(p.color) : undefined;
    this.item.accessibilityInformation = { label: p.accessibilityLabel };
  }
}
