/** Fixture access and small fakes shared by the discovery tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CommandResult, CommandRunner } from '../../../src/core/os/exec';

// out/test/unit/discovery → repository root is four levels up.
export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/discovery');
export const SAMPLES = path.join(REPO_ROOT, 'test/fixtures/samples/opencode-1.18.33');

export function fixture(relative: string): string {
  return fs.readFileSync(path.join(FIXTURES, relative), 'utf8');
}

export interface RecordedCall {
  file: string;
  args: string[];
}

/** A CommandRunner answering from a table keyed by `file arg0 arg1…` prefixes. */
export function fakeRunner(
  answer: (file: string, args: readonly string[]) => Partial<CommandResult> | Error,
): CommandRunner & { calls: RecordedCall[] } {
  const calls: RecordedCall[] = [];
  const run = (async (file: string, args: readonly string[]) => {
    calls.push({ file, args: [...args] });
    const r = answer(file, args);
    if (r instanceof Error) throw r;
    return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.code ?? 0 };
  }) as CommandRunner & { calls: RecordedCall[] };
  run.calls = calls;
  return run;
}

/** A clock the test moves by hand. */
export class ManualTime {
  t = 1_000_000;
  now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}
