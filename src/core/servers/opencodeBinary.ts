/**
 * Which `opencode` a managed server runs: the `opencodeMonitor.opencodePath` setting when set
 * (it must exist), else the first one on PATH. On Windows an npm install puts `opencode.cmd` on
 * PATH, which cannot be spawned without a shell; the real `opencode.exe` it wraps is used instead.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const NOT_FOUND_MESSAGE = 'OpenCode not found: set opencodeMonitor.opencodePath or put opencode on PATH';

/** Whether `file` is a file this process may run (POSIX: executable bit; Windows: exists). */
export type ExecutableProbe = (file: string) => boolean;

export function resolveOpencodeBinary(
  setting: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  probe: ExecutableProbe = defaultProbe(platform),
  /** Where `setting` came from, for the error message (the CLI passes `--opencode`). */
  source = 'opencodeMonitor.opencodePath',
): string {
  const p = platform === 'win32' ? path.win32 : path.posix;
  const wanted = setting?.trim();
  if (wanted) {
    const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
    const expanded = /^~(?=$|[\\/])/.test(wanted) ? p.join(home, wanted.slice(1)) : wanted;
    // A bare name ("opencode-dev") is looked up on PATH like a shell would.
    if (!/[\\/]/.test(expanded)) {
      const found = searchPath([expanded], env, platform, probe);
      if (found) return found;
      throw new Error(`OpenCode not found: "${wanted}" (${source}) is not on PATH`);
    }
    const file = p.resolve(expanded);
    if (probe(file)) return platform === 'win32' ? exeBehindShim(file, probe) : file;
    throw new Error(`OpenCode not found: "${wanted}" (${source}) ${describeMissing(file, platform)}`);
  }
  const names = platform === 'win32' ? ['opencode.exe', 'opencode.cmd'] : ['opencode'];
  const found = searchPath(names, env, platform, probe);
  if (found) return found;
  throw new Error(source === 'opencodeMonitor.opencodePath' ? NOT_FOUND_MESSAGE : `OpenCode not found: pass ${source} or put opencode on PATH`);
}

function searchPath(names: readonly string[], env: NodeJS.ProcessEnv, platform: NodeJS.Platform, probe: ExecutableProbe): string | undefined {
  const p = platform === 'win32' ? path.win32 : path.posix;
  // Windows keeps the variable as Path (any case); a plain object copy does not fold it.
  const key = platform === 'win32' ? Object.keys(env).find((k) => k.toUpperCase() === 'PATH') : 'PATH';
  const value = key ? env[key] : undefined;
  if (!value) return undefined;
  for (const raw of value.split(platform === 'win32' ? ';' : ':')) {
    const dir = raw.trim().replace(/^"(.*)"$/, '$1');
    // An empty entry means the current directory: never run an `opencode` from wherever we are.
    if (!dir || !p.isAbsolute(dir)) continue;
    for (const name of names) {
      const file = p.join(dir, name);
      if (probe(file)) return platform === 'win32' ? exeBehindShim(file, probe) : file;
    }
  }
  return undefined;
}

/** npm's `opencode.cmd` shim → `node_modules/opencode-ai/bin/opencode.exe` next to it, when present. */
function exeBehindShim(file: string, probe: ExecutableProbe): string {
  if (!/\.(cmd|bat)$/i.test(file)) return file;
  const exe = path.win32.join(path.win32.dirname(file), 'node_modules', 'opencode-ai', 'bin', 'opencode.exe');
  return probe(exe) ? exe : file;
}

function describeMissing(file: string, platform: NodeJS.Platform): string {
  try {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) return `is a folder, not the opencode program (${file})`;
    return platform === 'win32' ? `cannot be run (${file})` : `is not executable (${file})`;
  } catch {
    return `does not exist (${file})`;
  }
}

function defaultProbe(platform: NodeJS.Platform): ExecutableProbe {
  return (file) => {
    try {
      if (!fs.statSync(file).isFile()) return false;
      if (platform !== 'win32') fs.accessSync(file, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  };
}
