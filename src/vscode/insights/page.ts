/**
 * The Insights webview's page and the check of what the webview asks (no `vscode` import: tested
 * in Node). The page loads our bundled script (with a nonce) and style only; no network.
 */
import type { LoadRequest } from './protocol';
import { isSince } from './protocol';

const MAX_SEARCH = 200;

export interface PageSources {
  /** webview.cspSource */
  cspSource: string;
  /** webview URIs of dist/insights.js and dist/insights.css */
  script: string;
  style: string;
  /** Fresh per page, base64. */
  nonce: string;
}

const attr = (s: string): string => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function insightsHtml(p: PageSources): string {
  const csp = [
    "default-src 'none'",
    `style-src ${p.cspSource}`,
    `script-src 'nonce-${p.nonce}'`,
    `img-src ${p.cspSource} data:`,
    `font-src ${p.cspSource}`,
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${attr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${attr(p.style)}">
<title>OpenCode Insights</title>
</head>
<body>
<div id="app" aria-live="polite"></div>
<script nonce="${attr(p.nonce)}" src="${attr(p.script)}"></script>
</body>
</html>`;
}

/** The webview may ask anything (its content is model text); only well-formed, bounded requests reach the worker. */
export function validRequest(value: unknown): LoadRequest | undefined {
  const r = value as Record<string, unknown> | undefined;
  if (!r || typeof r !== 'object') return undefined;
  switch (r.view) {
    case 'overview':
    case 'tools':
    case 'security':
      return isSince(r.since) ? { view: r.view, since: r.since } : undefined;
    case 'sessions': {
      if (!isSince(r.since)) return undefined;
      const search = typeof r.search === 'string' ? r.search.slice(0, MAX_SEARCH) : '';
      const offset = typeof r.offset === 'number' && Number.isInteger(r.offset) && r.offset >= 0 && r.offset < 1e7 ? r.offset : 0;
      return { view: 'sessions', since: r.since, search, offset };
    }
    case 'trace':
      return typeof r.sessionId === 'string' && /^[\w-]{1,100}$/.test(r.sessionId) ? { view: 'trace', sessionId: r.sessionId } : undefined;
    default:
      return undefined;
  }
}
