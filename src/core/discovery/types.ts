/**
 * What process discovery reports: running OpenCode processes of the current user, read from the
 * OS (no HTTP). Whether a port really is OpenCode is decided later by the probe (portProbe.ts).
 */

export type OpencodeProcessKind = 'serve' | 'web' | 'tui' | 'unknown';

/** One TCP socket in LISTEN state. */
export interface ListenAddress {
  /** As the OS reports it: `127.0.0.1`, `0.0.0.0`, `::`, `::1`, `::ffff:127.0.0.1`. */
  address: string;
  port: number;
}

export interface OpencodeProcess {
  pid: number;
  ppid: number;
  /** Controlling terminal without `/dev/`: `pts/3`, `ttys003`; absent when it has none. */
  tty?: string;
  /** Working directory (the project folder); absent when the OS does not tell us. */
  cwd?: string;
  /** argv as the process sees it (on macOS/Windows re-split from one command-line string). */
  args: string[];
  kind: OpencodeProcessKind;
  /** TCP LISTEN ports of this pid, ascending, unique. */
  ports: number[];
  /** The same sockets with their bound address (decides which URL reaches the port). */
  listeners: ListenAddress[];
  /** HOME from the process environment, when readable. */
  home?: string;
  /** Folder of its `opencode.db`: `$XDG_DATA_HOME/opencode` or `$HOME/.local/share/opencode`. */
  dataDir?: string;
  /** Start time in ms since the epoch: together with pid it identifies a process (pids are reused). */
  startTime?: number;
}

export interface ProcessScanner {
  /** OpenCode instances of the current user. Rejects only when the OS could not be read at all. */
  scan(): Promise<OpencodeProcess[]>;
}
