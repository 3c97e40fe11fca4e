/** Runs OS tools for the macOS and Windows scanners: argument arrays, never a shell, always a deadline. */
import { execFile } from 'node:child_process';

export interface CommandResult {
  stdout: string;
  stderr: string;
  /** Exit code; several tools exit 1 for "nothing found" (lsof), so callers decide. */
  code: number;
}

export type CommandRunner = (file: string, args: readonly string[], options?: { timeoutMs?: number }) => Promise<CommandResult>;

export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/** Rejects when the tool is missing, times out or dies of a signal; resolves with any exit code. */
export const runCommand: CommandRunner = (file, args, options = {}) =>
  new Promise((resolve, reject) => {
    const timeout = options.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    execFile(
      file,
      [...args],
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 32 * 1024 * 1024,
        windowsHide: true,
        encoding: 'utf8',
        // Fixed formats (ps lstart, netstat state words) regardless of the user's locale.
        env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr, code: 0 });
        const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: unknown };
        if (typeof e.code === 'number') return resolve({ stdout, stderr, code: e.code });
        if (e.killed) return reject(new Error(`${file} timed out after ${timeout} ms`));
        if (e.signal) return reject(new Error(`${file} died of ${e.signal}`));
        reject(error);
      },
    );
  });
