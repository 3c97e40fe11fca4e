/**
 * The security audit engine (issue 15): risk scores, MITRE ATT&CK techniques and multi-step
 * sequences for what agents run, read, write and fetch. Plain Node, no `vscode`.
 * Rules: rules.ts (documented in RULES.md).
 */
export { scoreAction, loadRules, defaultRules, sequencesOver, createSequenceDetector } from './engine';
export type { ActionKind, AuditAction, Finding, RiskScore, CompiledRuleSet } from './engine';
export { actionsFromTool, actionsFromPermission, actionFromRunningTool, patchFiles } from './actions';
export type { ActionContext, PermissionRequestLike } from './actions';
export { detectSequences, SequenceDetector, SessionSequences, rootSessionId } from './sequences';
export type { SequenceMatch, DetectorInput } from './sequences';
export { levelOf, levelRank, atLeast, parseLevel, badgeText, levelLabel, levelIcon, standsOut, riskSummary, RISK_LEVELS, LEVEL_FLOOR } from './levels';
export type { RiskLevel } from './levels';
export { RuleSetError, validateRuleSet } from './ruleSchema';
export { RULE_DATA } from './rules';
export { parseShell, DEFAULT_LIMITS } from './shell';
export type { ShellLimits } from './shell';
export { resolveScript } from './commands';
