/**
 * Opt-in Docker discovery, the parsing half: reads `docker ps` / `podman ps` output into
 * containers. No I/O here; dockerSource.ts runs the command on a timer, containerSelection.ts
 * picks the OpenCode servers among them.
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
 */
import * as z from 'zod';
import { describeError } from '../util/describe';

/** `docker ps` arguments: running containers, full IDs and commands, one JSON object per line. */
export const DOCKER_PS_ARGS: readonly string[] = ['ps', '--no-trunc', '--format', '{{json .}}'];
/** The same for podman, whose documented machine format is one JSON array. */
export const PODMAN_PS_ARGS: readonly string[] = ['ps', '--no-trunc', '--format', 'json'];

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
export function normalizeHostIp(host: string): string {
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
