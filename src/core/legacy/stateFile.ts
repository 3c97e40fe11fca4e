/**
 * Maps the monitor's snapshot onto the legacy SwiftBar files (/tmp/opencode-state.json and
 * /tmp/opencode-usage.json), in the union shape of the v1.0–v2.3 writers so every plugin
 * revision renders it (docs: legacy-contract.md §1.3, §2). Pure: no I/O, no clock.
 */
import type { InstanceModel, MonitorSnapshot, SessionModel, TodoSummary, UsageErrorCode, UsageModel, UsageWindow } from '../model/model';
import { compareIds } from '../util/compareIds';

export interface LegacyTool {
  name: string;
  arg: string;
}

export interface LegacyAgentTodos {
  pending: number;
  in_progress: number;
  current_label: string;
  next_label: string;
}

export interface LegacyAgent {
  id: string;
  title: string;
  dir: string;
  full_dir: string;
  status: 'busy' | 'idle';
  permission_pending: boolean;
  tools: LegacyTool[];
  todos: LegacyAgentTodos;
}

export interface LegacyInstance {
  port: number;
  tty: string;
  agents: LegacyAgent[];
  agent_count: number;
  busy_count: number;
}

export interface LegacyState {
  instances: LegacyInstance[];
  instance_count: number;
  agent_count: number;
  busy_count: number;
  todos: { pending: number; in_progress: number };
  permissions_pending: number;
  tools_running: string[];
  updated: number;
  connected: boolean;
}

export type LegacyUsageErrorCode = 'auth_not_found' | 'token_not_found' | 'token_expired' | 'api_error';

export interface LegacyUsageWindow {
  utilization: number;
  resets_at: string | null;
}

export interface LegacyUsageValues {
  five_hour: LegacyUsageWindow;
  seven_day: LegacyUsageWindow;
  updated: number;
  error: null;
}

export interface LegacyUsageError {
  error: LegacyUsageErrorCode;
  updated: number;
}

export type LegacyUsage = LegacyUsageValues | LegacyUsageError;

export interface LegacyUsageOptions {
  /**
   * After a transient failure (429, network, 5xx) keep writing the last good values while they
   * are at most this old, so the menu bar keeps its percentage instead of "error". Default 1 h.
   */
  keepStaleValuesSec?: number;
}

export const DEFAULT_TITLE = 'Sans titre';
export const GLOBAL_DIR = 'global';
const DEFAULT_KEEP_STALE_SEC = 3600;
const MAX_TEXT = 200;

export function toLegacyState(snapshot: MonitorSnapshot, nowSec: number): LegacyState {
  // `down` = not answering: the legacy writers skipped such servers. `connecting` stays listed so
  // an event-stream reconnect does not flash "not connected" in the menu bar.
  // A managed server that is starting or stopping has no port yet (or soon none): not listed.
  const listed = snapshot.instances.filter((i) => i.connection !== 'down' && (!i.managed || i.managed.state === 'running'));
  const owned = sessionsByInstance(listed, snapshot.sessions);

  const instances: LegacyInstance[] = listed.map((instance) => {
    const agents = orderAgents(selectAgents(owned.get(instance.id) ?? [])).map(toAgent);
    return {
      port: portOf(instance),
      tty: ttyOf(instance),
      agents,
      agent_count: agents.length,
      busy_count: agents.filter((a) => a.status === 'busy').length,
    };
  });

  const agents = instances.flatMap((i) => i.agents);
  // Like the legacy writers (which listed only non-idle sessions), the global todo count is the
  // queued work of running sessions: an abandoned idle plan must not show ⏳ forever.
  const busyAgents = agents.filter((a) => a.status === 'busy');
  return {
    instances,
    instance_count: instances.length,
    agent_count: agents.length,
    busy_count: busyAgents.length,
    todos: {
      pending: sum(busyAgents.map((a) => a.todos.pending)),
      in_progress: sum(busyAgents.map((a) => a.todos.in_progress)),
    },
    permissions_pending: agents.filter((a) => a.permission_pending).length,
    tools_running: [...new Set(agents.flatMap((a) => a.tools.map((t) => t.name)))],
    updated: Math.floor(nowSec),
    connected: instances.length > 0,
  };
}

