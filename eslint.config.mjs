// Lint: typescript-eslint's recommended rules (no type information: fast) plus the layer
// boundaries of ARCHITECTURE.md, enforced with no-restricted-imports.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Import patterns that leave a room: `..` deep enough to reach the named folder. */
const up = (folders, depth = 4) =>
  folders.flatMap((f) => Array.from({ length: depth }, (_, i) => `${'../'.repeat(i + 1)}${f}`).flatMap((p) => [p, `${p}/**`]));

const coreRooms = ['api', 'claude', 'labels', 'cli', 'db', 'discovery', 'legacy', 'monitor', 'opencode', 'platform', 'present', 'servers', 'usage', 'createMonitor', 'log'];

export default tseslint.config(
  { ignores: ['out/**', 'out-vscode/**', 'dist/**', 'node_modules/**', '.cache/**', '**/*.js', '**/*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-require-imports': 'off',
      // A timer handle declared before the closure that clears it is assigned once, after.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // Removing control characters from outside text is one of this project's jobs.
      'no-control-regex': 'off',
      // `import { z } from 'zod'` pulls every zod locale into the bundle (~250 KB, issue 13).
      'no-restricted-syntax': ['error', {
        selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier",
        message: "Use `import * as z from 'zod'`: a named import bundles every zod locale.",
      }],
    },
  },
  {
    // The core is plain Node: no `vscode`, nothing from the hosts.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core runs without VS Code (CLI, daemon): no vscode import.' }],
        patterns: [{ group: [...up(['vscode', 'cli', 'extension']), '../../../*'], message: 'src/core imports nothing outside src/core.' }],
      }],
    },
  },
  {
    // The ground floor: model types and pure helpers, imported by every room above.
    files: ['src/core/model/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'src/core runs without VS Code.' }],
        patterns: [{ group: [...up(coreRooms, 1), '../os/**', '../os', '../../*'], message: 'src/core/model is the ground floor: it imports only itself and core/util.' }],
      }],
    },
  },
  {
    // The CLI is a host beside VS Code: it uses the core, never the VS Code host.
    files: ['src/cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: [{ name: 'vscode', message: 'The CLI runs without VS Code.' }],
        patterns: [{ group: up(['vscode', 'extension']), message: 'src/cli never imports src/vscode.' }],
      }],
    },
  },
  {
    // Tests and benchmarks may use Node's require for fixtures and fakes.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
