/**
 * The executable a running process runs, for starting another copy of the same program (e.g.
 * `opencode attach` with the binary of the server it attaches to, issue 18): PATH may have no
 * `opencode`, but the process that runs does. Linux reads `/proc/<pid>/exe`; elsewhere, or
 * when the process runs through an interpreter (`node`, `bun`), the answer is undefined.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const INTERPRETERS = /^(node|nodejs|bun|deno)(\.exe)?$/i;

export interface ExeProbe {
  readlink(file: string): string;
  /** Throws unless the file exists and is executable. */
  access(file: string): void;
}

const realProbe: ExeProbe = {
  readlink: (file) => fs.readlinkSync(file),
  access: (file) => fs.accessSync(file, fs.constants.X_OK),
};

export function processExecutable(pid: number, platform: NodeJS.Platform = process.platform, probe: ExeProbe = realProbe): string | undefined {
  if (platform !== 'linux' || !Number.isInteger(pid) || pid <= 0) return undefined;
  let exe: string;
  try {
    // A binary replaced since (an upgrade) reads "<path> (deleted)": the new one at that path will do.
    exe = probe.readlink(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined; // gone, or another user's
  }
  if (!path.isAbsolute(exe) || INTERPRETERS.test(path.basename(exe))) return undefined;
  try {
    probe.access(exe);
    return exe;
  } catch {
    return undefined;
  }
}
