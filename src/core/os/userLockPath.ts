/**
 * Where the legacy writer lock lives: a folder of this user only (issue 11: any local user could
 * rewrite a lock in the shared /tmp and keep the writer waiting forever). Every host (VS Code
 * windows, the CLI daemon) computes the same path without reading the environment, so they agree:
 * `/tmp/opencode-monitor-<uid>/writer.lock` (0700 folder, ours), else under ~/.cache. On Windows
 * the temp folder is already per user.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const LOCK_NAME = 'writer.lock';

export function userLockPath(platform: NodeJS.Platform = process.platform, uid = process.getuid?.(), home = os.homedir()): string {
  if (platform === 'win32' || uid === undefined) return path.join(os.tmpdir(), 'opencode-monitor', LOCK_NAME);
  const shared = path.join('/tmp', `opencode-monitor-${uid}`);
  if (ensurePrivateDir(shared, uid)) return path.join(shared, LOCK_NAME);
  // Someone else took the name: a folder in the home directory nobody else can write.
  const fallback = path.join(home, '.cache', 'opencode-monitor');
  ensurePrivateDir(fallback, uid);
  return path.join(fallback, LOCK_NAME);
}

/** Creates `dir` 0700 if missing; true when it is a real folder owned by `uid` that only it can use. */
export function ensurePrivateDir(dir: string, uid: number): boolean {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    // checked below
  }
  try {
    const st = fs.lstatSync(dir);
    return st.isDirectory() && !st.isSymbolicLink() && st.uid === uid && (st.mode & 0o077) === 0;
  } catch {
    return false;
  }
}
