/**
 * How "Attach in Terminal" launches `opencode attach <url> [--session <id>]`: as the terminal's
 * own process (shellPath/shellArgs), never as a line typed into a shell, so no shell parses a
 * server-chosen value (issue 11: `a';calc;'` escaped PowerShell's quoting). Session ids are
 * checked against what OpenCode issues (`ses_` + letters and digits) before any use.
 */

/** OpenCode session ids: `ses_` then base62 (opencode-facts.md; e.g. `ses_e005cd66affeKHKFGJ0NwvUH8Y`). */
const SESSION_ID = /^ses_[A-Za-z0-9]{1,64}$/;

export function isOpencodeSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

export interface TerminalLaunch {
  shellPath: string;
  /** An array (no parsing), or for a Windows .cmd shim the one cmd.exe line. */
  shellArgs: string[] | string;
}

/** Characters cmd.exe reads literally inside a quoted argument. */
const CMD_SAFE = /^[A-Za-z0-9_\-.:/[\]@+=,~]+$/;

/** The launch of `opencode attach`; throws on a session id OpenCode would never issue. */
export function attachLaunch(binary: string, url: string, sessionId: string | undefined, platform: NodeJS.Platform = process.platform, comSpec = process.env.ComSpec): TerminalLaunch {
  if (sessionId !== undefined && !isOpencodeSessionId(sessionId)) {
    throw new Error(`refusing session id ${JSON.stringify(sessionId.slice(0, 80))}: not an OpenCode session id (ses_ and letters or digits)`);
  }
  const args = ['attach', url, ...(sessionId ? ['--session', sessionId] : [])];
  // A Windows npm shim is a .cmd: it needs cmd.exe, which parses its line; so every word must be inert there.
  if (platform === 'win32' && /\.(cmd|bat)$/i.test(binary)) {
    const bad = args.find((a) => !CMD_SAFE.test(a));
    if (bad !== undefined) throw new Error(`refusing to pass ${JSON.stringify(bad.slice(0, 80))} through cmd.exe`);
    return { shellPath: comSpec ?? 'cmd.exe', shellArgs: `/d /s /c ""${binary}" ${args.join(' ')}"` };
  }
  return { shellPath: binary, shellArgs: args };
}