/**
 * `undefined` when there is nothing to write yet (usage off, or no fetch finished).
 * Auth errors always win over old values: they will not fix themselves, and stale numbers would
 * hide that the user must sign in again.
 */
export function toLegacyUsage(usage: UsageModel | undefined, nowSec: number, options: LegacyUsageOptions = {}): LegacyUsage | undefined {
  if (!usage) return undefined;
  const updated = Math.floor(nowSec);
  const hasValues = usage.fiveHour !== undefined || usage.sevenDay !== undefined;
  if (usage.error && !(hasValues && keepStaleValues(usage, nowSec, options.keepStaleValuesSec ?? DEFAULT_KEEP_STALE_SEC))) {
    return { error: legacyErrorCode(usage.error), updated };
  }
  if (!hasValues) return undefined;
  // A window the API reports as null has not started: 0 % with no reset time ("N/A" in the plugin).
  return { five_hour: toWindow(usage.fiveHour), seven_day: toWindow(usage.sevenDay), updated, error: null };
}

export function legacyErrorCode(code: UsageErrorCode): LegacyUsageErrorCode {
  switch (code) {
    case 'auth_not_found':
    case 'token_not_found':
    case 'token_expired':
      return code;
    default:
      return 'api_error';
  }
}

/** The file content without `updated`: what decides whether a rewrite is needed. */
export function contentKey(value: LegacyState | LegacyUsage): string {
  const { updated: _updated, ...rest } = value;
  return JSON.stringify(rest);
}

// ── helpers ─────────────────────────────────────────────────────────────────

function sessionsByInstance(instances: InstanceModel[], sessions: SessionModel[]): Map<string, SessionModel[]> {
  const byId = new Map(instances.map((i) => [i.id, i]));
  const owned = new Map<string, SessionModel[]>(instances.map((i) => [i.id, []]));
  const seen = new Set<string>();
  for (const s of sessions) {
    if (seen.has(s.id)) continue;
    seen.add(s.id);
    const owner = byId.get(s.instanceId) ?? instances.find((i) => i.sessionIds.includes(s.id));
    if (owner) owned.get(owner.id)?.push(s);
  }
  return owned;
}

/**
 * Root sessions (the monitor already keeps only recent idle ones) plus sub-agents that are
 * working or waiting for the user — the legacy `/session/status` listing included busy children.
 */
function selectAgents(sessions: SessionModel[]): SessionModel[] {
  return sessions.filter((s) => !s.parentId || s.status !== 'idle' || s.needsAttention);
}

/**
 * Stable order (newest root first, each followed by its listed sub-agents) so the menu does not
 * reshuffle, and the file is not rewritten, every time a session's `updatedAt` moves.
 */
function orderAgents(sessions: SessionModel[]): SessionModel[] {
  const ids = new Set(sessions.map((s) => s.id));
  const children = new Map<string, SessionModel[]>();
  const roots: SessionModel[] = [];
  for (const s of sessions) {
    if (s.parentId && ids.has(s.parentId)) {
      const list = children.get(s.parentId);
      if (list) list.push(s);
      else children.set(s.parentId, [s]);
    } else {
      roots.push(s);
    }
  }
  const byAge = (a: SessionModel, b: SessionModel) => a.createdAt - b.createdAt || compareIds(a.id, b.id);
  const out: SessionModel[] = [];
  const visit = (s: SessionModel) => {
    if (out.includes(s)) return;
    out.push(s);
    for (const c of (children.get(s.id) ?? []).sort(byAge)) visit(c);
  };
  for (const r of roots.sort((a, b) => byAge(b, a))) visit(r);
  return out;
}

