/**
 * Test-only scope of local discovery: with OPENCODE_MONITOR_SCAN_ROOT set (folders separated like
 * PATH), only OpenCode processes working inside one of them are found. A real-VS-Code test on a
 * machine where other OpenCode servers run (another test's, a developer's own) then sees only its
 * own; users never need it. Processes whose folder cannot be read are left out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ProcessScanner } from './types';

export const SCAN_ROOT_ENV = 'OPENCODE_MONITOR_SCAN_ROOT';

/** The folders of OPENCODE_MONITOR_SCAN_ROOT (real paths where they exist); undefined when unset. */
export function scanRootsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | undefined {
  const roots = (env[SCAN_ROOT_ENV] ?? '')
    .split(path.delimiter)
    .filter((r) => r.trim() !== '' && path.isAbsolute(r))
    .map((r) => {
      try {
        return fs.realpathSync(r);
      } catch {
        return path.resolve(r);
      }
    });
  return roots.length > 0 ? roots : undefined;
}

/** `folder` is one of `roots` or below one. */
export function insideRoots(folder: string | undefined, roots: readonly string[]): boolean {
  if (folder === undefined) return false;
  const f = path.resolve(folder);
  return roots.some((r) => f === r || f.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
}

/** The scanner's processes whose working folder is inside `roots`. */
export function scopedScanner(scanner: ProcessScanner, roots: readonly string[]): ProcessScanner {
  return { scan: async () => (await scanner.scan()).filter((p) => insideRoots(p.cwd, roots)) };
}
