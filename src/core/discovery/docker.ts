/**
 * Opt-in Docker discovery, the pure half: reads `docker ps` output and picks the running
 * containers whose command runs an OpenCode server reachable through a published TCP port.
 * No I/O here; dockerSource.ts runs the command on a timer.
 *
 * Formats understood (see test/fixtures/docker/README.md for where they come from):
 * - `docker ps --no-trunc --format '{{json .}}'` (and `--format json`, Docker ≥ 23): one JSON
 *   object per line, every value a string. `Command` is Go-quoted (`"\"opencode serve\""`), built
 *   by the daemon as entrypoint + args with arguments holding spaces wrapped in single quotes.
 *   `Ports` is `0.0.0.0:4096->4096/tcp, :::4096->4096/tcp` (IPv6 as `[::]:4096->…` since
 *   docker/cli 2024), exposed-only ports as `4096/tcp`, equal host/container runs as ranges.
 * - `podman ps --format json`: one pretty-printed JSON array; `Id`, `Names[]`, `Command[]`
 *   (the CMD only: podman leaves the image's ENTRYPOINT out), `Ports[]` of
 *   `{host_ip, container_port, host_port, range, protocol}`. Podman's `{{json .}}` (one object
 *   per line, same fields) is read too.
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
import * as z from 'zod';
import { classifyArgs, expectsPort, isOpencodeExecutable } from './classify';
import { describeError } from '../util/describe';

/** `docker ps` arguments: running containers, full IDs and commands, one JSON object per line. */
export const DOCKER_PS_ARGS: readonly string[] = ['ps', '--no-trunc', '--format', '{{json .}}'];
/** The same for podman, whose documented machine format is one JSON array. */
export const PODMAN_PS_ARGS: readonly string[] = ['ps', '--no-trunc', '--format', 'json'];

/** The port `opencode serve` / `opencode web` take when no `--port` is given. */
export const OPENCODE_DEFAULT_PORT = 4096;
/** At most this many mappings come out of one Ports value (a `-p 1-65535:1-65535` stays cheap). */
export const MAX_PORT_MAPPINGS = 1024;

/** One published port: `hostIp:hostPort` on the host forwards to `containerPort` in the container. */
export interface PortMapping {
  /** Without brackets: `0.0.0.0`, `::`, `127.0.0.1`, `::1`. */
  hostIp: string;
  hostPort: number;
  containerPort: number;
  /** `tcp`, `udp`, `sctp` (lower case). */
  protocol: string;
}

/** A container as `docker ps` / `podman ps` listed it, normalized. */
export interface DockerContainer {
  /** As printed: 64 hex digits with `--no-trunc`. */
  id: string;
  /** Docker prints legacy link aliases (`other/alias`) after the name. */
  names: string[];
  image: string;
  /** The command line as the engine shows it, unquoted (podman: its argv joined). */
  command: string;
  /** The command split into words (podman: its argv as given). */
  argv: string[];
  /** Published ports only. */
  ports: PortMapping[];
  /** Exposed but unpublished ports as printed: `4096/tcp`, `8000-8001/tcp`. */
  exposed: string[];
  /** `running`, `exited`, `paused`, … lower case; empty when the engine did not say. */
  state: string;
  /** `Up 2 hours (healthy)`, `Exited (0) 3 minutes ago`. */
  status: string;
  labels: Record<string, string>;
  networks: string[];
}

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

// ── Parsing ──────────────────────────────────────────────────────────────────

const text = z.string().catch('');

/** Docker's `{{json .}}`: every field a string; fields Docker adds later (HealthStatus, IPAddresses, Platform) are ignored. */
const dockerLineSchema = z.looseObject({
  ID: z.string().min(1),
  Names: text,
  Image: text,
  Command: text,
  Ports: text,
  State: text,
  Status: text,
  Labels: text,
  Networks: text,
});

const podmanPortSchema = z.looseObject({
  host_ip: text,
  container_port: z.number().int(),
  host_port: z.number().int(),
  range: z.number().int().catch(1),
  protocol: z.string().catch('tcp'),
});

/** Podman's ListContainer (`--format json` array items, or `{{json .}}` lines). */
const podmanItemSchema = z.looseObject({
  Id: z.string().min(1),
  Names: z.array(z.string()).catch([]),
  Image: text,
  Command: z.array(z.string()).nullable().catch(null),
  State: text,
  Status: text,
  Labels: z.record(z.string(), z.string()).nullable().catch(null),
  Networks: z.array(z.string()).nullable().catch(null),
});

