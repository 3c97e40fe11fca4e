/**
 * A real port-less OpenCode TUI in a pseudo-terminal (test/harness/tmuxSession.ts), started with
 * the lab's isolated environment, driven by typing into it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitFor } from '../../harness/opencodeLab';
import { TmuxSession } from '../../harness/tmuxSession';

export { hasTmux } from '../../harness/tmuxSession';

/** The real binary behind node_modules/.bin/opencode (a symlink), so the pane's pid is OpenCode itself. */
export function opencodeBinary(repoRoot: string): string {
  return fs.realpathSync(process.env.OCM_OPENCODE_BIN ?? path.join(repoRoot, 'node_modules', '.bin', 'opencode'));
}

export class TuiSession extends TmuxSession {
  constructor(bin: string, dir: string, env: NodeJS.ProcessEnv) {
    super([bin, dir], dir, env, 'tui');
  }

  async ready(timeoutMs = 90_000): Promise<void> {
    await waitFor(() => (/ctrl\+p/.test(this.screen()) ? true : undefined), timeoutMs, `the TUI to draw its prompt\n${this.screen()}`, 250);
  }
}
