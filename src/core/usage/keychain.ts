/**
 * The macOS Keychain item Claude Code keeps its sign-in in, read with `security` (argument array,
 * no shell, 5 s deadline). Never used elsewhere.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';

/** Reads one generic password from the macOS Keychain: the secret, or undefined when absent. */
export type KeychainReader = (service: string, account: string | undefined) => Promise<string | undefined>;

export type ExecFileText = (file: string, args: string[], options: { timeout: number; maxBuffer: number }) => Promise<string>;

export const KEYCHAIN_SERVICE = 'Claude Code-credentials';
const KEYCHAIN_NOT_FOUND = 44;
/** The most `security` may print (as much as a credential file may hold). */
const MAX_OUTPUT_BYTES = 1024 * 1024;

/** Service names Claude Code uses: with CLAUDE_CONFIG_DIR it appends the first 8 hex of sha256(dir). */
export function keychainServices(claudeConfigDir: string | undefined): string[] {
  if (!claudeConfigDir) return [KEYCHAIN_SERVICE];
  const hash = createHash('sha256').update(claudeConfigDir).digest('hex').slice(0, 8);
  return [`${KEYCHAIN_SERVICE}-${hash}`, KEYCHAIN_SERVICE];
}

/** `security -w` prints the secret as hex when it holds non-printable bytes. */
export function decodeKeychainValue(raw: string): string {
  const text = raw.trim();
  if (text.startsWith('{') || !/^(?:[0-9a-f]{2})+$/i.test(text)) return text;
  return Buffer.from(text, 'hex').toString('utf8');
}

/** The default KeychainReader: `security` with an argument array (no shell), 5 s deadline. */
export function securityKeychainReader(run: ExecFileText = execFileText): KeychainReader {
  return async (service, account) => {
    const args = ['find-generic-password', '-s', service, ...(account ? ['-a', account] : []), '-w'];
    try {
      return await run('security', args, { timeout: 5_000, maxBuffer: MAX_OUTPUT_BYTES });
    } catch (error) {
      if ((error as { code?: unknown }).code === KEYCHAIN_NOT_FOUND) return undefined;
      // Our own message, no cause: the child's error could quote its output (the token).
      // eslint-disable-next-line preserve-caught-error
      throw new Error(`security exited with ${String((error as { code?: unknown }).code ?? 'an error')}`);
    }
  };
}

function execFileText(file: string, args: string[], options: { timeout: number; maxBuffer: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, encoding: 'utf8', windowsHide: true }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  });
}
