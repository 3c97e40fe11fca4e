/**
 * Opt-in Docker discovery, the selection half: picks the running containers (read by
 * dockerPs.ts) whose command runs an OpenCode server reachable through a published TCP port.
 * No I/O here.
 *
 * Which containers are OpenCode (decided here, documented for users):
 * - the command has a word whose basename is `opencode` / `opencode.exe` (any directory, also
 *   after a wrapper: `docker-entrypoint.sh opencode serve`, `tini -- opencode`, `sh -c '… &&
 *   opencode serve'`), or the npm package `opencode-ai[@version]` (`npx -y opencode-ai serve`,
 *   `bunx opencode-ai`). `opencode-monitor`, `opencode-ai-proxy` … are other programs.
 * - what follows must be an OpenCode that listens: `serve`, `web`, or the TUI with `--port` /
 *   `--hostname` / `--mdns` (classify.ts rules). `opencode run`, `auth`, `attach`, a bare TUI
 *   are skipped with a reason.
 * - the image name alone never makes a container OpenCode — what runs is the command. The one
 *   exception is an image whose repository's last path segment is exactly `opencode`
 *   (`ghcr.io/anomalyco/opencode:latest`, `opencode:dev`) when the command is empty or starts
 *   with OpenCode arguments (`serve …`, `--port …`): that is how podman shows a container whose
 *   ENTRYPOINT is the image's `opencode`. An empty command cannot be classified, so it counts as
 *   a server.
 * - only running containers (State `running`; without State, Status `Up …` and not paused).
 *
 * Which published port is OpenCode's: the container port of `--port N` / `--port=N` in its
 * command; else 4096 (OpenCode's default) if published; else the only published TCP container
 * port; else none (skipped with a reason). Of several host bindings of that port, IPv4 wins over
 * IPv6 and a wildcard over a specific address; 0.0.0.0 is asked on 127.0.0.1, `::` on [::1], a
 * specific address on itself.
 */
import { classifyArgs, expectsPort, isOpencodeExecutable } from './classify';
import { normalizeHostIp } from './dockerPs';
import type { DockerContainer, PortMapping } from './dockerPs';

/** The port `opencode serve` / `opencode web` take when no `--port` is given. */
export const OPENCODE_DEFAULT_PORT = 4096;

/** A running OpenCode container and the URL that reaches its server from this machine. */
export interface ContainerEndpoint {
  /** Short ID: the first 12 characters. */
  id: string;
  name: string;
  image: string;
  command: string;
  /** `http://127.0.0.1:4096`, `http://[::1]:4096`, `http://192.168.1.20:4096`. */
  url: string;
  hostPort: number;
  containerPort: number;
  state: string;
  /** Set when the server may be unreachable although published (it binds 127.0.0.1 inside). */
  hint?: string;
}

/** A container that runs OpenCode but yields no endpoint, and why. */
export interface SkippedContainer {
  id: string;
  name: string;
  reason: string;
}

/** Running OpenCode containers with a reachable published port, sorted by name. */
export function opencodeContainers(containers: readonly DockerContainer[]): ContainerEndpoint[] {
  return selectOpencodeContainers(containers).endpoints;
}

