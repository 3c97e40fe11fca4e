/**
 * `npm run vscode`: the packaged extension in a real VS Code (code-server) for a person to try.
 * Opens the folder given as argument (default: this repository) and runs until Ctrl-C.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startCodeServer } from './codeServer';
import { findTools, REPO_ROOT, SETUP_HINT } from './tools';

async function main(): Promise<void> {
  const { tools, missing } = findTools();
  if (!tools) throw new Error(`e2e tools missing (${missing.join(', ')}): ${SETUP_HINT}`);
  const vsix = path.join(REPO_ROOT, 'dist', 'opencode-monitor.vsix');
  if (!fs.existsSync(vsix)) throw new Error(`${vsix} is missing: run \`npm run package\``);
  const folder = path.resolve(process.argv[2] ?? REPO_ROOT);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-try-'));
  const server = await startCodeServer({ tools, root, vsix, marker: `try-${process.pid}` });
  process.stdout.write(`\nOpenCode Monitor in VS Code: ${server.workbenchUrl(folder)}\n(Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  fs.rmSync(root, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
