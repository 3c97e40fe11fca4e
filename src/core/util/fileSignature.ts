import * as fs from 'node:fs';

/**
 * Changes whenever a file is replaced, grows or is touched; `missing` when it is not there.
 * Polled every second or two for files that are usually absent (usage refresh requests, labels,
 * credentials): a missing file answers `undefined` instead of throwing, since building an
 * exception was most of what an idle poll cost.
 */
export function fileSignature(file: string): string {
  try {
    const st = fs.statSync(file, { throwIfNoEntry: false });
    return st ? `${st.ino}:${st.size}:${st.mtimeMs}` : 'missing';
  } catch {
    return 'missing';
  }
}
