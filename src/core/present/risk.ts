/**
 * How a live risk (issue 15) shows: a badge in a row's description, a coloured icon for high and
 * critical, a tooltip section with score, reasons and MITRE technique ids, and one line for a
 * notification. Low risk shows nothing. The reasons are the rules' texts, neutralised anyway: a
 * model never writes them, but nothing that reaches a notification or a tooltip goes unescaped.
 */
import { badgeText, levelLabel, riskSummary, standsOut } from '../audit/levels';
import type { MonitorSnapshot, RiskAlert, RiskModel, SessionModel } from '../model/model';
import { truncate } from './format';
import { escapeMarkdown, inlineCode } from './markdown';
import { plainText } from './neutralize';
import type { IconSpec, PresentedNode } from './tree';

const RISK_ICON: Record<'high' | 'critical', IconSpec> = {
  critical: { id: 'flame', color: 'problemsErrorIcon.foreground' },
  high: { id: 'warning', color: 'problemsWarningIcon.foreground' },
};

/** Whether a risk shows at all (medium and up). */
export function showsRisk(risk: RiskModel | undefined): risk is RiskModel {
  return risk !== undefined && badgeText(risk.level) !== '';
}

/** `CRITICAL: Runs a script downloaded from the network` for a description; empty below medium. */
export function riskBadge(risk: RiskModel | undefined, reasonChars = 60): string {
  if (!showsRisk(risk)) return '';
  const reason = risk.reasons[0];
  return plainText(standsOut(risk.level) && reason ? `${badgeText(risk.level)}: ${truncate(reason, reasonChars)}` : badgeText(risk.level));
}

/** Markdown lines for a tooltip: level and score, each reason, technique ids. */
export function riskTooltip(risk: RiskModel | undefined, title = 'Risk'): string[] {
  if (!risk) return [];
  return [
    `**${escapeMarkdown(title)}: ${escapeMarkdown(levelLabel(risk.level))} (${risk.score}/100)**`,
    '',
    ...risk.reasons.map((r) => `- ${escapeMarkdown(r)}`),
    ...(risk.techniques.length ? ['', `MITRE ATT&CK: ${risk.techniques.map((t) => (/^T\d{4}(\.\d{3})?$/.test(t) ? inlineCode(t) : escapeMarkdown(t))).join(', ')}`] : []),
  ];
}

/**
 * A permission or tool row with its risk: medium and up get a badge before the description,
 * high and critical a coloured icon too, every level a tooltip section. Low and none: unchanged.
 */
export function withRisk(node: PresentedNode, risk: RiskModel | undefined): PresentedNode {
  if (!risk) return node;
  const tooltip = [node.tooltip, '', '---', '', ...riskTooltip(risk)].join('\n');
  if (!showsRisk(risk)) return { ...node, tooltip };
  const badge = riskBadge(risk);
  return {
    ...node,
    description: node.description ? `${badge} · ${node.description}` : badge,
    ...(standsOut(risk.level) ? { icon: RISK_ICON[risk.level as 'high' | 'critical'] } : {}),
    tooltip,
  };
}

/** A session row whose session (or a sub-agent) ran a critical action without a prompt. */
export function withRiskAlert(node: PresentedNode, alert: RiskAlert | undefined): PresentedNode {
  if (!alert) return node;
  const what = `${alert.tool}${alert.arg ? `: ${alert.arg}` : ''}`;
  return {
    ...node,
    description: node.description ? `${badgeText(alert.level)} ran · ${node.description}` : `${badgeText(alert.level)} ran`,
    tooltip: [node.tooltip, '', '---', '', ...riskTooltip(alert, 'Ran without a permission prompt'), '', inlineCode(truncate(what, 200))].join('\n'),
  };
}

/** `. High risk (80): Reads an SSH private key [T1552.004]` after a permission's notification; empty below medium. */
export function riskSuffix(risk: RiskModel | undefined): string {
  return showsRisk(risk) ? `. ${riskSummary(risk)}` : '';
}

export interface RiskAlertIncident {
  session: SessionModel;
  alert: RiskAlert;
}

/**
 * New alerts between snapshots: one per session (the model keeps one alert per root session, the
 * first), never again for the same one while it stays in the model. Pure; memory is the alerts
 * of the last snapshot.
 */
export class RiskAlertTracker {
  private seen = new Set<string>();

  update(snapshot: MonitorSnapshot): RiskAlertIncident[] {
    const seen = new Set<string>();
    const out: RiskAlertIncident[] = [];
    for (const session of snapshot.sessions) {
      const alert = session.riskAlert;
      if (!alert) continue;
      const key = `${session.id}:${alert.callID}`;
      seen.add(key);
      if (!this.seen.has(key)) out.push({ session, alert });
    }
    this.seen = seen;
    return out;
  }
}

/** The notification text of an alert: outside text neutralised. */
export function riskAlertMessage(incident: RiskAlertIncident, sessionTitle: string): string {
  const { alert } = incident;
  const what = `${alert.tool}${alert.arg ? `: ${truncate(alert.arg.replace(/\s+/g, ' '), 100)}` : ''}`;
  const where = alert.sessionId !== incident.session.id ? ' (in a sub-agent)' : '';
  return plainText(`OpenCode session “${truncate(sessionTitle, 60)}” ran a ${alert.level} action without a permission prompt${where}: ${what}. ${riskSummary(alert)}`);
}
