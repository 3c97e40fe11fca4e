/**
 * Loads the production bundle in a plain Node process with a stub `vscode` module and times
 * `require` + `activate()`: the extension's own share of activation, without VS Code around it.
 * Prints one JSON line; run once per sample (a fresh process each time).
 */
import { installStubHost, stubContext } from './stubHost';

installStubHost();

async function main(): Promise<void> {
  const bundle = process.argv[2]!;
  const context = stubContext();
  const t0 = performance.now();
  const ext = require(bundle) as { activate(c: unknown): void; deactivate(): Promise<void> };
  const t1 = performance.now();
  ext.activate(context);
  const t2 = performance.now();
  await ext.deactivate();
  for (const d of context.subscriptions) d.dispose();
  process.stdout.write(JSON.stringify({ loadMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0 }) + '\n');
  setImmediate(() => process.exit(0));
}

main().catch((error: unknown) => {
  process.stdout.write(JSON.stringify({ error: error instanceof Error ? error.stack ?? error.message : String(error) }) + '\n');
  process.exit(1);
});
