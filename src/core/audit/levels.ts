/**
 * Risk levels: score bands and how a level is shown. Display helpers only ever use the level,
 * the score and rule reasons (our own text), never the command or path an agent sent: views
 * neutralise that text separately.
 */
export type RiskLevel = 'none' | 'low' | 'medium' | 'high' | 'critical';

export const RISK_LEVELS: readonly RiskLevel[] = ['none', 'low', 'medium', 'high', 'critical'];

/** Lowest score of each level: 0 none · 1–29 low · 30–59 medium · 60–84 high · 85–100 critical. */
export const LEVEL_FLOOR: Record<RiskLevel, number> = { none: 0, low: 1, medium: 30, high: 60, critical: 85 };

export function levelOf(score: number): RiskLevel {
  if (!Number.isFinite(score) || score <= 0) return 'none';
  if (score >= LEVEL_FLOOR.critical) return 'critical';
  if (score >= LEVEL_FLOOR.high) return 'high';
  if (score >= LEVEL_FLOOR.medium) return 'medium';
  return 'low';
}

export function levelRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

/** True when `level` is `min` or worse. */
export function atLeast(level: RiskLevel, min: RiskLevel): boolean {
  return levelRank(level) >= levelRank(min);
}

/** Parses a user-given level (`--min-level medium`); undefined when it is not one. */
export function parseLevel(text: string): RiskLevel | undefined {
  const t = text.trim().toLowerCase();
  return (RISK_LEVELS as readonly string[]).includes(t) ? (t as RiskLevel) : undefined;
}

/** Short badge text for a tree row; empty for none and low (they show nothing). */
export function badgeText(level: RiskLevel): string {
  switch (level) {
    case 'critical':
      return 'CRITICAL';
    case 'high':
      return 'HIGH RISK';
    case 'medium':
      return 'risk: medium';
    default:
      return '';
  }
}

/** Capitalized level name (`High`). */
export function levelLabel(level: RiskLevel): string {
  return level.charAt(0).toUpperCase() + level.slice(1);
}

/** A codicon id for the level (`$(name)` in VS Code), or undefined when nothing is shown. */
export function levelIcon(level: RiskLevel): string | undefined {
  switch (level) {
    case 'critical':
      return 'error';
    case 'high':
      return 'warning';
    case 'medium':
      return 'info';
    default:
      return undefined;
  }
}

/** Whether the level should stand out (colour, notification). */
export function standsOut(level: RiskLevel): boolean {
  return level === 'high' || level === 'critical';
}

/**
 * One line for a notification or tooltip: `High risk (72): Rewrites remote history … [T1565.001]`.
 * Built from the score and rule reasons only.
 */
export function riskSummary(risk: { score: number; level: RiskLevel; reasons: readonly string[]; techniques: readonly string[] }, maxReasons = 2): string {
  if (risk.level === 'none') return 'No known risk';
  const reasons = risk.reasons.slice(0, maxReasons).join('; ');
  const more = risk.reasons.length > maxReasons ? ` (+${risk.reasons.length - maxReasons} more)` : '';
  const techniques = risk.techniques.length > 0 ? ` [${risk.techniques.slice(0, 4).join(', ')}]` : '';
  return `${levelLabel(risk.level)} risk (${risk.score}): ${reasons}${more}${techniques}`;
}
