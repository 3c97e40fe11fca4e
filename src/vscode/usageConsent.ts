/**
 * The usage meter reads the user's Claude sign-in and calls an Anthropic endpoint: it asks first,
 * once, when a sign-in is there to read. The answer is kept in globalState (per user, all
 * windows). Turning `usage.enabled` on explicitly in the user settings counts as a yes.
 */
import * as fs from 'node:fs';
import * as vscode from 'vscode';

const CONSENT_KEY = 'opencodeMonitor.usageConsent';
type Answer = 'granted' | 'declined';

export class UsageConsent {
  private asking: Promise<boolean> | undefined;

  constructor(
    private readonly state: vscode.Memento,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {}

  /** Decided already: true (go), false (stay off), undefined (not asked yet). */
  answer(): boolean | undefined {
    const explicit = vscode.workspace.getConfiguration('opencodeMonitor').inspect<boolean>('usage.enabled')?.globalValue;
    if (explicit === true) return true;
    const stored = this.state.get<Answer>(CONSENT_KEY);
    return stored === undefined ? undefined : stored === 'granted';
  }

  /** A sign-in the meter could read is on this machine (files only checked for existence; macOS: the Keychain may hold one). */
  credentialsPresent(): boolean {
    // Loaded here, not at activation: the credential readers are part of the lazily loaded usage code.
    const { credentialPaths } = require('../core/usage/credentials') as typeof import('../core/usage/credentials');
    const paths = credentialPaths(this.env);
    return process.platform === 'darwin' || fs.existsSync(paths.claudeCredentials) || fs.existsSync(paths.opencodeAuth);
  }

  /** Asks once per window at most; a dismissed prompt is asked again in a later session. */
  ask(): Promise<boolean> {
    this.asking ??= (async () => {
      const show = 'Show Usage';
      const no = 'No, Thanks';
      const choice = await vscode.window.showInformationMessage(
        'OpenCode Monitor can show your Claude subscription usage (5-hour and 7-day windows) in the status bar. ' +
          'It reads your Claude sign-in on this machine (never changes or copies it) and asks Anthropic every 5 minutes. Show it?',
        show,
        no,
      );
      if (choice === undefined) return false;
      await this.state.update(CONSENT_KEY, choice === show ? 'granted' : 'declined');
      return choice === show;
    })();
    return this.asking;
  }
}