/** Like opencodeContainers, and also the OpenCode containers left out, with the reason. Others are ignored silently. */
export function selectOpencodeContainers(containers: readonly DockerContainer[]): {
  endpoints: ContainerEndpoint[];
  skipped: SkippedContainer[];
} {
  const endpoints: ContainerEndpoint[] = [];
  const skipped: SkippedContainer[] = [];
  for (const c of containers) {
    const found = findOpencode(c);
    if (found === undefined) continue;
    const id = c.id.slice(0, 12);
    const name = containerName(c);
    const skip = (reason: string): void => void skipped.push({ id, name, reason });
    if (!isRunning(c)) {
      skip(`not running (${c.status || c.state || 'state unknown'})`);
      continue;
    }
    if ('reason' in found) {
      skip(found.reason);
      continue;
    }
    const tcp = c.ports.filter((p) => p.protocol === 'tcp');
    if (tcp.length === 0) {
      const exposedTcp = c.exposed.filter((e) => e.endsWith('/tcp'));
      if (exposedTcp.length > 0) skip(`exposes ${exposedTcp.join(', ')} but publishes no port (run it with -p 4096:4096)`);
      else if (c.networks.includes('host')) skip('uses the host network: no published port (process discovery finds it on Linux)');
      else skip('publishes no TCP port');
      continue;
    }
    const containerPorts = [...new Set(tcp.map((p) => p.containerPort))].sort((a, b) => a - b);
    const explicit = portOption(found.args);
    let target: number | undefined;
    if (explicit !== undefined && explicit !== 0) {
      if (!containerPorts.includes(explicit)) {
        skip(`OpenCode listens on container port ${explicit} (--port), which is not published (published: ${containerPorts.join(', ')})`);
        continue;
      }
      target = explicit;
    } else if (containerPorts.includes(OPENCODE_DEFAULT_PORT)) {
      target = OPENCODE_DEFAULT_PORT;
    } else if (containerPorts.length === 1) {
      target = containerPorts[0];
    } else {
      skip(`publishes container ports ${containerPorts.join(', ')}: none is ${OPENCODE_DEFAULT_PORT} or given by --port`);
      continue;
    }
    const mapping = tcp.filter((p) => p.containerPort === target).sort(compareMappings)[0];
    if (mapping === undefined) continue;
    const endpoint: ContainerEndpoint = {
      id,
      name,
      image: c.image,
      command: c.command,
      url: hostUrl(mapping.hostIp, mapping.hostPort),
      hostPort: mapping.hostPort,
      containerPort: mapping.containerPort,
      state: c.state || 'running',
    };
    const hint = loopbackHint(found);
    if (hint) endpoint.hint = hint;
    endpoints.push(endpoint);
  }
  endpoints.sort((a, b) => compareText(a.name, b.name) || compareText(a.id, b.id));
  return { endpoints, skipped };
}

/** Docker State when given (a paused container is not `running`); else a Status of `Up …`. */
function isRunning(c: DockerContainer): boolean {
  if (c.state !== '') return c.state === 'running';
  return /^up\b/i.test(c.status) && !/\(paused\)/i.test(c.status);
}

function containerName(c: DockerContainer): string {
  const names = c.names.map((n) => n.replace(/^\//, '')).filter(Boolean);
  return names.find((n) => !n.includes('/')) ?? names[0] ?? c.id.slice(0, 12);
}

type Found =
  /** OpenCode that listens; `args` are its arguments (up to a shell separator). */
  | { args: string[]; imageOnly: boolean }
  /** OpenCode, but not a server. */
  | { reason: string };

const SEPARATORS = new Set(['&&', '||', ';', '|', '&', '(', ')']);
const OPENCODE_PACKAGE = /^opencode-ai(@[\w.^~<>=*-]+)?$/i;
/** First words that mean "these are OpenCode's arguments" when the entrypoint is the image's `opencode`. */
const OPENCODE_WORDS = new Set(['serve', 'web', 'acp', 'attach', 'run', 'pr', 'auth', 'models', 'mcp', 'agent', 'upgrade', 'stats']);

/** Whether (and how) a container runs OpenCode; undefined when it does not. */
function findOpencode(c: DockerContainer): Found | undefined {
  // Words of the command, with `sh -c '…'` scripts split too and shell operators as their own words.
  const words = c.argv.flatMap((a) =>
    a
      .replace(/(&&|\|\||[;|&()])/g, ' $1 ')
      .split(/\s+/)
      .filter(Boolean),
  );
  let first: Found | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i] as string;
    if (!isOpencodeExecutable(word) && !OPENCODE_PACKAGE.test(word)) continue;
    const found = judge(argsUntilSeparator(words, i + 1), false);
    if (!('reason' in found)) return found;
    first ??= found;
  }
  if (first) return first;
  if (isOpencodeImage(c.image)) {
    if (words.length === 0) return { args: [], imageOnly: true };
    const head = words[0] as string;
    if (head.startsWith('-') || OPENCODE_WORDS.has(head.toLowerCase())) return judge(argsUntilSeparator(words, 0), true);
  }
  return undefined;
}

