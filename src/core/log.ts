/**
 * The core's logging seam. VS Code's LogOutputChannel satisfies this interface as it is,
 * so the core stays free of `vscode` and tests can capture what was logged.
 */
export interface Logger {
  trace(message: string, ...args: unknown[]): void;
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string | Error, ...args: unknown[]): void;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';

const levelRank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, off: 5 };

export const nullLogger: Logger = {
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

export interface LogRecord {
  level: Exclude<LogLevel, 'off'>;
  message: string;
  args: unknown[];
}

/** Writes formatted lines to a sink (stderr, a file); used by the CLI and daemon. */
export function createLineLogger(write: (line: string) => void, minLevel: LogLevel = 'info'): Logger {
  const emit = (level: Exclude<LogLevel, 'off'>) => (message: string | Error, ...args: unknown[]) => {
    if (levelRank[level] < levelRank[minLevel]) return;
    const text = message instanceof Error ? message.message : message;
    const extra = args.length ? ' ' + args.map(formatArg).join(' ') : '';
    write(`${new Date().toISOString()} [${level}] ${text}${extra}`);
  };
  return { trace: emit('trace'), debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** Keeps every record in memory: tests assert on what was (and was not) logged. */
export class MemoryLogger implements Logger {
  readonly records: LogRecord[] = [];
  trace(message: string, ...args: unknown[]): void { this.push('trace', message, args); }
  debug(message: string, ...args: unknown[]): void { this.push('debug', message, args); }
  info(message: string, ...args: unknown[]): void { this.push('info', message, args); }
  warn(message: string, ...args: unknown[]): void { this.push('warn', message, args); }
  error(message: string | Error, ...args: unknown[]): void {
    this.push('error', message instanceof Error ? message.message : message, args);
  }
  text(): string {
    return this.records.map((r) => `[${r.level}] ${r.message} ${r.args.map(formatArg).join(' ')}`).join('\n');
  }
  private push(level: LogRecord['level'], message: string, args: unknown[]): void {
    this.records.push({ level, message, args });
  }
}

function formatArg(arg: unknown): string {
  if (arg instanceof Error) return arg.message;
  if (typeof arg === 'string') return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}
