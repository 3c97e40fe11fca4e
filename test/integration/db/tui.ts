/**
 * A real port-less OpenCode TUI in a pseudo-terminal: tmux on a private socket (`-L`), started
 * with the lab's isolated environment, driven by typing into it. Everything is stopped by PID.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../../harness/opencodeLab';
import { isAlive, signalPid, toolChildrenOf, waitForExit } from '../../harness/processes';

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The real binary behind node_modules/.bin/opencode (a symlink), so the pane's pid is OpenCode itself. */
export function opencodeBinary(repoRoot: string): string {
  return fs.realpathSync(process.env.OCM_OPENCODE_BIN ?? path.join(repoRoot, 'node_modules', '.bin', 'opencode'));
}

export class TuiSession {
  readonly socket = `ocm-db-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  pid = 0;
  private serverPid = 0;
  private readonly killHook = () => this.killSync();

  constructor(
    private readonly bin: string,
    readonly dir: string,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  start(): void {
    process.on('exit', this.killHook);
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'tui', '-x', '200', '-y', '50', '-c', this.dir, '--', this.bin, this.dir);
    this.serverPid = Number(this.tmux('display-message', '-p', '#{pid}').trim());
    this.pid = Number(this.tmux('display-message', '-p', '-t', 'tui', '#{pane_pid}').trim());
    if (!(this.pid > 0)) throw new Error('no pane pid');
  }

  screen(): string {
    try {
      return this.tmux('capture-pane', '-p', '-t', 'tui');
    } catch {
      return '';
    }
  }

  async ready(timeoutMs = 90_000): Promise<void> {
    await waitFor(() => (/ctrl\+p/.test(this.screen()) ? true : undefined), timeoutMs, `the TUI to draw its prompt\n${this.screen()}`, 250);
  }

  /** Types a prompt and submits it, as a user would. */
  async type(text: string): Promise<void> {
    this.tmux('send-keys', '-t', 'tui', '-l', text);
    await new Promise((r) => setTimeout(r, 300));
    this.keys('Enter');
  }

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', 'tui', ...keys);
  }

  /** SIGKILL the TUI only (its tool children survive, as after a real kill -9). */
  kill9(): void {
    signalPid(this.pid, 'SIGKILL');
  }

  /** Stops the TUI, its tool children and the private tmux server; returns every pid involved. */
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
