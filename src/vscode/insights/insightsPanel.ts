/**
 * The "OpenCode Insights" webview panel: history (Overview, Tools, Sessions, Trace) and the
 * security audit over OpenCode's own DB. Loaded lazily (registerCommands requires this module on
 * the first "Show Insights" / "Show Trace"). Queries run in the history worker; the panel polls
 * the DB for commits while visible and tells the webview to reload quietly.
 */
import * as crypto from 'node:crypto';
import * as os from 'node:os';
import * as vscode from 'vscode';
import { DbChanges } from '../../core/history/dbChanges';
import { HistoryClient } from '../../core/history/historyClient';
import { defaultDbPath } from '../../core/history/historyDb';
import { windowFromSince } from '../../core/history/since';
import { HistoryError } from '../../core/history/types';
import type { Logger } from '../../core/log';
import { insightsHtml, validRequest } from './page';
import type { InsightsTab, LoadRequest, LoadResult, ToHost, ToWebview } from './protocol';

const VIEW_TYPE = 'opencodeMonitor.insights';
/** How often a visible panel looks for commits (a stat and a PRAGMA). */
const POLL_MS = 3_000;

export interface InsightsOptions {
  extensionUri: vscode.Uri;
  logger: Logger;
  /** The DB to read, asked each time the panel opens; undefined: OpenCode's under XDG_DATA_HOME / ~/.local/share. */
  dbFile?: () => string | undefined;
}

/** One panel per window; `show` reveals it (and optionally traces a session). */
export class Insights implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private client: HistoryClient | undefined;
  private changes: DbChanges | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];
  private pendingTrace: string | undefined;
  private ready = false;

  constructor(private readonly options: InsightsOptions) {}

  show(traceSessionId?: string): void {
    if (traceSessionId !== undefined) this.pendingTrace = traceSessionId;
    if (this.panel) {
      this.panel.reveal();
      this.flushTrace();
      return;
    }
    const dist = vscode.Uri.joinPath(this.options.extensionUri, 'dist');
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'OpenCode Insights', vscode.ViewColumn.Active, {
      enableScripts: true,
      // Nothing but the bundled script and style; no command links.
      localResourceRoots: [dist],
      enableCommandUris: false,
      retainContextWhenHidden: true,
    });
    panel.iconPath = vscode.Uri.joinPath(this.options.extensionUri, 'media', 'icon.svg');
    this.panel = panel;
    this.ready = false;
    const file = this.options.dbFile?.() ?? defaultDbPath();
    panel.webview.html = insightsHtml({
      cspSource: panel.webview.cspSource,
      script: String(panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'insights.js'))),
      style: String(panel.webview.asWebviewUri(vscode.Uri.joinPath(dist, 'insights.css'))),
      nonce: crypto.randomBytes(16).toString('base64'),
    });
    this.disposables.push(
      panel.webview.onDidReceiveMessage((m: unknown) => this.onMessage(m, file)),
      panel.onDidChangeViewState(() => this.schedulePoll()),
      panel.onDidDispose(() => this.closed()),
    );
    if (file) {
      this.client = new HistoryClient({ file, timeoutMs: 60_000 });
      this.changes = new DbChanges(file);
    }
    this.schedulePoll();
  }

  dispose(): void {
    this.panel?.dispose();
    this.closed();
  }

  private closed(): void {
    this.panel = undefined;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const d of this.disposables.splice(0)) d.dispose();
    void this.client?.close();
    this.client = undefined;
    this.changes?.close();
    this.changes = undefined;
  }

  private flushTrace(): void {
    if (!this.ready || !this.panel || this.pendingTrace === undefined) return;
    void this.post({ type: 'showTrace', sessionId: this.pendingTrace });
    this.pendingTrace = undefined;
  }

  private schedulePoll(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.panel?.visible || !this.changes) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      try {
        if (this.changes?.poll()) void this.post({ type: 'changed' });
      } catch (error) {
        this.options.logger.debug?.(`insights: DB poll: ${String(error)}`);
      }
      this.schedulePoll();
    }, POLL_MS);
    this.timer.unref?.();
  }

  private onMessage(message: unknown, file: string | undefined): void {
    const m = message as Partial<ToHost> | undefined;
    if (m?.type === 'ready') {
      this.ready = true;
      this.changes?.poll(); // baseline: what the webview is about to load
      this.flushTrace();
      return;
    }
    if (m?.type !== 'load' || typeof m.seq !== 'number') return;
    const request = validRequest(m.request);
    if (!request) return;
    void this.load(m.seq, request, file);
  }

  private async load(seq: number, request: LoadRequest, file: string | undefined): Promise<void> {
    const started = Date.now();
    try {
      if (!this.client || !file) throw new HistoryError('missing', "cannot find OpenCode's database: neither HOME nor XDG_DATA_HOME is set");
      const result = await this.query(this.client, request);
      await this.post({ type: 'result', seq, result, ms: Date.now() - started });
    } catch (error) {
      const message = error instanceof HistoryError ? error.message : String((error as Error)?.message ?? error).split('\n')[0]!;
      if (!(error instanceof HistoryError)) this.options.logger.warn(`insights: ${request.view}: ${message}`);
      await this.post({ type: 'error', seq, view: request.view as InsightsTab, message });
    }
  }

  private async query(client: HistoryClient, r: LoadRequest): Promise<LoadResult> {
    switch (r.view) {
      case 'overview': {
        const data = await client.request('overview', { window: windowFromSince(r.since), withTools: false, utcOffsetMinutes: -new Date().getTimezoneOffset() });
        return { view: 'overview', data };
      }
      case 'tools':
        return { view: 'tools', data: await client.request('tools', { window: windowFromSince(r.since) }) };
      case 'sessions':
        return { view: 'sessions', data: await client.request('sessions', { window: windowFromSince(r.since), search: r.search, offset: r.offset, limit: 100 }) };
      case 'trace':
        return { view: 'trace', data: await client.request('trace', { sessionId: r.sessionId }) };
      case 'security':
        return { view: 'security', data: await client.request('audit', { window: windowFromSince(r.since), minLevel: 'low', home: os.homedir() }) };
    }
  }

  private async post(message: ToWebview): Promise<void> {
    try {
      await this.panel?.webview.postMessage(message);
    } catch {
      // the panel closed meanwhile
    }
  }
}
