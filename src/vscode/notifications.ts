/**
 * One notification per incident: a session starts waiting for the user (a new permission,
 * question or heuristic wait) and, opt-in, a busy session finishes. Not shown while the
 * session's terminal is the active one in a focused window.
 */
import { hasTerminal } from '../core/present/instanceRows';
import * as vscode from 'vscode';
import type { Config } from './settings';
import type { Logger } from '../core/log';
import type { MonitorSnapshot } from '../core/model/model';
import type { Monitor } from '../core/monitor/monitor';
import type { Incident } from '../core/present/attention';
import { IncidentTracker, incidentMessage } from '../core/present/attention';
import { CommandId } from '../core/present/commandIds';
import type { RiskAlertIncident } from '../core/present/risk';
import { RiskAlertTracker, riskAlertMessage } from '../core/present/risk';
import { sessionLabel } from '../core/present/tree';
import type { Terminals } from './terminals';
import { describeError } from '../core/util/describe';

/** From this many at once, one summary instead of a notification each. */
const BATCH_FROM = 3;

interface Action {
  title: string;
  command: string;
  args: unknown[];
}

export class Notifications implements vscode.Disposable {
  private readonly tracker = new IncidentTracker();
  private readonly riskAlerts = new RiskAlertTracker();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly monitor: Monitor,
    private readonly config: Config,
    private readonly terminals: Terminals,
    private readonly logger: Logger,
  ) {
    this.subscription = monitor.onDidChange(() => this.check());
    this.check();
  }

  dispose(): void {
    this.subscription.dispose();
  }

  private check(): void {
    const snapshot = this.monitor.snapshot();
    // Tracked even while notifications are off, so turning them on does not replay old incidents.
    const incidents = this.tracker.update(snapshot);
    const { needsYou, finished } = this.config.current.notifications;
    const waiting = needsYou ? incidents.filter((i) => i.kind === 'needsYou') : [];
    const done = finished ? incidents.filter((i) => i.kind === 'finished') : [];
    if (waiting.length >= BATCH_FROM) {
      void this.showSummary(waiting.length);
    } else {
      for (const incident of waiting) void this.show(incident, snapshot);
    }
    for (const incident of done) void this.show(incident, snapshot);
    const alerts = this.riskAlerts.update(snapshot);
    if (needsYou) for (const alert of alerts) void this.showRiskAlert(alert, snapshot);
  }

  /** A critical action ran without a prompt (issue 15): once per session, shown even over its terminal. */
  private async showRiskAlert(incident: RiskAlertIncident, snapshot: MonitorSnapshot): Promise<void> {
    const instance = snapshot.instances.find((i) => i.id === incident.session.instanceId);
    const ref = { sessionId: incident.session.id, instanceId: incident.session.instanceId };
    const actions: Action[] = [{ title: 'Show', command: CommandId.nextNeedingMe, args: [incident.session.id] }];
    if (instance?.pid !== undefined) actions.push({ title: 'Focus Terminal', command: CommandId.focusTerminal, args: [ref] });
    const message = riskAlertMessage(incident, sessionLabel(incident.session));
    this.logger.warn(`notify: ${message}`);
    const choice = await vscode.window.showErrorMessage(message, ...actions.map((a) => a.title));
    const action = actions.find((a) => a.title === choice);
    if (action) await vscode.commands.executeCommand(action.command, ...action.args);
  }

  private async show(incident: Incident, snapshot: MonitorSnapshot): Promise<void> {
    const instance = snapshot.instances.find((i) => i.id === incident.session.instanceId);
    try {
      if (instance && (await this.terminals.isActive(instance))) return;
    } catch (error) {
      this.logger.debug(`terminal check: ${describeError(error)}`);
    }
    const ref = { sessionId: incident.session.id, instanceId: incident.session.instanceId };
    const actions: Action[] = [];
    // Only a live server can be answered from here; Claude Code and port-less TUIs in their terminal.
    if (incident.kind === 'needsYou' && incident.permission && incident.session.source === 'live') {
      actions.push({ title: 'Approve Once', command: CommandId.approveOnce, args: [{ ...ref, permissionId: incident.permission.id }] });
    }
    if (incident.kind === 'needsYou' && incident.question && incident.session.source === 'live') {
      actions.push({ title: 'Answer', command: CommandId.answerQuestion, args: [{ ...ref, questionId: incident.question.id }] });
    }
    // Only where a terminal can be found: a headless server has none (issue 18).
    if (instance && hasTerminal(instance)) actions.push({ title: 'Focus Terminal', command: CommandId.focusTerminal, args: [ref] });
    if (incident.kind === 'needsYou') actions.push({ title: 'Show', command: CommandId.nextNeedingMe, args: [incident.session.id] });
    const message = incidentMessage(incident);
    this.logger.info(`notify: ${message}`);
    const titles = actions.map((a) => a.title);
    const choice =
      incident.kind === 'needsYou'
        ? await vscode.window.showWarningMessage(message, ...titles)
        : await vscode.window.showInformationMessage(message, ...titles);
    const action = actions.find((a) => a.title === choice);
    if (action) await vscode.commands.executeCommand(action.command, ...action.args);
  }

  private async showSummary(count: number): Promise<void> {
    this.logger.info(`notify: ${count} agent sessions are waiting for you`);
    const choice = await vscode.window.showWarningMessage(`${count} agent sessions are waiting for you.`, 'Show');
    if (choice === 'Show') await vscode.commands.executeCommand(CommandId.nextNeedingMe);
  }
}