function argsUntilSeparator(words: readonly string[], from: number): string[] {
  const args: string[] = [];
  for (let i = from; i < words.length && !SEPARATORS.has(words[i] as string); i++) args.push(words[i] as string);
  return args;
}

function judge(args: string[], imageOnly: boolean): Found {
  const argv = ['opencode', ...args];
  const role = classifyArgs(argv);
  const shown = ['opencode', ...args.slice(0, 3)].join(' ') + (args.length > 3 ? ' …' : '');
  if (role.role === 'command') return { reason: `runs \`${shown}\`, not an OpenCode server` };
  if (role.role === 'attach') return { reason: 'runs `opencode attach`, a client of another server' };
  if (!expectsPort(argv)) return { reason: `runs \`${shown}\` without --port: it opens no port` };
  return { args, imageOnly };
}

/** The repository's last path segment is exactly `opencode` (tag and digest ignored). */
function isOpencodeImage(image: string): boolean {
  const withoutDigest = image.split('@')[0] ?? '';
  const lastSegment = withoutDigest.split('/').pop() ?? '';
  return (lastSegment.split(':')[0] ?? '').toLowerCase() === 'opencode';
}

function optionValue(args: readonly string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--') break;
    if (a === name) return args[i + 1];
    if (a.startsWith(`${name}=`)) return a.slice(name.length + 1);
  }
  return undefined;
}

/** `--port N` / `--port=N`; undefined when absent or not a port number. */
function portOption(args: readonly string[]): number | undefined {
  const value = optionValue(args, '--port');
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  const n = Number(value);
  return n <= 65535 ? n : undefined;
}

/** OpenCode binds 127.0.0.1 unless told otherwise; Docker forwards a published port to the container's own address. */
function loopbackHint(found: { args: string[]; imageOnly: boolean }): string | undefined {
  if (found.imageOnly) return undefined;
  const host = optionValue(found.args, '--hostname');
  const mdns = found.args.some((a) => a === '--mdns' || a.startsWith('--mdns='));
  const loopback = host === undefined ? !mdns : /^(127\.|localhost$|::1$|\[::1\]$)/i.test(host);
  return loopback
    ? 'started without --hostname 0.0.0.0: OpenCode then listens on 127.0.0.1 inside the container, which the published port may not reach'
    : undefined;
}

/** IPv4 before IPv6, a wildcard before a specific address, then the lower host port. */
function compareMappings(a: PortMapping, b: PortMapping): number {
  return mappingRank(a) - mappingRank(b) || a.hostPort - b.hostPort;
}

function mappingRank(p: PortMapping): number {
  const v6 = p.hostIp.includes(':') && !/^::ffff:\d+\.\d+\.\d+\.\d+$/.test(p.hostIp);
  const wildcard = p.hostIp === '0.0.0.0' || p.hostIp === '::';
  return (v6 ? 2 : 0) + (wildcard ? 0 : 1);
}

/** The URL that reaches a published port from this machine. */
export function hostUrl(hostIp: string, port: number): string {
  const ip = normalizeHostIp(hostIp);
  if (ip === '0.0.0.0') return `http://127.0.0.1:${port}`;
  if (ip === '::') return `http://[::1]:${port}`;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (mapped) return `http://${mapped[1]}:${port}`;
  return ip.includes(':') ? `http://[${ip}]:${port}` : `http://${ip}:${port}`;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
