/**
 * Entry point of the in-host suite (`extensionTestsPath`): the extension host awaits run() and
 * exits 0 when it resolves, 1 when it rejects. Launched by test/e2e (code-server's smoke-test
 * driver, offline) or test/vscode/runElectron.ts (@vscode/test-electron, needs a download).
 */
import { runCases } from './runner';
import { extensionCases } from './extension.suite';

export async function run(): Promise<void> {
  const { fail } = await runCases(extensionCases);
  if (fail > 0) throw new Error(`${fail} in-host test(s) failed`);
}
