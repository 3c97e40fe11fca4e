/**
 * Two status-bar items, each hideable from the status bar's context menu: the sessions (what
 * needs the user first) and the Claude usage meter. Created once, then only their text, tooltip
 * and background change.
 */
import * as vscode from 'vscode';
import type { Monitor } from '../core/monitor/monitor';
import { CommandId, STATUS_BAR_ITEM_ID, USAGE_STATUS_BAR_ITEM_ID } from '../core/present/commandIds';
import { presentStatus, presentUsage } from '../core/present/statusText';

/** Waiting times in the tooltip move on even when nothing changes. */
const TICK_MS = 5_000;

interface Shown {
  text: string;
  tooltip: string;
  accessibilityLabel: string;
  commands: string[];
  background?: 'warning';
}

export class StatusBar implements vscode.Disposable {
  private readonly sessions: vscode.StatusBarItem;
  private readonly usage: vscode.StatusBarItem;
  private readonly subscription: vscode.Disposable;
  private readonly ticker: NodeJS.Timeout;
  private lastSessions = '';
  private lastUsage = '';

  constructor(private readonly monitor: Monitor) {
    this.sessions = vscode.window.createStatusBarItem(STATUS_BAR_ITEM_ID, vscode.StatusBarAlignment.Left, 50);
    this.sessions.name = 'OpenCode Sessions';
    this.sessions.command = CommandId.nextNeedingMe;
    this.usage = vscode.window.createStatusBarItem(USAGE_STATUS_BAR_ITEM_ID, vscode.StatusBarAlignment.Left, 49);
    this.usage.name = 'Claude Usage (OpenCode Monitor)';
    this.usage.command = CommandId.refresh;
    this.subscription = monitor.onDidChange(() => this.update());
    this.ticker = setInterval(() => this.update(), TICK_MS);
    this.update();
    this.sessions.show();
  }

  update(): void {
    const snapshot = this.monitor.snapshot();
    const now = Date.now();
    const s = presentStatus(snapshot, now);
    const sKey = JSON.stringify(s);
    if (sKey !== this.lastSessions) {
      this.lastSessions = sKey;
      apply(this.sessions, s);
    }
    const u = presentUsage(snapshot.usage, now);
    const uKey = JSON.stringify(u ?? null);
    if (uKey !== this.lastUsage) {
      this.lastUsage = uKey;
      if (u) {
        apply(this.usage, u);
        this.usage.show();
      } else {
        this.usage.hide();
      }
    }
  }

  dispose(): void {
    clearInterval(this.ticker);
    this.subscription.dispose();
    this.sessions.dispose();
    this.usage.dispose();
  }
}

function apply(item: vscode.StatusBarItem, p: Shown): void {
  item.text = p.text;
  const tooltip = new vscode.MarkdownString(p.tooltip, true);
  tooltip.isTrusted = { enabledCommands: p.commands };
  item.tooltip = tooltip;
  item.backgroundColor = p.background ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
  item.accessibilityInformation = { label: p.accessibilityLabel };
}
