/**
 * Wiring only: services are created here, pushed to `context.subscriptions` and disposed in
 * reverse order. Domain logic lives in `src/core` (no `vscode` import there).
 */
import * as vscode from 'vscode';
import { OpencodeClient } from './core/opencode/client';
import { isOpencodeError } from './core/opencode/errors';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('OpenCode Monitor', { log: true });
  context.subscriptions.push(log);

  context.subscriptions.push(
    vscode.commands.registerCommand('opencodeMonitor.showLog', () => log.show(true)),
    vscode.commands.registerCommand('opencodeMonitor.probeServer', async () => {
      const url = await vscode.window.showInputBox({
        title: 'Probe an OpenCode server',
        prompt: 'Base URL of a running `opencode serve`',
        value: 'http://127.0.0.1:4096',
        ignoreFocusOut: true,
      });
      if (!url) return;
      const client = new OpencodeClient({ url }, { logger: log });
      try {
        const capabilities = await client.capabilities();
        const sessions = await client.sessions();
        const message = `${client.instance}: OpenCode ${capabilities.version}, ${sessions.length} session(s)`;
        log.info(message, capabilities);
        void vscode.window.showInformationMessage(message);
      } catch (error) {
        const message = isOpencodeError(error) || error instanceof Error ? error.message : String(error);
        log.warn(message);
        void vscode.window.showWarningMessage(message);
      } finally {
        await client.close();
      }
    }),
  );
  log.info(`OpenCode Monitor ${String(context.extension.packageJSON.version)} activated`);
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
