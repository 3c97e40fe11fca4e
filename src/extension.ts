/** The extension's entry point (package.json `main` is its bundle): the VS Code host lives in src/vscode. */
export { activate, deactivate } from './vscode/activate';
