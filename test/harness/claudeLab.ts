/**
 * A real Claude Code (the pinned `@anthropic-ai/claude-code`, its native binary) in tmux on a
 * private socket, with a private HOME, talking to the scripted fake Anthropic API
 * (test/fixtures/fakeAnthropic.ts). Driven by typing into it; everything stopped by PID.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FakeAnthropic } from '../fixtures/fakeAnthropic';
import { startFakeAnthropic } from '../fixtures/fakeAnthropic';
import { waitFor } from './opencodeLab';
import { TmuxSession } from './tmuxSession';

const API_KEY = 'sk-ant-lab-0000000000000000000000000000';

/** The native binary of the pinned package, or undefined when it is not installed here. */
export function claudeBinary(repoRoot: string): string | undefined {
  const candidates = [
    process.env.OCM_CLAUDE_BIN,
    path.join(repoRoot, 'node_modules', '@anthropic-ai', `claude-code-${process.platform}-${process.arch}`, 'claude'),
  ];
  return candidates.find((c): c is string => !!c && fs.existsSync(c));
}

export { hasTmux } from './tmuxSession';

export class ClaudeLab {
  readonly root: string;
  readonly home: string;
  /** Claude Code's config folder (`$HOME/.claude`): what the monitor watches. */
  readonly claudeDir: string;
  readonly project: string;
  private readonly sessions: ClaudeTui[] = [];

  private constructor(
    readonly bin: string,
    readonly api: FakeAnthropic,
    /** A given config folder (`CLAUDE_CONFIG_DIR`), e.g. the one a code-server under test watches. */
    private readonly configDir?: string,
  ) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-claude-'));
    this.home = path.join(this.root, 'home');
    this.claudeDir = configDir ?? path.join(this.home, '.claude');
    this.project = path.join(this.root, 'project');
    fs.mkdirSync(this.project, { recursive: true });
    fs.mkdirSync(this.claudeDir, { recursive: true });
    // Onboarding done, folder trusted, the lab's key approved: the TUI starts straight into its prompt.
    fs.writeFileSync(
      configDir ? path.join(configDir, '.claude.json') : path.join(this.home, '.claude.json'),
      JSON.stringify({
        hasCompletedOnboarding: true,
        lastOnboardingVersion: '2.1.332',
        customApiKeyResponses: { approved: [API_KEY.slice(-20)], rejected: [] },
        projects: { [this.project]: { hasTrustDialogAccepted: true, hasCompletedProjectOnboarding: true } },
      }),
    );
  }

  static async start(bin: string, configDir?: string): Promise<ClaudeLab> {
    return new ClaudeLab(bin, await startFakeAnthropic(), configDir);
  }

  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      HOME: this.home,
      ANTHROPIC_BASE_URL: this.api.url,
      ANTHROPIC_API_KEY: API_KEY,
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      TERM: 'xterm-256color',
    };
    delete env.TMUX;
    if (this.configDir) env.CLAUDE_CONFIG_DIR = this.configDir;
    else delete env.CLAUDE_CONFIG_DIR;
    return env;
  }

  /** Starts an interactive Claude Code in its own tmux server (asks before tools by default). */
  startSession(args: string[] = ['--permission-mode', 'default']): ClaudeTui {
    const tui = new ClaudeTui(this.bin, this.project, this.env(), args);
    this.sessions.push(tui);
    tui.start();
    return tui;
  }

  private disposed = false;

  /** Stops every session and the fake API; a second call does nothing. */
  async dispose(): Promise<number[]> {
    if (this.disposed) return [];
    this.disposed = true;
    const pids: number[] = [];
    for (const s of this.sessions) pids.push(...(await s.stop()));
    await this.api.close();
    fs.rmSync(this.root, { recursive: true, force: true });
    return pids;
  }
}

export class ClaudeTui extends TmuxSession {
  constructor(bin: string, dir: string, env: NodeJS.ProcessEnv, args: string[]) {
    super([bin, ...args], dir, env, 'cc', { width: 160, height: 45 });
  }

  /** Waits until the prompt box is drawn. */
  async ready(timeoutMs = 60_000): Promise<void> {
    await waitFor(() => (/>\s|\?\s+for shortcuts/.test(this.screen()) ? true : undefined), timeoutMs, `Claude Code to draw its prompt\n${this.screen()}`, 200);
  }
}
