/**
 * A tiny test runner for the extension host (no mocha): runs cases in order and prints TAP-like
 * lines ending in node:test's summary (`# pass N`, `# fail N`), to the console and, when
 * OCM_VSCODE_TEST_REPORT names a file, to that file too (code-server does not forward the
 * extension host's console to its own stdout).
 */
import * as fs from 'node:fs';
import { inspect } from 'node:util';

export interface TestCase {
  name: string;
  fn: () => unknown;
  /** Default 20 s. */
  timeoutMs?: number;
  /** A reason to skip, or a function returning one (undefined = run). */
  skip?: string | (() => string | undefined);
}

export interface RunResult {
  pass: number;
  fail: number;
  skipped: number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`"${name}" timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function runCases(cases: readonly TestCase[], out: (line: string) => void = defaultOut()): Promise<RunResult> {
  const result: RunResult = { pass: 0, fail: 0, skipped: 0 };
  const started = Date.now();
  out('TAP version 13');
  let n = 0;
  for (const c of cases) {
    n++;
    const skip = typeof c.skip === 'function' ? c.skip() : c.skip;
    if (skip) {
      result.skipped++;
      out(`ok ${n} - ${c.name} # SKIP ${skip}`);
      continue;
    }
    const t0 = Date.now();
    try {
      await withTimeout(Promise.resolve().then(c.fn), c.timeoutMs ?? 20_000, c.name);
      result.pass++;
      out(`ok ${n} - ${c.name} (${Date.now() - t0} ms)`);
    } catch (error) {
      result.fail++;
      out(`not ok ${n} - ${c.name} (${Date.now() - t0} ms)`);
      for (const line of inspect(error).split('\n')) out(`  # ${line}`);
    }
  }
  out(`1..${n}`);
  out(`# tests ${n}`);
  out(`# pass ${result.pass}`);
  out(`# fail ${result.fail}`);
  out(`# skipped ${result.skipped}`);
  out(`# duration_ms ${Date.now() - started}`);
  return result;
}

function defaultOut(): (line: string) => void {
  const report = process.env.OCM_VSCODE_TEST_REPORT;
  return (line) => {
    console.log(line);
    if (report) fs.appendFileSync(report, `${line}\n`);
  };
}
