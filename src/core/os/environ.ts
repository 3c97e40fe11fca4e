/** Process environments (/proc/PID/environ): only OPENCODE_PID is ever read, an environment may hold secrets. */

/** OPENCODE_PID from a NUL-separated environment: OpenCode's tool children carry their owner's pid in it. */
export function opencodePidFromEnviron(raw: string): number | undefined {
  const at = raw.startsWith('OPENCODE_PID=') ? 0 : raw.indexOf('\0OPENCODE_PID=');
  if (at < 0) return undefined;
  const start = at === 0 ? 'OPENCODE_PID='.length : at + 1 + 'OPENCODE_PID='.length;
  const end = raw.indexOf('\0', start);
  const value = raw.slice(start, end < 0 ? undefined : end);
  return /^\d+$/.test(value) ? Number(value) : undefined;
}
