/**
 * `opencode-monitor audit [--since 7d] [--min-level medium] [--json] [--db FILE]`: the security
 * audit of what agents ran, read, wrote and fetched, from OpenCode's own database (read-only, in
 * the history worker). Exit 0 whatever was found; 1 when the DB cannot be read; 2 on bad arguments.
 */
import * as os from 'node:os';
import type { AuditFinding, AuditReport } from '../../core/audit/historyAudit';
import { levelLabel, parseLevel, RISK_LEVELS } from '../../core/audit/levels';
import type { RiskLevel } from '../../core/audit/levels';
import { safeText } from './text';
import { runHistoryFrame, walkArgs } from './commandFrame';
import type { HistoryIo } from './commandFrame';

export const AUDIT_JSON_SCHEMA_VERSION = 1;
/** Findings printed as text (the JSON has them all, up to MAX_FINDINGS). */
const TEXT_FINDINGS = 50;

export const AUDIT_USAGE = `  audit [--since 7d] [--min-level medium] [--json]
                           risk-scores the commands, file operations and fetches agents made
                           (rules, MITRE ATT&CK ids, multi-step sequences); --min-level
                           low|medium|high|critical (default medium)
`;

interface AuditArgs {
  json: boolean;
  help: boolean;
  since: string;
  minLevel: RiskLevel;
  db?: string;
}

export function parseAuditArgs(argv: string[]): AuditArgs {
  const args: AuditArgs = { json: false, help: false, since: '7d', minLevel: 'medium' };
  const rest = argv.slice(1);
  walkArgs(rest, ({ arg, name, value }) => {
    if (arg === '-h' || name === 'help') args.help = true;
    else if (name === 'json') args.json = true;
    else if (name === 'since') args.since = value();
    else if (name === 'db') args.db = value();
    else if (name === 'min-level') {
      const text = value();
      const level = parseLevel(text);
      if (!level || level === 'none') throw new Error(`--min-level must be low, medium, high or critical; got ${safeText(JSON.stringify(text), 40)}`);
      args.minLevel = level;
    } else throw new Error(`unknown ${name !== undefined || arg.startsWith('-') ? 'option' : 'argument'} ${safeText(arg, 40)} for audit`);
  });
  return args;
}

export function runAuditCommand(argv: string[], io: HistoryIo): Promise<number> {
  return runHistoryFrame(argv, io, parseAuditArgs, AUDIT_USAGE, async ({ args, window, file, env, client }) => {
    const report = await client.request('audit', { window, minLevel: args.minLevel, home: env.HOME || os.homedir() });
    io.stdout(args.json ? `${JSON.stringify(auditJson(file, report), null, 2)}\n` : renderAudit(report));
    return 0;
  });
}

export function auditJson(db: string, report: AuditReport): Record<string, unknown> {
  return { schemaVersion: AUDIT_JSON_SCHEMA_VERSION, generatedAt: new Date().toISOString(), db, ...report };
}

/** Text for a terminal: every agent-given text goes through safeText. */
export function renderAudit(report: AuditReport): string {
  const out: string[] = [];
  const levels = RISK_LEVELS.filter((l) => l !== 'none');
  out.push(`Security audit (${report.window.label}): ${report.scanned.actions} actions in ${report.scanned.sessions} sessions — ${levels.map((l) => `${report.counts[l]} ${l}`).join(', ')}`);
  out.push(`  ${report.byKind.bash} commands, ${report.byKind.read} reads, ${report.byKind.write + report.byKind.edit} writes/edits, ${report.byKind.fetch} fetches${report.truncated ? ' (window truncated: oldest calls only)' : ''}`);
  if (report.findings.length === 0) {
    out.push('', `Nothing at ${report.minLevel} or above.`);
    return `${out.join('\n')}\n`;
  }
  out.push('', `Findings at ${report.minLevel} or above (${report.findings.length}${report.findingsTruncated ? '+' : ''}), highest first:`);
  for (const f of report.findings.slice(0, TEXT_FINDINGS)) out.push(...findingLines(f));
  if (report.findings.length > TEXT_FINDINGS) out.push('', `… ${report.findings.length - TEXT_FINDINGS} more (--json lists them all)`);
  return `${out.join('\n')}\n`;
}

function findingLines(f: AuditFinding): string[] {
  const when = new Date(f.time).toISOString().replace('T', ' ').slice(0, 16);
  const what = f.kind === 'sequence' ? 'sequence' : f.tool;
  return [
    '',
    `  ${levelLabel(f.level).toUpperCase().padEnd(8)} ${String(f.score).padStart(3)}  ${when}  ${safeText(what, 12)}: ${safeText(f.target, 90)}`,
    `      ${f.reasons.map((r) => safeText(r, 100)).join('; ')}${f.techniques.length ? ` [${f.techniques.join(', ')}]` : ''}`,
    `      session ${safeText(f.sessionId, 40)} “${safeText(f.sessionTitle, 50)}”`,
  ];
}
