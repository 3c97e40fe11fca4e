/**
 * A program in a pseudo-terminal: tmux on a private socket (`-L`), one session, started with the
 * given environment, driven by typing into it. Everything is stopped by PID. Used for the
 * port-less OpenCode TUI and for Claude Code.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive, signalPid, toolChildrenOf, waitForExit } from './processes';

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export class TmuxSession {
  readonly socket: string;
  pid = 0;
  private serverPid = 0;
  private readonly killHook = () => this.killSync();

  constructor(
    private readonly command: string[],
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
    /** tmux session name, also the target of every command. */
    private readonly name: string,
    private readonly size: { width: number; height: number } = { width: 200, height: 50 },
  ) {
    this.socket = `ocm-${name}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  start(): void {
    process.on('exit', this.killHook);
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', String(this.size.width), '-y', String(this.size.height), '-c', this.dir, '--', ...this.command);
    this.serverPid = Number(this.tmux('display-message', '-p', '#{pid}').trim());
    this.pid = Number(this.tmux('display-message', '-p', '-t', this.name, '#{pane_pid}').trim());
    if (!(this.pid > 0)) throw new Error('no pane pid');
  }

  screen(): string {
    try {
      return this.tmux('capture-pane', '-p', '-t', this.name);
    } catch {
      return '';
    }
  }

  /** Types a prompt and submits it, as a user would. */
  async type(text: string): Promise<void> {
    this.tmux('send-keys', '-t', this.name, '-l', text);
    await new Promise((r) => setTimeout(r, 300));
    this.keys('Enter');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** SIGKILL the program only (its tool children survive, as after a real kill -9). */
  kill9(): void {
    signalPid(this.pid, 'SIGKILL');
  }

  /** Stops the program, its tool children and the private tmux server; returns every pid involved. */
  async stop(): Promise<number[]> {
    const pids = [this.pid, this.serverPid].filter((p) => p > 0);
    const children = this.pid > 0 ? toolChildrenOf(this.pid).map((p) => p.pid) : [];
    pids.push(...children);
    for (const pid of [this.pid, ...children]) if (pid > 0) signalPid(pid, 'SIGKILL');
    try {
      this.tmux('kill-server');
    } catch {
      // already gone with its only pane
    }
    if (this.serverPid > 0 && !(await waitForExit(this.serverPid, 3_000))) signalPid(this.serverPid, 'SIGKILL');
    for (const pid of pids) await waitForExit(pid, 5_000);
    // A killed tmux server leaves its socket file behind.
    fs.rmSync(path.join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, this.socket), { force: true });
    process.removeListener('exit', this.killHook);
    return pids;
  }

  private killSync(): void {
    for (const pid of [this.pid, this.serverPid]) if (pid > 0 && isAlive(pid)) signalPid(pid, 'SIGKILL');
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { env: this.env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
