/**
 * Preloaded (`node -r`) into the daemon the bench measures: its discovery sees only the lab's
 * OpenCode processes, as the monitor child's does (other OpenCode processes run on this machine).
 * A process whose HOME is not OCM_BENCH_HOME looks like another user's, which the Linux scanner
 * skips after one stat. The check reads /proc/<pid>/environ once per new OpenCode process (the
 * scanner stats a pid only then), so the daemon's own cost is unchanged.
 */
import type * as FS from 'node:fs';

// The module object itself (an `import * as` copy would only have getters): the daemon's bundle reads it.
const fs = require('node:fs') as typeof FS;

const home = process.env.OCM_BENCH_HOME;
if (home) {
  const statSync = fs.statSync;
  const patched = function (this: unknown, file: FS.PathLike, options?: FS.StatSyncOptions) {
    const stats = statSync.call(fs, file, options as FS.StatSyncOptions) as FS.Stats | undefined;
    const m = typeof file === 'string' ? /^\/proc\/(\d+)$/.exec(file) : null;
    if (!m || !stats) return stats;
    let env = '';
    try {
      env = fs.readFileSync(`/proc/${m[1]}/environ`, 'latin1');
    } catch {
      // gone or not ours: leave it to the scanner
    }
    if (env.split('\0').includes(`HOME=${home}`)) return stats;
    return Object.assign(Object.create(Object.getPrototypeOf(stats) as object) as FS.Stats, stats, { uid: -2 });
  };
  (fs as { statSync: unknown }).statSync = patched;
}
