/** CSS imported by the webview script: esbuild emits it as dist/insights.css. */
declare module '*.css';
