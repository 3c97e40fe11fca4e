/**
 * In-host checks that follow package.json: whatever the manifest contributes (commands, views,
 * settings) must be real once the extension is active, so the suite grows with the manifest.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TestCase } from './runner';

export const EXTENSION_ID = 'opencode-monitor.opencode-monitor';
/** Run when contributed: they take no argument and ask nothing. */
const SAFE_COMMANDS = ['opencodeMonitor.showLog', 'opencodeMonitor.refresh'];

interface Manifest {
  version: string;
  extensionKind?: string[];
  contributes?: {
    commands?: Array<{ command: string; title: string }>;
    views?: Record<string, Array<{ id: string; name: string; type?: string }>>;
    configuration?: { properties?: Record<string, { default?: unknown }> } | Array<{ properties?: Record<string, { default?: unknown }> }>;
  };
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not installed in this host`);
  return ext;
}

function manifest(): Manifest {
  return extension().packageJSON as Manifest;
}

function settings(): Array<[string, { default?: unknown }]> {
  const c = manifest().contributes?.configuration;
  const blocks = Array.isArray(c) ? c : c ? [c] : [];
  return blocks.flatMap((b) => Object.entries(b.properties ?? {}));
}

export const extensionCases: TestCase[] = [
  {
    name: 'the extension activates',
    fn: async () => {
      const ext = extension();
      await ext.activate();
      assert.equal(ext.isActive, true);
    },
  },
  {
    name: 'it runs in the workspace extension host (extensionKind workspace)',
    fn: () => {
      if (manifest().extensionKind?.includes('workspace')) assert.equal(extension().extensionKind, vscode.ExtensionKind.Workspace);
    },
  },
  {
    name: 'every contributed command is registered',
    fn: async () => {
      const registered = new Set(await vscode.commands.getCommands(true));
      const missing = (manifest().contributes?.commands ?? []).map((c) => c.command).filter((id) => !registered.has(id));
      assert.deepEqual(missing, [], `contributed but not registered: ${missing.join(', ')}`);
    },
  },
  {
    name: 'commands that need no argument and no input run: Show Log, Refresh',
    fn: async () => {
      const contributed = new Set((manifest().contributes?.commands ?? []).map((c) => c.command));
      for (const id of SAFE_COMMANDS) if (contributed.has(id)) await vscode.commands.executeCommand(id);
    },
  },
  {
    name: 'every contributed view can be focused',
    fn: async () => {
      const views = Object.values(manifest().contributes?.views ?? {}).flat();
      for (const view of views) await vscode.commands.executeCommand(`${view.id}.focus`);
    },
  },
  {
    name: 'contributed settings read back their defaults',
    fn: () => {
      for (const [key, schema] of settings()) {
        if (!('default' in schema)) continue;
        assert.deepEqual(vscode.workspace.getConfiguration().inspect(key)?.defaultValue, schema.default, key);
      }
    },
  },
];
