/**
 * Paths and URLs as the rules see them: `~` for the home folder, resolved against the command's
 * working folder, classified inside/outside the project; URL hosts by class (loopback, private,
 * metadata, raw public IP, host name).
 */
import * as posix from 'node:path/posix';
import type { UrlClass } from './ruleSchema';

export interface PathContext {
  cwd?: string;
  projectDir?: string;
  home?: string;
}

/** Compiles a glob (`**`, `*`, `?`, `[..]`, `{a,b}`) to an anchored RegExp. */
export function globToRegExp(glob: string, options: { dot?: boolean } = {}): RegExp {
  let re = '';
  let inBraces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        i++;
        if (glob[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += options.dot === false ? '[^/]*' : '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, end).replace(/\\/g, '\\\\').replace(/^!/, '^') + ']';
        i = end;
      }
    } else if (c === '{') {
      inBraces++;
      re += '(?:';
    } else if (c === '}' && inBraces > 0) {
      inBraces--;
      re += ')';
    } else if (c === ',' && inBraces > 0) re += '|';
    else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', 's');
}

/** Same glob semantics, but `*` also crosses `/` (for matching whole arguments). */
export function argGlobToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) re += '\\[';
      else {
        re += '[' + glob.slice(i + 1, end).replace(/^!/, '^') + ']';
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp('^' + re + '$', 's');
}

function trimSlash(p: string): string {
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Replaces a leading home folder with `~` so rules can say `~/.ssh`. */
function tildeHome(p: string, home: string | undefined): string {
  if (!home) return p;
  const h = trimSlash(home);
  if (h === '/' || h === '') return p;
  if (p === h) return '~';
  if (p.startsWith(h + '/')) return '~' + p.slice(h.length);
  return p;
}

export interface NormalPath {
  /** `~/…`, `/…`, or (base unknown) the relative path as written. */
  path: string;
  /** Could not resolve a variable at its start (`$DIR/x`): classified as unknown. */
  unknown: boolean;
  /** Inside the project folder (true), outside (false), or not known (undefined). */
  inProject: boolean | undefined;
}

/** Normalizes a path written in a command or tool input. */
export function normalizePath(raw: string, ctx: PathContext): NormalPath {
  // Real paths are short; a hostile 1 MB "path" is cut so glob tests stay linear and cheap.
  let p = (raw.length > 4096 ? raw.slice(0, 4096) : raw).trim();
  if (p.startsWith('file://')) p = p.slice(7);
  p = p.replace(/^(\$HOME|\$\{HOME\})(?=\/|$)/, '~');
  if (/^~[^/]/.test(p)) return { path: p, unknown: true, inProject: undefined }; // ~user
  if (/^\$/.test(p)) return { path: p, unknown: true, inProject: undefined };
  const home = ctx.home ? trimSlash(ctx.home) : undefined;
  const cwdRaw = ctx.cwd ?? ctx.projectDir;
  const expandHome = (x: string) => (x === '~' || x.startsWith('~/') ? (home ? home + x.slice(1) : x) : x);
  p = expandHome(p);
  let abs: string;
  if (p.startsWith('/') || p.startsWith('~')) abs = p;
  else if (cwdRaw) abs = posix.join(expandHome(cwdRaw), p);
  else {
    // No working folder known: a relative path stays relative; it is the agent's own folder.
    const rel = posix.normalize(p);
    return { path: rel, unknown: false, inProject: rel.startsWith('../') || rel === '..' ? undefined : true };
  }
  abs = trimSlash(posix.normalize(abs));
  const shown = tildeHome(abs, home);
  let inProject: boolean | undefined;
  // Without a project folder, the working folder stands for it.
  const projectDir = ctx.projectDir ?? ctx.cwd;
  if (projectDir) {
    const proj = trimSlash(posix.normalize(expandHome(projectDir)));
    inProject = abs === proj || abs.startsWith(proj === '/' ? '/' : proj + '/');
  }
  return { path: shown, unknown: false, inProject };
}

// ── URLs ──────────────────────────────────────────────────────────────────────────────────────

export interface UrlInfo {
  host: string;
  class: UrlClass;
}

function ipv4(host: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  if (!m) {
    // Single-number and hex forms (http://2130706433/, 0x7f.1) are IPs too.
    if (/^(0x[0-9a-f]+|\d{8,10})$/i.test(host)) {
      const n = Number(host);
      if (Number.isFinite(n) && n >= 0 && n <= 0xffffffff) return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255];
    }
    return undefined;
  }
  const parts = m.slice(1).map(Number);
  return parts.every((x) => x <= 255) ? parts : undefined;
}

