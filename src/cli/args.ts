/** A small argv parser: no dependency, errors that say which option is wrong. */
export interface ParsedArgs {
  command: string;
  positionals: string[];
  flags: Set<string>;
  options: Map<string, string>;
  endpoints: string[];
  interval?: number;
}

/** The longest delay Node's timers take (2^31-1 ms, about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const FLAGS = new Set(['json', 'help', 'no-discovery', 'no-usage', 'docker', 'no-restart']);
const OPTIONS = new Set(['state-file', 'usage-file', 'log-file', 'lock-file', 'endpoint', 'interval', 'opencode', 'log-dir', 'docker-path', 'socket', 'agents']);
/** Options whose value may be left out (`--socket` alone: the default path). */
const OPTIONAL_VALUE = new Set(['socket']);
const COMMANDS = new Set(['watch', 'status', 'daemon', 'serve', 'probe', 'events', 'help', 'label', 'list', 'focus']);

export function parseArgs(argv: string[]): ParsedArgs {
  const result: ParsedArgs = { command: 'watch', positionals: [], flags: new Set(), options: new Map(), endpoints: [] };
  let commandSeen = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      result.flags.add('help');
      continue;
    }
    if (arg.startsWith('--')) {
      const [name, inline] = splitOption(arg.slice(2));
      if (FLAGS.has(name)) {
        if (inline !== undefined) throw new Error(`--${name} takes no value`);
        result.flags.add(name);
        continue;
      }
      if (!OPTIONS.has(name)) throw new Error(`unknown option --${name}`);
      if (OPTIONAL_VALUE.has(name) && inline === undefined && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('-') || COMMANDS.has(argv[i + 1]!))) {
        result.options.set(name, '');
        continue;
      }
      const value = inline ?? argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`--${name} needs a value`);
      if (name === 'endpoint') result.endpoints.push(value);
      else if (name === 'interval') {
        const n = Number(value);
        // Node fires a timer above 2^31-1 ms after 1 ms: bounded, not clamped silently (issue 11).
        if (!Number.isFinite(n) || n < 100 || n > MAX_TIMER_MS) throw new Error(`--interval must be a number of milliseconds from 100 to ${MAX_TIMER_MS}`);
        result.interval = n;
      } else result.options.set(name, value);
      continue;
    }
    if (!commandSeen && COMMANDS.has(arg)) {
      result.command = arg;
      commandSeen = true;
      continue;
    }
    if (!commandSeen && result.positionals.length === 0 && !arg.includes('://')) {
      result.command = arg; // reported as unknown by the caller
      commandSeen = true;
      continue;
    }
    result.positionals.push(arg);
  }
  return result;
}

function splitOption(text: string): [string, string | undefined] {
  const eq = text.indexOf('=');
  return eq < 0 ? [text, undefined] : [text.slice(0, eq), text.slice(eq + 1)];
}
