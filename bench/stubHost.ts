/**
 * A stub `vscode` module for running the production bundle in a plain Node process (bench only):
 * enough of the API for activate() and the sessions tree, everything else a harmless proxy.
 */
import Module from 'node:module';

export interface DisposableLike {
  dispose(): void;
}

/** Anything not stubbed below: callable, every property another stub, never a thenable. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a stub host: every property is anything
function anything(name: string): any {
  const fn = function () {
    return anything(`${name}()`);
  };
  return new Proxy(fn, {
    get(_target, key) {
      if (key === 'then') return undefined;
      if (key === Symbol.toPrimitive) return () => '';
      if (key === Symbol.iterator) return undefined;
      if (key === 'dispose') return () => undefined;
      return anything(`${name}.${String(key)}`);
    },
    construct() {
      return anything(`new ${name}`);
    },
  });
}

class EventEmitter<T> {
  private listeners = new Set<(e: T) => void>();
  readonly event = (listener: (e: T) => void): DisposableLike => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

class Disposable {
  static from(...items: DisposableLike[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  constructor(private readonly fn: () => void = () => undefined) {}
  dispose(): void {
    this.fn();
  }
}

const noopEvent = () => ({ dispose: () => undefined });
// OCM_BENCH_LOG set (run.ts passes its environment on and appends our stderr to that file): the
// extension's log on stderr, ms since the process started (why a run was slow).
const say = (level: string) =>
  process.env.OCM_BENCH_LOG ? (message: string) => process.stderr.write(`${performance.now().toFixed(0).padStart(6)} ${level} ${message}\n`) : () => undefined;
const logChannel = () => ({
  name: 'log',
  logLevel: process.env.OCM_BENCH_LOG ? 1 : 2,
  onDidChangeLogLevel: noopEvent,
  trace: say('trace'),
  debug: say('debug'),
  info: say('info'),
  warn: say('warn'),
  error: say('error'),
  append: () => undefined,
  appendLine: () => undefined,
  replace: () => undefined,
  clear: () => undefined,
  show: () => undefined,
  hide: () => undefined,
  dispose: () => undefined,
});

function makeStub(window: Record<string, unknown>) {
  return {
  EventEmitter,
  Disposable,
  TreeItem: class {
    constructor(
      public label: unknown,
      public collapsibleState?: number,
    ) {}
  },
  ThemeIcon: class {
    constructor(
      public id: string,
      public color?: unknown,
    ) {}
  },
  ThemeColor: class {
    constructor(public id: string) {}
  },
  MarkdownString: class {
    value = '';
    constructor(value = '') {
      this.value = value;
    }
    appendMarkdown(text: string) {
      this.value += text;
      return this;
    }
    appendText(text: string) {
      this.value += text;
      return this;
    }
    appendCodeblock(text: string) {
      this.value += text;
      return this;
    }
  },
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
  Uri: { parse: (s: string) => ({ toString: () => s }), file: (s: string) => ({ fsPath: s, toString: () => `file://${s}` }) },
  window: new Proxy(
    {
      createOutputChannel: logChannel,
      createStatusBarItem: () => ({ show: () => undefined, hide: () => undefined, dispose: () => undefined }),
      createTreeView: () => anything('treeView'),
      terminals: [],
      activeTerminal: undefined,
      state: { focused: true },
      ...window,
    } as Record<string, unknown>,
    { get: (target, key: string) => (key in target ? target[key] : key.startsWith('onDid') ? noopEvent : anything(`window.${key}`)) },
  ),
  workspace: new Proxy(
    {
      getConfiguration: () => ({ get: (_key: string, fallback?: unknown) => fallback, has: () => false, inspect: () => undefined, update: async () => undefined }),
      workspaceFolders: undefined,
    } as Record<string, unknown>,
    { get: (target, key: string) => (key in target ? target[key] : key.startsWith('onDid') ? noopEvent : anything(`workspace.${key}`)) },
  ),
  commands: { registerCommand: () => ({ dispose: () => undefined }), executeCommand: async () => undefined },
  env: { clipboard: { writeText: async () => undefined } },
  };
}

/**
 * Answers `require('vscode')` with the stub from now on; `window` overrides members of
 * `vscode.window` (e.g. `createTreeView`, to get hold of the tree's data provider).
 */
export function installStubHost(window: Record<string, unknown> = {}): void {
  const stub = makeStub(window);
  const vscode = new Proxy(stub as Record<string, unknown>, { get: (target, key: string) => (key in target ? target[key] : anything(`vscode.${key}`)) });
  const loader = Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown };
  const originalLoad = loader._load;
  loader._load = function (request: string, ...args: unknown[]) {
    if (request === 'vscode') return vscode;
    return originalLoad.call(this, request, ...args);
  };
}

/** An ExtensionContext good enough for activate(). */
export function stubContext(): { subscriptions: DisposableLike[] } & Record<string, unknown> {
  return {
    subscriptions: [] as DisposableLike[],
    secrets: { get: async () => undefined, store: async () => undefined, delete: async () => undefined, onDidChange: noopEvent },
    globalState: { get: (_k: string, d?: unknown) => d, update: async () => undefined, keys: () => [], setKeysForSync: () => undefined },
    workspaceState: { get: (_k: string, d?: unknown) => d, update: async () => undefined, keys: () => [] },
    extension: { id: 'opencode-monitor.opencode-monitor', packageJSON: { version: '0.0.0-bench' } },
    extensionPath: process.cwd(),
    extensionUri: { fsPath: process.cwd() },
    logUri: { fsPath: '/tmp' },
  };
}
