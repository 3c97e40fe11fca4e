/**
 * `label`, `list` and `focus`: clients of the daemon's local API when one answers on the socket,
 * else the same work done here with a one-shot monitor. And the daemon's `--socket` server.
 */
import type { Logger } from '../core/log';
import type { Monitor } from '../core/monitor/monitor';
import { LabelStore } from '../core/labels/labelStore';
import { ApiUnavailableError, apiRequest } from '../core/api/apiClient';
import type { ApiServer } from '../core/api/apiServer';
import { startApiServer } from '../core/api/apiServer';
import { monitorBackend } from '../core/api/monitorBackend';
import type { ApiResponse, ApiSession } from '../core/api/protocol';
import { handleRequestLine } from '../core/api/protocol';
import { defaultSocketPath } from '../core/api/socketPath';
import { formatWaited, truncate } from '../core/present/format';
import { describeError } from '../core/util/describe';
import type { ParsedArgs } from './args';

export interface ApiCommandContext {
  args: ParsedArgs;
  logger: Logger;
  /** A started monitor for one-shot work (no daemon answers). */
  oneShotMonitor: (labels: LabelStore) => Monitor;
  out: (text: string) => void;
  err: (text: string) => void;
}

export function socketPathOf(args: ParsedArgs): string {
  const chosen = args.options.get('socket');
  return chosen ? chosen : defaultSocketPath();
}

export function openLabels(logger: Logger, watch = true): LabelStore {
  return new LabelStore({ logger, watch }).start();
}

/** The daemon's API server, when `--socket [PATH]` is given. */
export function startDaemonApi(args: ParsedArgs, monitor: Monitor, labels: LabelStore, logger: Logger): Promise<ApiServer> | undefined {
  if (!args.options.has('socket')) return undefined;
  const chosen = args.options.get('socket');
  return startApiServer({ socketPath: chosen || defaultSocketPath(), ownFolder: !chosen, backend: monitorBackend(monitor, labels), logger });
}

/** Through the daemon when it answers, else with a one-shot monitor built here. */
async function request(ctx: ApiCommandContext, body: Record<string, unknown>): Promise<ApiResponse> {
  const socketPath = socketPathOf(ctx.args);
  try {
    return await apiRequest(socketPath, body);
  } catch (error) {
    if (!(error instanceof ApiUnavailableError)) throw error;
    ctx.logger.debug(`${describeError(error)}: working without it`);
  }
  const labels = openLabels(ctx.logger, false);
  const monitor = ctx.oneShotMonitor(labels);
  try {
    await monitor.settle();
    return await handleRequestLine(JSON.stringify(body), monitorBackend(monitor, labels));
  } finally {
    await monitor.dispose();
    await labels.flushed();
    labels.dispose();
  }
}

export async function labelCommand(ctx: ApiCommandContext): Promise<number> {
  const [session, text, ...extra] = ctx.args.positionals;
  if (!session || text === undefined || extra.length > 0) {
    ctx.err('usage: opencode-monitor label <session id or id prefix> "text"   ("" removes the label)\n');
    return 2;
  }
  const response = await request(ctx, { cmd: 'label', session, text });
  if (!response.ok) return failed(ctx, response);
  const label = response.label as string | undefined;
  ctx.out(label ? `${String(response.session)}: labelled “${label}”\n` : `${String(response.session)}: label removed\n`);
  return 0;
}

export async function listCommand(ctx: ApiCommandContext): Promise<number> {
  const response = await request(ctx, { cmd: 'list' });
  if (!response.ok) return failed(ctx, response);
  const sessions = response.sessions as ApiSession[];
  if (ctx.args.flags.has('json')) {
    ctx.out(JSON.stringify({ sessions }, null, 2) + '\n');
    return 0;
  }
  ctx.out(sessions.length === 0 ? 'no sessions\n' : sessions.map((s) => listLine(s, Date.now())).join('\n') + '\n');
  return 0;
}

export async function focusCommand(ctx: ApiCommandContext): Promise<number> {
  const query = ctx.args.positionals.join(' ').trim();
  if (!query) {
    ctx.err('usage: opencode-monitor focus <session id, id prefix, or words of its label, title or folder>\n');
    return 2;
  }
  const response = await request(ctx, { cmd: 'focus', query });
  if (!response.ok) return failed(ctx, response);
  const session = response.session as ApiSession;
  const focus = response.focus as { where: string; target?: string; reason?: string };
  const name = session.label || session.title || session.id;
  if (focus.where === 'none') {
    ctx.out(`${name} (${session.id}): ${focus.reason ?? 'no terminal to focus'}\n`);
    return 0;
  }
  ctx.out(`${name} (${session.id}): focused ${focus.where}${focus.target ? ` ${focus.target}` : ''}\n`);
  return 0;
}

function failed(ctx: ApiCommandContext, response: ApiResponse): number {
  const error = (response as { error: { code: string; message: string } }).error;
  ctx.err(`opencode-monitor: ${error.message}\n`);
  const candidates = response.candidates as ApiSession[] | undefined;
  if (candidates?.length) ctx.err(candidates.map((s) => `  ${listLine(s, Date.now())}`).join('\n') + '\n');
  return error.code === 'not_found' || error.code === 'ambiguous' ? 3 : 1;
}

/** `ses_abc…  waiting 4 min  review MR  (title) folder` — label and title are already clean. */
function listLine(s: ApiSession, now: number): string {
  const state = s.state === 'waiting' ? `waiting${s.waitingSince !== undefined ? ` ${formatWaited(now - s.waitingSince)}` : ''}` : s.state;
  const name = s.label ? `${s.label}${s.title ? `  (${truncate(s.title, 40)})` : ''}` : s.title || '(untitled)';
  return `${s.id}  ${state.padEnd(16)} ${stripControls(name)}  ${stripControls(s.folder)}${s.terminal ? `  ${s.terminal.tty}` : ''}`;
}

function stripControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
}
