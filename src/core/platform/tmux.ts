/**
 * tmux: which pane runs a TTY, and the commands that bring it to front. Commands are argument
 * arrays for execFile, never shell strings.
 */

export interface TmuxPane {
  /** `/dev/pts/3` as tmux reports it. */
  tty: string;
  /** `session:window.pane`. */
  target: string;
  session: string;
  /** `session:window`. */
  window: string;
}

export const TMUX_LIST_PANES_ARGS: readonly string[] = ['list-panes', '-a', '-F', '#{pane_tty} #{session_name}:#{window_index}.#{pane_index}'];

/** Lines of `<tty> <session>:<window>.<pane>`; session names may contain spaces. */
export function parseTmuxPanes(stdout: string): TmuxPane[] {
  const panes: TmuxPane[] = [];
  for (const raw of stdout.split(/\r?\n/)) {
    const line = raw.trim();
    const space = line.indexOf(' ');
    if (space <= 0) continue;
    const tty = line.slice(0, space);
    const target = line.slice(space + 1);
    const m = /^(.*):(\d+)\.(\d+)$/.exec(target);
    if (!m || !m[1]) continue;
    panes.push({ tty, target, session: m[1], window: `${m[1]}:${m[2]}` });
  }
  return panes;
}

/** `pts/3`, `/dev/pts/3` and `ttys003` all name the same terminal. */
export function normalizeTty(tty: string): string {
  return tty.trim().replace(/^\/dev\//, '');
}

export function findPaneByTty(panes: readonly TmuxPane[], tty: string): TmuxPane | undefined {
  const wanted = normalizeTty(tty);
  return panes.find((p) => normalizeTty(p.tty) === wanted);
}

/** select-window, select-pane, then switch-client (fails harmlessly when no client is attached). */
export function tmuxFocusCommands(pane: TmuxPane): string[][] {
  return [
    ['select-window', '-t', pane.window],
    ['select-pane', '-t', pane.target],
    ['switch-client', '-t', pane.session],
  ];
}

/**
 * The pane Claude Code names in its registry (`session:@window.%pane`, ids not indexes): a
 * target for the focus commands when no pane is found by TTY.
 */
export function paneFromRegistry(value: string): TmuxPane | undefined {
  const m = /^(.+):(@\d+)\.(%\d+)$/.exec(value.trim());
  if (!m || !m[1] || !m[2] || !m[3]) return undefined;
  return { tty: '', target: m[3], session: m[1], window: `${m[1]}:${m[2]}` };
}
