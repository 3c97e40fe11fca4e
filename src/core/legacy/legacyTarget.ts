/**
 * May the legacy writer replace this path? The paths come from settings or the command line, and
 * a repository once could set them (issue 11): so the writer only replaces a file that is
 * recognisably a monitor state/usage file of this user, never follows or replaces a symlink, and
 * never creates folders for it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type LegacyTargetKind = 'state' | 'usage';

/** Bigger than any state file we write: anything larger is someone else's file. */
const MAX_OURS_BYTES = 4 * 1024 * 1024;

/** Why `file` must not be written, or undefined when it may (absent in an existing folder, or ours). */
export function legacyTargetRefusal(file: string, kind: LegacyTargetKind, uid = process.getuid?.()): string | undefined {
  let dir: fs.Stats;
  try {
    dir = fs.statSync(path.dirname(file));
  } catch {
    return `its folder ${path.dirname(file)} does not exist (folders are never created for it)`;
  }
  if (!dir.isDirectory()) return `${path.dirname(file)} is not a folder`;
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `cannot check it: ${(error as Error).message}`;
  }
  if (st.isSymbolicLink()) return 'it is a symbolic link';
  if (!st.isFile()) return 'it is not a regular file';
  if (uid !== undefined && st.uid !== uid) return `it belongs to another user (uid ${st.uid})`;
  if (st.size > MAX_OURS_BYTES) return 'it is too large to be a monitor file';
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return `it is not a monitor ${kind} file (not JSON)`;
  }
  return isLegacyShape(value, kind) ? undefined : `it is not a monitor ${kind} file (unknown content)`;
}

/** The legacy union shape (legacy-contract.md §1.3 state, §2 usage), loosely: every writer's version. */
export function isLegacyShape(value: unknown, kind: LegacyTargetKind): boolean {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const o = value as Record<string, unknown>;
  if (kind === 'state') return Array.isArray(o.instances) || typeof o.connected === 'boolean';
  return typeof o.five_hour === 'object' || typeof o.seven_day === 'object' || typeof o.error === 'string' || o.error === null;
}