/**
 * Reads `docker ps` / `podman ps` output. Tolerant: blank lines are skipped, a line (or array
 * item) that is not a container is reported in `errors` with its number and does not lose the
 * others, unknown fields are ignored.
 */
export function parseDockerPs(stdout: string): { containers: DockerContainer[]; errors: string[] } {
  const containers: DockerContainer[] = [];
  const errors: string[] = [];
  const body = stdout.replace(/^\uFEFF/, '');
  const trimmed = body.trim();
  if (trimmed === '') return { containers, errors };

  if (trimmed.startsWith('[')) {
    let items: unknown;
    try {
      items = JSON.parse(trimmed);
    } catch (error) {
      errors.push(`output is not a valid JSON array (${describeError(error)}): ${clip(trimmed)}`);
      return { containers, errors };
    }
    if (!Array.isArray(items)) {
      errors.push(`output is not a JSON array: ${clip(trimmed)}`);
      return { containers, errors };
    }
    items.forEach((item, index) => {
      const result = toContainer(item);
      if (typeof result === 'string') errors.push(`item ${index + 1}: ${result}`);
      else containers.push(result);
    });
    return { containers, errors };
  }

  const lines = body.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      errors.push(`line ${index + 1}: not JSON: ${clip(line)}`);
      return;
    }
    const result = toContainer(value);
    if (typeof result === 'string') errors.push(`line ${index + 1}: ${result}: ${clip(line)}`);
    else containers.push(result);
  });
  return { containers, errors };
}

/** A container, or why the value is not one. */
function toContainer(value: unknown): DockerContainer | string {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'not a JSON object';
  const record = value as Record<string, unknown>;
  if (!('ID' in record) && 'Id' in record) return fromPodman(record);
  const parsed = dockerLineSchema.safeParse(record);
  if (!parsed.success) return 'no container ID';
  const d = parsed.data;
  const command = unquoteCommand(d.Command);
  const { mappings, exposed } = splitPorts(d.Ports);
  return {
    id: d.ID,
    names: splitList(d.Names),
    image: d.Image,
    command,
    argv: tokenizeCommand(command),
    ports: mappings,
    exposed,
    state: d.State.trim().toLowerCase(),
    status: d.Status.trim(),
    labels: parseLabels(d.Labels),
    networks: splitList(d.Networks),
  };
}

function fromPodman(record: Record<string, unknown>): DockerContainer | string {
  const parsed = podmanItemSchema.safeParse(record);
  if (!parsed.success) return 'no container ID';
  const p = parsed.data;
  const argv = p.Command ?? [];
  let mappings: PortMapping[] = [];
  let exposed: string[] = [];
  const rawPorts = record.Ports;
  if (typeof rawPorts === 'string') {
    ({ mappings, exposed } = splitPorts(rawPorts));
  } else if (Array.isArray(rawPorts)) {
    for (const entry of rawPorts) {
      const port = podmanPortSchema.safeParse(entry);
      if (!port.success) continue;
      const { host_ip, container_port, host_port, range, protocol } = port.data;
      addRange(mappings, normalizeHostIp(host_ip), host_port, container_port, Math.max(1, range), protocol);
    }
  }
  const exposedPorts = record.ExposedPorts;
  if (exposedPorts && typeof exposedPorts === 'object' && !Array.isArray(exposedPorts)) {
    for (const [port, protocols] of Object.entries(exposedPorts as Record<string, unknown>)) {
      for (const protocol of Array.isArray(protocols) ? protocols : []) {
        if (typeof protocol === 'string') exposed.push(`${port}/${protocol.toLowerCase()}`);
      }
    }
  }
  return {
    id: p.Id,
    names: p.Names,
    image: p.Image,
    command: argv.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' '),
    argv: [...argv],
    ports: mappings,
    exposed,
    state: p.State.trim().toLowerCase(),
    status: p.Status.trim(),
    labels: p.Labels ?? {},
    networks: p.Networks ?? [],
  };
}

