/**
 * The per-user labels file: where it lives and its format, as pure functions (parse, serialize,
 * prune). `{"version":1,"labels":{"<session id>":{"text":…,"setAt":ms,"seenAt":ms}}}`; unknown
 * fields are tolerated, anything else is "malformed" with a reason.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { cleanLabel } from '../model/labelText';

export interface LabelEntry {
  text: string;
  /** When the label was set (ms since epoch). */
  setAt: number;
  /** When a monitor last saw the session (ms since epoch); labels unseen for 30 days are pruned. */
  seenAt: number;
}

export type Labels = Map<string, LabelEntry>;

export const LABELS_FILE_VERSION = 1;
/** Larger files are refused (not read into memory) and reported as malformed. */
export const MAX_LABELS_FILE_BYTES = 1024 * 1024;
/** Past this many, the labels of the sessions seen longest ago go first. */
export const MAX_LABELS = 5_000;
export const PRUNE_AFTER_MS = 30 * 24 * 3600_000;
const MAX_SESSION_ID_LENGTH = 200;

/** `$XDG_STATE_HOME/opencode-monitor/labels.json`, `~/Library/Application Support/…` on macOS, `%LOCALAPPDATA%\…` on Windows. */
export function defaultLabelsPath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = os.homedir()): string {
  const file = path.join('opencode-monitor', 'labels.json');
  if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, file);
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', file);
  if (platform === 'win32') return path.join(env.LOCALAPPDATA || path.join(home, 'AppData', 'Local'), file);
  return path.join(home, '.local', 'state', file);
}

export class MalformedLabelsError extends Error {
  override readonly name = 'MalformedLabelsError';
}

/** A session id as the monitor knows them: `ses_…`, a UUID, … — short and printable. */
export function isSessionId(id: string): boolean {
  return id.length > 0 && id.length <= MAX_SESSION_ID_LENGTH && /^[\x21-\x7e]+$/.test(id);
}

export function parseLabels(raw: string): Labels {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    throw new MalformedLabelsError(`not JSON (${(error as Error).message})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new MalformedLabelsError('not a JSON object');
  const o = value as Record<string, unknown>;
  if (o.version !== LABELS_FILE_VERSION) throw new MalformedLabelsError(`unknown version ${JSON.stringify(o.version)}`);
  const labels = o.labels;
  if (!labels || typeof labels !== 'object' || Array.isArray(labels)) throw new MalformedLabelsError('"labels" is not an object');
  const out: Labels = new Map();
  for (const [id, entry] of Object.entries(labels as Record<string, unknown>)) {
    if (!isSessionId(id)) throw new MalformedLabelsError(`bad session id ${JSON.stringify(id.slice(0, 40))}`);
    const e = entry as Record<string, unknown> | null;
    if (!e || typeof e !== 'object' || typeof e.text !== 'string') throw new MalformedLabelsError(`bad entry for ${id}`);
    const text = cleanLabel(e.text);
    if (!text) continue;
    const setAt = finite(e.setAt) ?? 0;
    out.set(id, { text, setAt, seenAt: finite(e.seenAt) ?? setAt });
  }
  return out;
}

export function serializeLabels(labels: Labels): string {
  const sorted = [...labels.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({ version: LABELS_FILE_VERSION, labels: Object.fromEntries(sorted) }, null, 1) + '\n';
}

/** Drops labels of sessions unseen for `PRUNE_AFTER_MS`, then the oldest past `MAX_LABELS`. Returns how many went. */
export function pruneLabels(labels: Labels, now: number, maxLabels = MAX_LABELS): number {
  let removed = 0;
  for (const [id, e] of labels) {
    if (now - Math.max(e.seenAt, e.setAt) > PRUNE_AFTER_MS) {
      labels.delete(id);
      removed++;
    }
  }
  if (labels.size > maxLabels) {
    const oldest = [...labels.entries()].sort(([, a], [, b]) => Math.max(a.seenAt, a.setAt) - Math.max(b.seenAt, b.setAt));
    for (const [id] of oldest.slice(0, labels.size - maxLabels)) {
      labels.delete(id);
      removed++;
    }
  }
  return removed;
}

function finite(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}
