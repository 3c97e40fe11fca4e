/** Pure parsers of what Linux shows under /proc: tty numbers, environ, cmdline, /proc/net/tcp{,6}, sockets. */
import * as os from 'node:os';
import type { EnvSubset } from './classify';
import type { ListenAddress } from './types';
import { pickEnv } from './classify';

/** tty_nr (a dev_t) → `pts/N`, `ttyN`, `ttySN`; undefined when there is none or it is unknown. */
export function decodeTtyNr(ttyNr: number): string | undefined {
  if (!Number.isInteger(ttyNr) || ttyNr <= 0) return undefined;
  const major = (ttyNr >>> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >>> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 1) return 'console';
  return undefined;
}

/** NUL-separated KEY=VALUE, keeping only the keys discovery needs. */
export function parseEnviron(raw: string): EnvSubset {
  const entries: Array<[string, string]> = [];
  for (const kv of raw.split('\0')) {
    const i = kv.indexOf('=');
    if (i > 0) entries.push([kv.slice(0, i), kv.slice(i + 1)]);
  }
  return pickEnv(entries);
}

export function parseCmdline(raw: string): string[] {
  const parts = raw.split('\0');
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

export interface TcpRow {
  address: string;
  port: number;
  /** Hex state: `0A` = LISTEN. */
  state: string;
  uid: number;
  inode: number;
}

/**
 * Rows of /proc/net/tcp or tcp6. Addresses are hex 32-bit words in host byte order (so
 * `0100007F` is 127.0.0.1 on little-endian machines); ports are big-endian hex.
 */
export function parseProcNetTcp(text: string, littleEndian = os.endianness() === 'LE'): TcpRow[] {
  const rows: TcpRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0] ?? '')) continue;
    const local = f[1] ?? '';
    const colon = local.indexOf(':');
    if (colon < 0) continue;
    const address = decodeHexAddress(local.slice(0, colon), littleEndian);
    const port = parseInt(local.slice(colon + 1), 16);
    const inode = Number(f[9]);
    if (address === undefined || !Number.isFinite(port) || !Number.isFinite(inode)) continue;
    rows.push({ address, port, state: (f[3] ?? '').toUpperCase(), uid: Number(f[7]), inode });
  }
  return rows;
}

export function decodeHexAddress(hex: string, littleEndian = os.endianness() === 'LE'): string | undefined {
  if (!/^[0-9a-fA-F]+$/.test(hex) || (hex.length !== 8 && hex.length !== 32)) return undefined;
  const bytes: number[] = [];
  for (let w = 0; w < hex.length; w += 8) {
    const word = parseInt(hex.slice(w, w + 8), 16);
    const be = [(word >>> 24) & 0xff, (word >>> 16) & 0xff, (word >>> 8) & 0xff, word & 0xff];
    bytes.push(...(littleEndian ? be.reverse() : be));
  }
  if (bytes.length === 4) return bytes.join('.');
  return formatIpv6(bytes);
}

function formatIpv6(bytes: number[]): string {
  const isMapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (isMapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  // RFC 5952: compress the longest run (≥ 2) of zero groups.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexOf = (g: number[]): string => g.map((x) => x.toString(16)).join(':');
  if (bestLen < 2) return hexOf(groups);
  return `${hexOf(groups.slice(0, bestStart))}::${hexOf(groups.slice(bestStart + bestLen))}`;
}

/** LISTEN sockets by inode, from the tcp and tcp6 tables. */
export function listenSockets(tables: readonly string[], littleEndian?: boolean): Map<number, ListenAddress> {
  const map = new Map<number, ListenAddress>();
  for (const table of tables) {
    for (const row of parseProcNetTcp(table, littleEndian)) {
      if (row.state === '0A' && row.inode > 0) map.set(row.inode, { address: row.address, port: row.port });
    }
  }
  return map;
}

/**
 * Scans the complete lines of a tcp table from `from`: `stop` is where the first row that is neither
 * LISTEN (0A) nor SYN_RECV (03: kernels before 4.4 listed open requests among the listeners) starts.
 */
export function pastListeners(text: string, from: number): { stop?: number; checked: number } {
  let start = from;
  let end: number;
  while ((end = text.indexOf('\n', start)) >= 0) {
    const state = /^\s*\d+:\s+\S+\s+\S+\s+([0-9A-Fa-f]{2})\s/.exec(text.slice(start, end))?.[1]?.toUpperCase();
    if (state !== undefined && state !== '0A' && state !== '03') return { stop: start, checked: start };
    start = end + 1;
  }
  return { checked: start };
}

/** `TCP: inuse N …` / `TCP6: inuse N` of /proc/net/sockstat{,6}; undefined when unreadable. */
export function tcpSocketsInUse(sockstat: string | undefined): number | undefined {
  const m = sockstat === undefined ? null : /^TCP6?: inuse (\d+)/m.exec(sockstat);
  return m ? Number(m[1]) : undefined;
}

/** `socket:[12345]` → 12345. */
export function socketInode(link: string): number | undefined {
  const m = /^socket:\[(\d+)\]$/.exec(link);
  return m ? Number(m[1]) : undefined;
}
