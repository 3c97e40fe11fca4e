/**
 * Runs the in-host suite in a downloaded VS Code (needs internet: offline it fails in
 * downloadAndUnzipVSCode with ENOTFOUND). Build first: `npm run build && tsc -p tsconfig.vscode.json`,
 * then `node out-vscode/test/vscode/runElectron.js`. VSCODE_TEST_VERSION picks the VS Code version.
 */
import * as path from 'node:path';
import { runTests } from '@vscode/test-electron';

async function main(): Promise<void> {
  // Compiled to out-vscode/test/vscode/runElectron.js: the repository root is three levels up.
  const extensionDevelopmentPath = path.resolve(__dirname, '..', '..', '..');
  const extensionTestsPath = path.resolve(__dirname, 'index.js');
  const exitCode = await runTests({
    version: process.env.VSCODE_TEST_VERSION ?? 'stable',
    extensionDevelopmentPath,
    extensionTestsPath,
    launchArgs: ['--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes'],
  });
  process.exitCode = exitCode;
}

main().catch((error: unknown) => {
  console.error('in-host tests could not run:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
