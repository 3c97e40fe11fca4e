/**
 * "Activation → first tree paint with sessions" (issue 18): loads the production bundle in a
 * plain Node process with the stub `vscode` module, activates it, and reads the sessions tree
 * through its own TreeDataProvider (what VS Code would render) every few milliseconds until the
 * lab's instances show, then until each of them shows a session row. The extension discovers
 * processes as it does in VS Code (other OpenCode processes on the machine show up too: only
 * the lab's ports are waited for). Prints one JSON line; one fresh process per sample.
 */
import { installStubHost, stubContext } from './stubHost';

interface Provider {
  getChildren(element?: unknown): unknown[];
  getTreeItem(element: unknown): { label?: unknown; contextValue?: string };
}

let provider: Provider | undefined;
const noopEvent = () => ({ dispose: () => undefined });
installStubHost({
  createTreeView: (_id: string, options: { treeDataProvider: Provider }) => {
    provider = options.treeDataProvider;
    const view: Record<string, unknown> = { visible: true, badge: undefined, reveal: async () => undefined, dispose: () => undefined };
    return new Proxy(view, {
      get: (target, key: string) => (key in target ? target[key] : key.startsWith('onDid') ? noopEvent : undefined),
      set: (target, key: string, value) => {
        target[key] = value;
        return true;
      },
    });
  },
});

/** For each wanted port: whether its instance row is in the tree, and whether it has a session row. */
function paint(ports: number[]): { instances: number; withSessions: number; rows: number } {
  if (!provider) return { instances: 0, withSessions: 0, rows: 0 };
  const roots = provider.getChildren();
  let instances = 0;
  let withSessions = 0;
  for (const port of ports) {
    const row = roots.find((r) => String(provider!.getTreeItem(r).label ?? '').endsWith(`:${port}`));
    if (!row) continue;
    instances++;
    if (provider.getChildren(row).some((c) => /^session\+/.test(provider!.getTreeItem(c).contextValue ?? ''))) withSessions++;
  }
  return { instances, withSessions, rows: roots.length };
}

async function main(): Promise<void> {
  const bundle = process.argv[2]!;
  const ports = JSON.parse(process.argv[3]!) as number[];
  const timeoutMs = 30_000;
  const context = stubContext();
  const ext = require(bundle) as { activate(c: unknown): void; deactivate(): Promise<void> };
  const t0 = performance.now();
  ext.activate(context);
  const activateMs = performance.now() - t0;
  let instancesMs: number | undefined;
  let sessionsMs: number | undefined;
  let last = paint(ports);
  while (performance.now() - t0 < timeoutMs) {
    last = paint(ports);
    if (instancesMs === undefined && last.instances === ports.length) instancesMs = performance.now() - t0;
    if (last.withSessions === ports.length) {
      sessionsMs = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 5));
  }
  await ext.deactivate();
  for (const d of context.subscriptions) d.dispose();
  process.stdout.write(JSON.stringify({ activateMs, instancesMs, sessionsMs, otherInstances: last.rows - last.instances }) + '\n');
  setImmediate(() => process.exit(0));
}

main().catch((error: unknown) => {
  process.stdout.write(JSON.stringify({ error: error instanceof Error ? error.stack ?? error.message : String(error) }) + '\n');
  process.exit(1);
});
