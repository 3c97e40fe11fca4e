/**
 * Test helpers: a local HTTP server on 127.0.0.1 that records requests and tracks its sockets,
 * access to the captured OpenCode samples, and small async utilities.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { OpencodeError } from '../../../src/core/opencode/errors';
import type { OpencodeErrorKind } from '../../../src/core/opencode/errors';

// out/test/unit/support → repository root is four levels up.
export const REPO_ROOT = path.resolve(__dirname, '../../../..');
export const SAMPLES_DIR = path.join(REPO_ROOT, 'test/fixtures/samples/opencode-1.18.33');

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  /** Path without the query. */
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  socketId: number;
}

export interface RequestContext {
  body: string;
  /** 1-based id of the server-side socket the request came on. */
  socketId: number;
  /** 1-based number of this request on its socket. */
  requestOnSocket: number;
  /** 0-based index of this request among all the server received. */
  index: number;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse, ctx: RequestContext) => unknown;

export interface LocalServer {
  readonly url: string;
  readonly port: number;
  readonly server: http.Server;
  readonly requests: RecordedRequest[];
  /** Sockets accepted so far. */
  readonly connections: number;
  /** Server-side sockets not closed yet. */
  readonly openSockets: number;
  /** Ids (as in RequestContext.socketId) of the server-side sockets not closed yet. */
  openSocketIds(): number[];
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<LocalServer> {
  const sockets = new Set<Socket>();
  const requestCounts = new WeakMap<Socket, number>();
  const socketIds = new WeakMap<Socket, number>();
  const requests: RecordedRequest[] = [];
  let connections = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => undefined);
    req.on('end', () => {
      const socket = req.socket;
      const onSocket = (requestCounts.get(socket) ?? 0) + 1;
      requestCounts.set(socket, onSocket);
      const body = Buffer.concat(chunks).toString('utf8');
      const socketId = socketIds.get(socket) ?? 0;
      const index = requests.length;
      requests.push({ method: req.method ?? '', url: req.url ?? '', path: (req.url ?? '').split('?')[0] ?? '', headers: req.headers, body, socketId });
      Promise.resolve()
        .then(() => handler(req, res, { body, socketId, requestOnSocket: onSocket, index }))
        .catch((error: unknown) => {
          // A handler bug must show up as a failing request, not as a hang.
          if (!res.headersSent) res.writeHead(599).end(String(error));
          else res.destroy();
        });
    });
  });
  server.on('connection', (socket: Socket) => {
    connections++;
    socketIds.set(socket, connections);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    requests,
    get connections() {
      return connections;
    },
    get openSockets() {
      return sockets.size;
    },
    openSocketIds() {
      return [...sockets].map((socket) => socketIds.get(socket) ?? 0);
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/** Sends a JSON body (or a raw string as is). */
export function sendJson(res: http.ServerResponse, body: unknown, status = 200): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The response headers OpenCode 1.18.33 sends on /event (see sse/headers.txt). */
export function writeSseHead(res: http.ServerResponse): void {
  res.writeHead(200, {
    'cache-control': 'no-cache, no-transform',
    'x-content-type-options': 'nosniff',
    'content-type': 'text/event-stream',
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();
}

export function sseMessage(event: unknown): string {
  return `data: ${JSON.stringify(event)}\n\n`;
}

/** A port that refuses connections: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

// ── Samples ────────────────────────────────────────────────────────────────

export type SampleBodies = Record<string, unknown>;

export function sampleServerFiles(): { name: string; file: string }[] {
  const out: { name: string; file: string }[] = [];
  for (const phase of ['idle', 'busy', 'after']) {
    const dir = path.join(SAMPLES_DIR, phase);
    for (const name of fs.readdirSync(dir).filter((n) => /^server-\d+\.json$/.test(n)).sort()) {
      out.push({ name: `${phase}/${name}`, file: path.join(dir, name) });
    }
  }
  return out;
}

export function readSampleBodies(file: string): SampleBodies {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as SampleBodies;
}

export function sseSampleFiles(): { name: string; file: string }[] {
  const dir = path.join(SAMPLES_DIR, 'sse');
  return fs
    .readdirSync(dir)
    .filter((n) => n.endsWith('.sse.txt'))
    .sort()
    .map((name) => ({ name, file: path.join(dir, name) }));
}

/** The payload of every `data:` line of a raw SSE body, in order. */
export function sseDataLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(line.startsWith('data: ') ? 6 : 5));
}

// ── Async utilities ────────────────────────────────────────────────────────

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `condition` holds; fails with `what` (evaluated then) after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string | (() => string), timeoutMs = 2_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) {
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? what() : what}`);
    }
    await delay(5);
  }
}

/** A small deterministic PRNG (mulberry32). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts of ref'ed timers and TCP sockets (client and server side) alive in this process. */
export function activeHandles(): { timeouts: number; sockets: number } {
  const info = process.getActiveResourcesInfo();
  return {
    timeouts: info.filter((r) => r === 'Timeout').length,
    sockets: info.filter((r) => r === 'TCPSocketWrap').length,
  };
}

/**
 * A baseline for leak checks: waits until the sockets of earlier tests are gone (every test
 * closes what it opened, so the count must reach 0), then returns the counts.
 */
export async function quietHandles(): Promise<{ timeouts: number; sockets: number }> {
  await waitFor(() => activeHandles().sockets === 0, 'sockets of earlier tests to close');
  return activeHandles();
}

/** Waits until the handle counts are back to `baseline`; fails naming what is left. */
export async function expectHandlesBackTo(baseline: { timeouts: number; sockets: number }, timeoutMs = 1_000): Promise<void> {
  await waitFor(
    () => {
      const now = activeHandles();
      return now.sockets === baseline.sockets && now.timeouts === baseline.timeouts;
    },
    `handles back to ${JSON.stringify(baseline)}`,
    timeoutMs,
  ).catch(() => assert.deepEqual(activeHandles(), baseline, 'timers or sockets left behind'));
}

/**
 * Awaits a promise that must reject with an OpencodeError of `kind` (nothing else may escape),
 * whose message names the endpoint and the instance.
 */
export async function expectOpencodeError(
  promise: Promise<unknown>,
  kind: OpencodeErrorKind,
  expected: { endpoint?: string; instance?: string } = {},
): Promise<OpencodeError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  assert.ok(caught !== undefined, `expected an OpencodeError of kind ${kind}, but the call succeeded`);
  assert.ok(caught instanceof OpencodeError, `expected an OpencodeError, got ${String(caught)}`);
  assert.equal(caught.kind, kind, `wrong kind; message: ${caught.message}`);
  if (expected.endpoint !== undefined) {
    assert.equal(caught.endpoint, expected.endpoint);
    assert.ok(caught.message.includes(expected.endpoint), `message should name ${expected.endpoint}: ${caught.message}`);
  }
  if (expected.instance !== undefined) {
    assert.equal(caught.instance, expected.instance);
    assert.ok(caught.message.includes(expected.instance), `message should name ${expected.instance}: ${caught.message}`);
  }
  return caught;
}
