import * as fs from 'node:fs';

/** Changes whenever a file is replaced, grows or is touched; `missing` when it is not there. */
export function fileSignature(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