/** Classifies a host name or IP literal. */
export function classifyHost(rawHost: string): UrlClass {
  const host = rawHost.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost') || host === 'ip6-localhost') return 'loopback';
  if (host === 'metadata.google.internal' || host === 'metadata') return 'metadata';
  const v4 = ipv4(host);
  if (v4) {
    const [a, b] = v4 as [number, number, number, number];
    if (a === 127 || a === 0) return 'loopback';
    if (host === '169.254.169.254' || host === '100.100.100.200' || (a === 169 && b === 254 && v4[2] === 169)) return 'metadata';
    if (a === 169 && b === 254) return 'link-local';
    if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127)) return 'private';
    return 'public-ip';
  }
  if (host.includes(':') && /^[0-9a-f:.]+$/.test(host)) {
    if (host === '::1' || host === '0:0:0:0:0:0:0:1') return 'loopback';
    if (host === 'fd00:ec2::254') return 'metadata';
    if (/^fe[89ab]/.test(host)) return 'link-local';
    if (/^f[cd]/.test(host)) return 'private';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(host);
    if (mapped) return classifyHost(mapped[1]!);
    return 'public-ip';
  }
  if (host.endsWith('.local') || host.endsWith('.internal') || host.endsWith('.lan') || host.endsWith('.home.arpa')) return 'private';
  return 'hostname';
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** Reads a URL (or a bare `host[:port][/path]` as curl accepts it); undefined when it is not one. */
export function parseUrlish(raw: string, bareHostOk: boolean): UrlInfo | undefined {
  const text = (raw.length > 8192 ? raw.slice(0, 8192) : raw).trim();
  const scheme = SCHEME.exec(text);
  if (scheme) {
    const s = scheme[1]!.toLowerCase();
    const rest = text.slice(scheme[0].length);
    const authority = rest.split(/[/?#]/, 1)[0] ?? '';
    const hostPort = authority.includes('@') ? authority.slice(authority.lastIndexOf('@') + 1) : authority;
    const host = hostPort.startsWith('[') ? hostPort.slice(0, hostPort.indexOf(']') + 1) : hostPort.replace(/:\d*$/, '');
    if (s !== 'http' && s !== 'https') return { host, class: s === 'file' ? 'non-http' : host ? (classifyHost(host) === 'loopback' ? 'loopback' : 'non-http') : 'non-http' };
    if (!host) return undefined;
    return { host, class: classifyHost(host) };
  }
  if (!bareHostOk) return undefined;
  // curl example.com/x, wget 1.2.3.4:8000/x, nc 10.0.0.1 4444
  const m = /^(?:[^@/\s]+@)?(\[[0-9a-f:]+\]|[a-z0-9.-]+)(?::\d+)?(?:[/?#].*)?$/i.exec(text);
  if (!m) return undefined;
  const host = m[1]!;
  if (!host.includes('.') && !host.startsWith('[') && host.toLowerCase() !== 'localhost') return undefined;
  if (/^\.|\.$|\.\./.test(host)) return undefined;
  // File names such as `out.json` are not hosts: require a known-looking TLD or an IP.
  if (!ipv4(host) && !host.startsWith('[') && host.toLowerCase() !== 'localhost') {
    const tld = host.split('.').pop()!.toLowerCase();
    if (!/^[a-z]{2,24}$/.test(tld) || FILE_EXTENSIONS.has(tld)) return undefined;
  }
  return { host, class: classifyHost(host) };
}

const FILE_EXTENSIONS = new Set(
  'js ts tsx jsx mjs cjs json md txt sh py rb go rs c h cc cpp hpp java kt swift yml yaml toml lock log csv xml html htm css scss png jpg jpeg gif svg pdf zip gz tgz tar bz2 xz env ini cfg conf pem key crt pub so dylib dll exe bin out tmp bak db sqlite sql map vsix wasm d mod sum lst'.split(
    ' ',
  ),
);

/** `host:path`, `user@host:path`, `rsync://…`, `scp://…` (not `C:\`, not `./a:b`). */
export function isRemoteSpec(arg: string): boolean {
  if (/^(rsync|scp|sftp|ssh):\/\//i.test(arg)) return true;
  const m = /^(?:[^@/\s:]+@)?([a-z0-9.-]+|\[[0-9a-f:]+\]):(.*)$/i.exec(arg);
  if (!m) return false;
  if (m[1]!.length === 1) return false; // Windows drive letter
  return !arg.startsWith('.') && !arg.startsWith('/');
}
