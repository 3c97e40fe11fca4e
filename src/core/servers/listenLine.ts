/**
 * OpenCode prints the address it listens on to stdout only, as
 * `opencode server listening on http://127.0.0.1:4096`; with `--port 0` that line is the only
 * way to learn the port.
 */
import { cleanLine } from './outputLines';

export interface ListenAddress {
  host: string;
  port: number;
}

const LISTEN = /opencode server listening on https?:\/\/(\[[^\]\s]+\]|[^\s/:]+):(\d{1,5})(?![\d])/i;

/** The address in a stdout line, or undefined for any other line. */
export function parseListenLine(line: string): ListenAddress | undefined {
  const m = LISTEN.exec(cleanLine(line));
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host: m[1] ?? '', port };
}
