/**
 * The Insights panel, created on first use: its module (and the history client) is required only
 * when "Show Insights" or "Show Trace" runs, so activation stays as cheap as before.
 */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { Insights } from './insightsPanel';

export class LazyInsights implements vscode.Disposable {
  private insights: Insights | undefined;

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly logger: Logger,
  ) {}

  show(traceSessionId?: string): void {
    if (!this.insights) {
      const { Insights: Panel } = require('./insightsPanel') as typeof import('./insightsPanel');
      // Machine-scoped: a workspace cannot point the panel at another file.
      const dbFile = () => vscode.workspace.getConfiguration('opencodeMonitor').get<string>('insights.databasePath')?.trim() || undefined;
      this.insights = new Panel({ extensionUri: this.extensionUri, logger: this.logger, dbFile });
    }
    this.insights.show(traceSessionId);
  }

  dispose(): void {
    this.insights?.dispose();
  }
}