function toAgent(s: SessionModel): LegacyAgent {
  return {
    id: s.id,
    // The user's label, when set, is what the menu bar shows.
    title: displayText(s.label || s.title) || DEFAULT_TITLE,
    dir: baseName(s.directory),
    full_dir: s.directory ?? '',
    // A retrying session is still inside its turn (OpenCode will call the model again): showing it
    // idle would read as "finished" and a later retry → busy as new work.
    status: s.status === 'idle' ? 'idle' : 'busy',
    permission_pending: s.needsAttention,
    tools: s.runningTools.map((t) => ({ name: displayText(t.name), arg: displayText(t.arg) })),
    todos: toTodos(s.todos),
  };
}

function toTodos(t: TodoSummary): LegacyAgentTodos {
  const first = (status: string) => t.items.find((i) => i.status === status)?.content;
  return {
    pending: count(t.pending),
    in_progress: count(t.inProgress),
    current_label: displayText(t.currentLabel ?? first('in_progress') ?? ''),
    next_label: displayText(t.nextLabel ?? first('pending') ?? ''),
  };
}

function portOf(instance: InstanceModel): number {
  if (isPort(instance.port)) return instance.port;
  if (instance.url) {
    try {
      const u = new URL(instance.url);
      const p = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : 0;
      if (isPort(p)) return p;
    } catch {
      // not a URL: no port
    }
  }
  // Port-less TUI (OpenCode ≥1.1.10 opens none by default): still listed, as "Port 0", so its
  // sessions count and its tty still lets the plugin focus the terminal.
  return 0;
}

function isPort(p: number | undefined): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;
}

function ttyOf(instance: InstanceModel): string {
  const tty = (instance.tty ?? '').trim().replace(/^\/dev\//, '');
  // `ps` prints `?`/`??` for "no terminal"; the plugin would build `/dev/??` from it.
  return /^\?+$/.test(tty) || /[\s"|]/.test(tty) ? '' : tty;
}

function baseName(directory: string | undefined): string {
  const parts = (directory ?? '').split(/[\\/]+/).filter((p) => p.length > 0);
  const last = parts[parts.length - 1];
  return last === undefined || /^[A-Za-z]:$/.test(last) ? GLOBAL_DIR : last;
}

/**
 * The plugin prints one SwiftBar line per item and `|` starts SwiftBar's parameters, so a raw
 * newline or pipe (common in bash commands) would break the menu.
 */
function displayText(value: string | undefined): string {
  const text = (value ?? '').replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').replace(/\|/g, '¦').replace(/\s+/g, ' ').trim();
  return text.length > MAX_TEXT ? text.slice(0, MAX_TEXT - 1) + '…' : text;
}

function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function keepStaleValues(usage: UsageModel, nowSec: number, maxAgeSec: number): boolean {
  if (usage.error !== 'rate_limited' && usage.error !== 'api_error') return false;
  if (usage.fetchedAt === undefined || nowSec - usage.fetchedAt / 1000 > maxAgeSec) return false;
  // Once the 5-hour window has reset the old percentage is wrong, not just old.
  const reset = usage.fiveHour?.resetsAt ? Date.parse(usage.fiveHour.resetsAt) : NaN;
  return !(Number.isFinite(reset) && reset / 1000 <= nowSec);
}

function toWindow(w: UsageWindow | undefined): LegacyUsageWindow {
  if (!w) return { utilization: 0, resets_at: null };
  // The plugin compares with Bash integer tests: a decimal breaks its colours.
  const pct = Number.isFinite(w.percent) ? Math.trunc(w.percent) : 0;
  return { utilization: Math.min(100, Math.max(0, pct)), resets_at: resetTime(w.resetsAt) };
}

/**
 * Kept as returned when already UTC (the plugin strips fractions, `Z` and `+00:00` and parses
 * the rest as UTC); any other offset is converted, since the plugin cannot parse it.
 */
function resetTime(value: string | undefined): string | null {
  if (!value) return null;
  if (/(Z|\+00:00)$/.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null;
}
