// Bundles the extension and the CLI. `--production` minifies and drops source maps; `--watch` rebuilds.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'warning',
  // A problem matcher in watch mode reads these lines.
  plugins: [
    {
      name: 'report',
      setup(build) {
        build.onEnd((result) => {
          for (const { text, location } of result.errors) {
            console.error(`✘ [ERROR] ${text}`);
            if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
          }
        });
      },
    },
  ],
};

const targets = [
  { ...common, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] },
  {
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
  },
  // History queries run in a worker thread (src/core/history/historyClient.ts loads it by path).
  { ...common, entryPoints: ['src/core/history/historyWorker.ts'], outfile: 'dist/historyWorker.js' },
  // The Insights webview's script (uPlot bundled in) and, beside it, dist/insights.css.
  {
    ...common,
    entryPoints: ['src/vscode/insights/webview/main.ts'],
    outfile: 'dist/insights.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    minify: true,
  },
];

if (watch) {
  const contexts = await Promise.all(targets.map((t) => esbuild.context(t)));
  await Promise.all(contexts.map((c) => c.watch()));
} else {
  await Promise.all(targets.map((t) => esbuild.build(t)));
}
