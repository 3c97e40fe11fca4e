/**
 * "Focus a session" without a window system of our own (CLI, daemon): select its tmux window and
 * pane when its terminal is a tmux pane; otherwise say which terminal it runs in.
 */
import type { CommandRunner } from '../os/exec';
import { describeError } from '../util/describe';
import { TMUX_LIST_PANES_ARGS, findPaneByTty, parseTmuxPanes, tmuxFocusCommands } from './tmux';
import type { TmuxPane } from './tmux';

export type HeadlessFocus = { where: 'tmux'; target: string } | { where: 'none'; reason: string; tty?: string };

export async function focusTerminalOf(tty: string | undefined, run: CommandRunner, timeoutMs = 3_000): Promise<HeadlessFocus> {
  if (!tty) return { where: 'none', reason: 'its terminal is not known (a server without a terminal, or a remote one)' };
  let panes: TmuxPane[];
  try {
    const listed = await run('tmux', TMUX_LIST_PANES_ARGS, { timeoutMs });
    panes = listed.code === 0 ? parseTmuxPanes(listed.stdout) : [];
  } catch {
    panes = []; // no tmux here
  }
  const pane = findPaneByTty(panes, tty);
  if (!pane) return { where: 'none', reason: `it runs in terminal ${tty}, which is not a tmux pane: switch to it there`, tty };
  const [selectWindow, selectPane, switchClient] = tmuxFocusCommands(pane);
  try {
    for (const args of [selectWindow!, selectPane!]) {
      const result = await run('tmux', args, { timeoutMs });
      if (result.code !== 0) return { where: 'none', reason: `tmux ${args[0]} failed: ${result.stderr.trim().slice(0, 200)}`, tty };
    }
    await run('tmux', switchClient!, { timeoutMs }); // fails harmlessly when no client is attached
  } catch (error) {
    return { where: 'none', reason: `tmux: ${describeError(error)}`, tty };
  }
  return { where: 'tmux', target: pane.target };
}