/** Docker prints the command Go-quoted (`"\"opencode serve\""` in JSON); returns it without the quotes. */
export function unquoteCommand(raw: string): string {
  const t = raw.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      const value: unknown = JSON.parse(t);
      if (typeof value === 'string') return value;
    } catch {
      // Go escapes JSON lacks (\a, \v, \x1b, \U…): drop the quotes, undo \" and \\.
    }
    return t.slice(1, -1).replace(/\\(["\\])/g, '$1');
  }
  return t;
}

/**
 * Splits a command line into words. Single and double quotes group (the daemon wraps arguments
 * holding spaces in single quotes); backslashes are literal (the daemon escapes nothing, and
 * Windows paths keep theirs).
 */
export function tokenizeCommand(command: string): string[] {
  const words: string[] = [];
  let current = '';
  let inWord = false;
  let quote: string | undefined;
  for (const ch of command) {
    if (quote !== undefined) {
      if (ch === quote) quote = undefined;
      else current += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(current);
      current = '';
      inWord = false;
    } else {
      current += ch;
      inWord = true;
    }
  }
  if (inWord) words.push(current);
  return words;
}

/** Published mappings of a `docker ps` Ports value; unpublished (`5432/tcp`) entries are not mappings. */
export function parsePorts(value: string): PortMapping[] {
  return splitPorts(value).mappings;
}

const PORT_ENTRY = /^(.*):(\d+)(?:-(\d+))?->(\d+)(?:-(\d+))?\/([a-z]+)$/i;
const EXPOSED_ENTRY = /^\d+(?:-\d+)?\/[a-z]+$/i;

function splitPorts(value: string): { mappings: PortMapping[]; exposed: string[] } {
  const mappings: PortMapping[] = [];
  const exposed: string[] = [];
  for (const part of value.split(',')) {
    const entry = part.trim();
    if (entry === '') continue;
    const m = PORT_ENTRY.exec(entry);
    if (!m) {
      if (EXPOSED_ENTRY.test(entry)) exposed.push(entry.toLowerCase());
      continue;
    }
    const [, host = '', hostFirst = '', hostLast, containerFirst = '', containerLast, protocol = 'tcp'] = m;
    const hFirst = Number(hostFirst);
    const hLast = hostLast === undefined ? hFirst : Number(hostLast);
    const cFirst = Number(containerFirst);
    const cLast = containerLast === undefined ? cFirst : Number(containerLast);
    // Both sides must span the same number of ports (Docker prints ranges only when they do).
    if (hLast < hFirst || cLast < cFirst || hLast - hFirst !== cLast - cFirst) continue;
    addRange(mappings, normalizeHostIp(host), hFirst, cFirst, hLast - hFirst + 1, protocol);
  }
  return { mappings, exposed };
}

function addRange(into: PortMapping[], hostIp: string, hostFirst: number, containerFirst: number, count: number, protocol: string): void {
  for (let k = 0; k < count && into.length < MAX_PORT_MAPPINGS; k++) {
    const hostPort = hostFirst + k;
    const containerPort = containerFirst + k;
    // Host port 0 is what Docker prints for a binding that got no port.
    if (!validPort(hostPort) || !validPort(containerPort)) continue;
    into.push({ hostIp, hostPort, containerPort, protocol: protocol.toLowerCase() });
  }
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** `[::]` → `::`; an empty host (podman: every interface) → `0.0.0.0`. */
function normalizeHostIp(host: string): string {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return h === '' || h === '*' ? '0.0.0.0' : h;
}

/** `k=v,k=v`; a value may itself hold commas (`description=Alpine, Apache`), so a piece without `key=` continues the previous value. */
export function parseLabels(value: string): Record<string, string> {
  const labels: Record<string, string> = {};
  let lastKey: string | undefined;
  for (const piece of value.split(',')) {
    const m = /^([A-Za-z0-9][\w.\-/]*)=(.*)$/s.exec(piece);
    if (m) {
      lastKey = m[1] as string;
      labels[lastKey] = m[2] as string;
    } else if (lastKey !== undefined) {
      labels[lastKey] += `,${piece}`;
    }
  }
  return labels;
}

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** The first line of a failed command's stderr worth showing (warnings skipped when something else is there). */
export function firstErrorLine(stderr: string): string | undefined {
  const lines = stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const line = lines.find((l) => !/^warning\b/i.test(l)) ?? lines[0];
  return line === undefined ? undefined : clip(line, 300);
}

function clip(s: string, max = 120): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

// ── Selection ────────────────────────────────────────────────────────────────

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
