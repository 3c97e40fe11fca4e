/**
 * Where scripts/setup-e2e.sh put the e2e tools (.cache/e2e/ready.json), and the repo's build
 * artifacts the e2e needs, with a clear message when something is missing or stale.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Compiled to out/test/e2e/: the repository root is three levels up. */
export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const SETUP_HINT = 'run `bash scripts/setup-e2e.sh` (about 4 minutes on a fresh machine), or set OCM_SKIP_E2E=1 to skip';

export interface E2eTools {
  /** Node 24 that runs code-server (and so the extension host). */
  node: string;
  /** code-server's out/node/entry.js. */
  codeServer: string;
  codeServerVersion: string;
  chromium: string;
  playwrightCore: string;
}

/** The tools, or a list of what is missing. */
export function findTools(): { tools?: E2eTools; missing: string[] } {
  const ready = path.join(REPO_ROOT, '.cache', 'e2e', 'ready.json');
  let tools: E2eTools;
  try {
    tools = JSON.parse(fs.readFileSync(ready, 'utf8')) as E2eTools;
  } catch {
    return { missing: [`${path.relative(REPO_ROOT, ready)} (setup never finished)`] };
  }
  const missing = [tools.node, tools.codeServer, tools.chromium].filter((f) => !fs.existsSync(f));
  try {
    require.resolve('playwright-core', { paths: [REPO_ROOT] });
  } catch {
    missing.push('node_modules/playwright-core');
  }
  return missing.length > 0 ? { missing } : { tools, missing };
}

function newestMtime(paths: string[]): { file: string; mtimeMs: number } {
  let newest = { file: '', mtimeMs: 0 };
  const visit = (p: string): void => {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const name of fs.readdirSync(p)) visit(path.join(p, name));
    else if (st.mtimeMs > newest.mtimeMs) newest = { file: p, mtimeMs: st.mtimeMs };
  };
  paths.forEach(visit);
  return newest;
}

/** Throws `<artifact> is missing/older than <source>: run <command>` unless artifact is newer than every source. */
export function requireFresh(artifact: string, sources: string[], command: string): void {
  const st = fs.statSync(artifact, { throwIfNoEntry: false });
  const rel = (p: string): string => path.relative(REPO_ROOT, p);
  if (!st) throw new Error(`${rel(artifact)} is missing: run \`${command}\``);
  const newest = newestMtime(sources);
  if (newest.mtimeMs > st.mtimeMs) throw new Error(`${rel(artifact)} is older than ${rel(newest.file)}: run \`${command}\``);
}
