/**
 * iTerm2 on macOS: select the session whose TTY matches, through AppleScript. The TTY is passed
 * as an argument of the script (`on run argv`), never spliced into its text.
 */

const SCRIPT = [
  'on run argv',
  'set targetTty to item 1 of argv',
  'if application "iTerm2" is not running then return "not-running"',
  'tell application "iTerm2"',
  'repeat with aWindow in windows',
  'repeat with aTab in tabs of aWindow',
  'repeat with aSession in sessions of aTab',
  'if tty of aSession is targetTty then',
  'select aWindow',
  'tell aTab to select',
  'tell aSession to select',
  'activate',
  'return "focused"',
  'end if',
  'end repeat',
  'end repeat',
  'end repeat',
  'end tell',
  'return "not-found"',
  'end run',
];

export type ItermFocusResult = 'focused' | 'not-found' | 'not-running';

/** Arguments for `osascript`: one `-e` per line, then the TTY as the script's argument. */
export function itermFocusArgs(tty: string): string[] {
  const device = tty.startsWith('/dev/') ? tty : `/dev/${tty}`;
  return [...SCRIPT.flatMap((line) => ['-e', line]), device];
}

export function parseItermResult(stdout: string): ItermFocusResult | undefined {
  const text = stdout.trim();
  return text === 'focused' || text === 'not-found' || text === 'not-running' ? text : undefined;
}
