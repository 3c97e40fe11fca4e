/**
 * Brings the terminal that runs an OpenCode instance to front: the VS Code integrated terminal
 * whose shell is an ancestor of the process, else the tmux pane with its TTY, else the iTerm2
 * session with its TTY (macOS). The pure parts live in src/core/platform.
 */
import * as vscode from 'vscode';
import type { CommandRunner } from '../core/os/exec';
import { runCommand } from '../core/os/exec';
import type { Logger } from '../core/log';
import type { InstanceModel } from '../core/model/model';
import { itermFocusArgs, parseItermResult } from '../core/platform/iterm';
import type { PpidReader } from '../core/platform/processTree';
import { ancestorChain, closestAncestor, createPpidReader } from '../core/platform/processTree';
import type { TmuxPane } from '../core/platform/tmux';
import { TMUX_LIST_PANES_ARGS, findPaneByTty, paneFromRegistry, parseTmuxPanes, tmuxFocusCommands } from '../core/platform/tmux';
import { describeError } from '../core/util/describe';

export type FocusResult =
  | { where: 'vscode'; terminal: vscode.Terminal }
  | { where: 'tmux'; target: string }
  | { where: 'iterm' }
  | { where: 'none'; reason: string };

const TOOL_TIMEOUT_MS = 3_000;

export class Terminals implements vscode.Disposable {
  /** Terminals this window opened with `opencode --port N`, by N: an exact link. */
  private readonly byPort = new Map<number, vscode.Terminal>();
  private readonly subscription: vscode.Disposable;

  constructor(
    private readonly logger: Logger,
    private readonly readPpid: PpidReader = createPpidReader(),
    private readonly run: CommandRunner = runCommand,
    private readonly platform: NodeJS.Platform = process.platform,
  ) {
    this.subscription = vscode.window.onDidCloseTerminal((closed) => {
      for (const [port, terminal] of this.byPort) if (terminal === closed) this.byPort.delete(port);
    });
  }

  /** Remembers that `terminal` runs the OpenCode listening on `port`. */
  link(port: number, terminal: vscode.Terminal): void {
    this.byPort.set(port, terminal);
  }

  dispose(): void {
    this.subscription.dispose();
    this.byPort.clear();
  }

  /** The integrated terminal of this window whose shell is the process or one of its ancestors. */
  async terminalFor(instance: InstanceModel): Promise<vscode.Terminal | undefined> {
    const linked = instance.port !== undefined && instance.kind !== 'endpoint' && instance.kind !== 'container' ? this.byPort.get(instance.port) : undefined;
    if (linked && linked.exitStatus === undefined) return linked;
    if (instance.pid === undefined || vscode.window.terminals.length === 0) return undefined;
    const terminals = vscode.window.terminals;
    const [chain, pids] = await Promise.all([
      ancestorChain(instance.pid, this.readPpid, instance.ppid),
      Promise.all(terminals.map((t) => Promise.resolve(t.processId).catch(() => undefined))),
    ]);
    return closestAncestor(chain, terminals.map((t, i) => [pids[i], t] as const));
  }

  /** Is the instance's terminal the one the user looks at right now? */
  async isActive(instance: InstanceModel): Promise<boolean> {
    const active = vscode.window.activeTerminal;
    if (!active || !vscode.window.state.focused) return false;
    return (await this.terminalFor(instance)) === active;
  }

  async focus(instance: InstanceModel): Promise<FocusResult> {
    const terminal = await this.terminalFor(instance);
    if (terminal) {
      terminal.show(false);
      return { where: 'vscode', terminal };
    }
    if (!instance.tty) {
      // Claude Code names its tmux pane in its registry.
      const named = instance.tmuxPane ? paneFromRegistry(instance.tmuxPane) : undefined;
      if (named && (await this.selectTmuxPane(named))) return { where: 'tmux', target: instance.tmuxPane ?? named.target };
      return { where: 'none', reason: instance.pid === undefined ? 'it is not a process on this machine' : 'it has no terminal (TTY)' };
    }
    const pane = await this.focusTmux(instance.tty);
    if (pane) return { where: 'tmux', target: pane };
    if (this.platform === 'darwin' && (await this.focusIterm(instance.tty))) return { where: 'iterm' };
    return { where: 'none', reason: `no VS Code terminal, tmux pane${this.platform === 'darwin' ? ' or iTerm2 session' : ''} runs its TTY ${instance.tty}` };
  }

  private async focusTmux(tty: string): Promise<string | undefined> {
    let stdout: string;
    try {
      const result = await this.run('tmux', TMUX_LIST_PANES_ARGS, { timeoutMs: TOOL_TIMEOUT_MS });
      if (result.code !== 0) return undefined; // no server running
      stdout = result.stdout;
    } catch {
      return undefined; // tmux not installed
    }
    const pane = findPaneByTty(parseTmuxPanes(stdout), tty);
    if (!pane) return undefined;
    await this.selectTmuxPane(pane);
    return pane.target;
  }

  /** Runs the focus commands; true when the pane could be selected. */
  private async selectTmuxPane(pane: TmuxPane): Promise<boolean> {
    let selected = false;
    for (const args of tmuxFocusCommands(pane)) {
      try {
        const result = await this.run('tmux', args, { timeoutMs: TOOL_TIMEOUT_MS });
        if (result.code !== 0) this.logger.debug(`tmux ${args[0]}: ${result.stderr.trim()}`);
        else if (args[0] === 'select-pane') selected = true;
      } catch (error) {
        this.logger.debug(`tmux ${args[0]}: ${describeError(error)}`);
      }
    }
    return selected;
  }

  private async focusIterm(tty: string): Promise<boolean> {
    try {
      const result = await this.run('osascript', itermFocusArgs(tty), { timeoutMs: TOOL_TIMEOUT_MS });
      const outcome = parseItermResult(result.stdout);
      if (result.code !== 0) this.logger.debug(`iTerm2 focus: ${result.stderr.trim()}`);
      return outcome === 'focused';
    } catch (error) {
      this.logger.debug(`iTerm2 focus: ${describeError(error)}`);
      return false;
    }
  }
}
