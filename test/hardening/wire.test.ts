/**
 * Property-based tests of the client against a local server that answers whatever fast-check
 * makes up: random and malformed bodies, wrong types, control characters, bodies over the cap,
 * event streams split at any byte, truncated mid-event, with oversized and broken messages. No
 * exception may escape; every failure is an OpencodeError naming the endpoint and the instance;
 * a monitor watching such a server marks the instance with a readable error.
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MemoryLogger } from '../../src/core/log';
import { Monitor } from '../../src/core/monitor/monitor';
import { OpencodeClient } from '../../src/core/opencode/client';
import { OpencodeError } from '../../src/core/opencode/errors';
import { EventStream } from '../../src/core/opencode/eventStream';
import type { EventStreamStatus } from '../../src/core/opencode/eventStream';
import type { OpencodeEvent } from '../../src/core/opencode/events';
import { HttpTransport } from '../../src/core/opencode/http';
import { assertReadable, fcParams, noEscapes, sleep } from './support/guards';

type Responder = (req: http.IncomingMessage, res: http.ServerResponse) => void;

interface Local {
  url: string;
  respond: Responder;
  close(): Promise<void>;
}

async function local(): Promise<Local> {
  const sockets = new Set<Socket>();
  const state: Local = { url: '', respond: (_req, res) => res.writeHead(404).end(), close: async () => undefined };
  const server = http.createServer((req, res) => {
    req.resume();
    try {
      state.respond(req, res);
    } catch {
      res.destroy();
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('clientError', (_e, s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return state;
}

const anyValue = fc.oneof(fc.anything({ maxDepth: 3 }), fc.jsonValue({ maxDepth: 3 }));
const garbageText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ unit: fc.constantFrom('\0', '\n', '\u001b', '"', '{', '}', '[', ']', ',', ':', 'a', '1', '\\'), maxLength: 200 }),
  anyValue.map((v) => JSON.stringify(v) ?? ''),
  fc.array(fc.record({ id: anyValue, sessionID: anyValue, title: anyValue, time: anyValue, status: anyValue }, { requiredKeys: [] })).map((v) => JSON.stringify(v)),
);

interface Reply {
  status: number;
  body: string;
  contentType: string;
  /** Declare a longer body than sent, then hang up: a truncated response. */
  truncate: boolean;
}
const reply: fc.Arbitrary<Reply> = fc.record({
  status: fc.oneof({ weight: 4, arbitrary: fc.constant(200) }, fc.constantFrom(204, 301, 400, 401, 404, 500, 502, 503)),
  body: garbageText,
  contentType: fc.constantFrom('application/json', 'text/html', 'text/plain; charset=latin1', ''),
  truncate: fc.boolean(),
});

function send(res: http.ServerResponse, r: Reply): void {
  const body = Buffer.from(r.body);
  const headers: Record<string, string | number> = r.contentType ? { 'content-type': r.contentType } : {};
  if (r.status === 401) headers['www-authenticate'] = 'Basic realm="Secure Area"';
  if (r.truncate && body.length > 1) {
    res.writeHead(r.status, { ...headers, 'content-length': body.length + 10 });
    res.write(body.subarray(0, body.length >> 1));
    setImmediate(() => res.destroy());
    return;
  }
  res.writeHead(r.status, { ...headers, 'content-length': body.length });
  res.end(r.status === 204 ? undefined : body);
}

const methods: Array<[string, (c: OpencodeClient) => Promise<unknown>]> = [
  ['GET /session', (c) => c.sessions()],
  ['GET /session/status', (c) => c.sessionStatus()],
  ['GET /session/ses_1/todo', (c) => c.todos('ses_1')],
  ['GET /session/ses_1/message', (c) => c.messages('ses_1', { limit: 3 })],
  ['GET /permission', (c) => c.permissions()],
  ['GET /question', (c) => c.questions()],
  ['GET /global/health', (c) => c.health()],
  ['GET /path', (c) => c.path()],
  ['GET /project/current', (c) => c.currentProject()],
  ['capabilities', (c) => c.capabilities()],
];

describe('client bodies', () => {
  let server: Local;
  let client: OpencodeClient;
  before(async () => {
    server = await local();
    client = new OpencodeClient({ url: server.url }, { timeoutMs: 2_000, logger: new MemoryLogger() });
  });
  after(async () => {
    await client.close();
    await server.close();
  });

  test('every read resolves with data or rejects with a readable OpencodeError', async (t) => {
    const guard = noEscapes(t);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...methods), reply, async ([name, call], r) => {
        server.respond = (_req, res) => send(res, r);
        try {
          await call(client);
        } catch (error) {
          assert.ok(error instanceof OpencodeError, `${name}: ${String(error)}`);
          assertReadable(error.message, `${name} error`);
          assert.ok(error.message.includes(server.url), error.message);
          assert.match(error.message, /^(GET|POST) \//);
        }
      }),
      fcParams(250),
    );
    await sleep(50);
    guard.check();
  });

  test('a body over the 10 MB cap fails with too_large, with or without content-length', async (t) => {
    const guard = noEscapes(t);
    const chunk = Buffer.alloc(1024 * 1024, 0x20);
    for (const declared of [true, false]) {
      server.respond = (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', ...(declared ? { 'content-length': 11 * chunk.length + 2 } : {}) });
        res.write('[');
        let n = 0;
        const pump = () => {
          while (n < 11) {
            n++;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end(']');
        };
        res.on('error', () => undefined);
        pump();
      };
      const before = process.memoryUsage().rss;
      await assert.rejects(client.sessions(), (error: unknown) => {
        assert.ok(error instanceof OpencodeError);
        assert.equal(error.kind, 'too_large');
        assertReadable(error.message, 'too_large');
        return true;
      });
      assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'the body was not buffered whole');
    }
    // The client still works afterwards.
    server.respond = (_req, res) => send(res, { status: 200, body: '[]', contentType: 'application/json', truncate: false });
    assert.deepEqual(await client.sessions(), []);
    guard.check();
  });
});

// ── Event streams ───────────────────────────────────────────────────────────────────────────────

interface Item {
  kind: 'valid' | 'wrongType' | 'controls' | 'unknownType' | 'malformed' | 'comment' | 'oversized' | 'noise';
  text: string;
  id?: string;
}

const MAX_EVENT = 4096;

function itemArb(): fc.Arbitrary<Omit<Item, 'id'> & { make(id: string): string }> {
  const line = (obj: unknown) => `data: ${JSON.stringify(obj)}\n\n`;
  return fc.oneof(
    fc.record({ sid: fc.string({ minLength: 1, maxLength: 12 }), busy: fc.boolean() }).map(({ sid, busy }) => ({
      kind: 'valid' as const,
      text: '',
      make: (id: string) => line({ id, type: 'session.status', properties: { sessionID: sid, status: { type: busy ? 'busy' : 'idle' } } }),
    })),
    fc.record({ sid: fc.string({ minLength: 1, maxLength: 12 }), todos: fc.array(fc.record({ content: fc.string(), status: fc.constantFrom('pending', 'in_progress', 'completed') }), { maxLength: 4 }) }).map(({ sid, todos }) => ({
      kind: 'valid' as const,
      text: '',
      make: (id: string) => line({ id, type: 'todo.updated', properties: { sessionID: sid, todos } }),
    })),
    anyValue.map((p) => ({ kind: 'wrongType' as const, text: '', make: (id: string) => line({ id, type: 'session.status', properties: { sessionID: 5, status: p } }) })),
    anyValue.map((p) => ({ kind: 'unknownType' as const, text: '', make: (id: string) => line({ id, type: 'brand.new.event', properties: p }) })),
    fc.string({ unit: fc.constantFrom('\u0001', '\u001b', '\u0000', 'x', ' '), minLength: 1, maxLength: 20 }).map((raw) => ({
      kind: 'controls' as const,
      text: '',
      // A tool output leaking raw control bytes into a JSON string (no newline: that would end the SSE line).
      make: (id: string) => `data: {"id":"${id}","type":"session.idle","properties":{"sessionID":"s${raw}"}}\n\n`,
    })),
    fc.string({ maxLength: 40 }).filter((s) => !s.includes('\n') && !s.includes('\r')).map((s) => ({ kind: 'malformed' as const, text: '', make: () => `data: {${s}\n\n` })),
    fc.constantFrom(': ping\n\n', 'event: message\n\n', 'retry: 10\n\n', 'id: 7\n\n', '\n').map((text) => ({ kind: 'comment' as const, text, make: () => text })),
    fc.integer({ min: MAX_EVENT + 1, max: MAX_EVENT * 3 }).map((n) => ({
      kind: 'oversized' as const,
      text: '',
      make: (id: string) => `data: {"id":"${id}","type":"session.idle","properties":{"sessionID":"s","pad":"${'x'.repeat(n)}"}}\n\n`,
    })),
  );
}

interface Script {
  chunks: Buffer[];
  expected: string[];
  truncate: boolean;
  crlf: boolean;
  oversized?: boolean;
}

const scriptArb: fc.Arbitrary<Script> = fc
  .record({
    items: fc.array(itemArb(), { maxLength: 25 }),
    cuts: fc.array(fc.nat(), { maxLength: 30 }),
    truncate: fc.boolean(),
    crlf: fc.boolean(),
  })
  .map(({ items, cuts, truncate, crlf }) => {
    const expected: string[] = [];
    let text = `data: ${JSON.stringify({ id: 'evt_connected', type: 'server.connected', properties: {} })}\n\n`;
    expected.push('evt_connected');
    items.forEach((item, i) => {
      const id = `evt_${i}`;
      text += item.make(id);
      if (item.kind === 'valid' || item.kind === 'wrongType' || item.kind === 'unknownType' || item.kind === 'controls') expected.push(id);
    });
    if (truncate) text += `data: {"id":"evt_cut","type":"session.idle","properties":{"sessionID":"é`;
    if (crlf) text = text.replace(/\n/g, '\r\n');
    const bytes = Buffer.from(text, 'utf8');
    // Cut anywhere, also inside a multi-byte character.
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
    const chunks: Buffer[] = [];
    let from = 0;
    for (const p of points) {
      if (p > from) chunks.push(bytes.subarray(from, p));
      from = Math.max(from, p);
    }
    if (from < bytes.length) chunks.push(bytes.subarray(from));
    return { chunks, expected, truncate, crlf, oversized: items.some((i) => i.kind === 'oversized') };
  });

describe('event stream', () => {
  let server: Local;
  let transport: HttpTransport;
  let script: Script | undefined;
  before(async () => {
    server = await local();
    transport = new HttpTransport({ url: server.url }, { timeoutMs: 2_000 });
    server.respond = (req, res) => {
      const s = script;
      if (!s || !req.url?.startsWith('/event')) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      let i = 0;
      const next = () => {
        if (i < s.chunks.length) {
          res.write(s.chunks[i++]);
          // Separate TCP writes, so the client really sees split chunks.
          setImmediate(next);
        } else if (s.truncate) res.destroy();
        else res.end();
      };
      next();
    };
  });
  after(async () => {
    await transport.close();
    await server.close();
  });

  async function runScript(s: Script): Promise<{ events: OpencodeEvent[]; status: EventStreamStatus; logger: MemoryLogger }> {
    script = s;
    const events: OpencodeEvent[] = [];
    const logger = new MemoryLogger();
    let resolveEnd!: (status: EventStreamStatus) => void;
    const ended = new Promise<EventStreamStatus>((r) => (resolveEnd = r));
    const stream = new EventStream(transport, {
      logger,
      maxEventBytes: MAX_EVENT,
      backoff: { initialMs: 60_000, maxMs: 60_000 },
      onEvent: (e) => events.push(e),
      onStatus: (status) => {
        if (status.state === 'waiting') resolveEnd(status);
      },
    }).start();
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([ended, new Promise<EventStreamStatus>((r) => (timer = setTimeout(() => r(stream.status), 5_000)))]);
    clearTimeout(timer);
    await stream.dispose();
    return { events, status, logger };
  }

  test('split, truncated, malformed, oversized: every good event once, in order; a readable end', async (t) => {
    const guard = noEscapes(t);
    await fc.assert(
      // CRLF after an oversized event is a known bug, checked apart below.
      fc.asyncProperty(scriptArb.filter((s) => !(s.crlf && s.oversized)), async (s) => {
        const { events, status, logger } = await runScript(s);
        assert.deepEqual(
          events.map((e) => e.id),
          s.expected,
          `events (crlf=${s.crlf}, truncate=${s.truncate}, ${s.chunks.length} chunks); log:\n${logger.text()}`,
        );
        assert.equal(status.state, 'waiting');
        assertReadable(status.error?.message, 'stream end');
        assert.ok(status.error!.message.startsWith(`GET /event on ${server.url}`), status.error!.message);
        assert.equal(logger.records.filter((r) => r.level === 'error').length, 0, logger.text());
      }),
      fcParams(120),
    );
    guard.check();
  });

  test(
    'CRLF line endings: after an oversized event the stream goes on',
    async () => {
      const text = [
        `data: {"id":"evt_a","type":"session.idle","properties":{"sessionID":"a"}}`,
        '',
        `data: {"id":"evt_big","type":"session.idle","properties":{"sessionID":"s","pad":"${'x'.repeat(MAX_EVENT * 2)}"}}`,
        '',
        `data: {"id":"evt_b","type":"session.idle","properties":{"sessionID":"b"}}`,
        '',
        '',
      ].join('\r\n');
      const bytes = Buffer.from(text);
      // The oversized event must span chunks (the parser's buffer overflows mid-event).
      const cut = Math.floor(bytes.length * 0.6);
      const chunks = [bytes.subarray(0, 1), bytes.subarray(1, cut), bytes.subarray(cut)];
      const { events } = await runScript({ chunks, expected: [], truncate: false, crlf: true });
      assert.deepEqual(events.map((e) => e.id), ['evt_a', 'evt_b']);
    },
  );

  test('an event over the default 10 MB cap is dropped and the stream goes on', async (t) => {
    const guard = noEscapes(t);
    const big = `data: {"id":"evt_big","type":"session.idle","properties":{"sessionID":"s","pad":"${'x'.repeat(10 * 1024 * 1024 + 100)}"}}\n\n`;
    const parts = [
      `data: {"id":"evt_a","type":"session.idle","properties":{"sessionID":"a"}}\n\n`,
      big,
      `data: {"id":"evt_b","type":"session.idle","properties":{"sessionID":"b"}}\n\n`,
    ];
    script = { chunks: parts.map((p) => Buffer.from(p)), expected: [], truncate: false, crlf: false };
    const events: string[] = [];
    const logger = new MemoryLogger();
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    const stream = new EventStream(transport, { logger, backoff: { initialMs: 60_000, maxMs: 60_000 }, onEvent: (e) => events.push(e.id ?? ''), onStatus: (s) => s.state === 'waiting' && done() }).start();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([ended, new Promise<void>((r) => (timer = setTimeout(r, 20_000)))]);
    clearTimeout(timer);
    await stream.dispose();
    assert.deepEqual(events, ['evt_a', 'evt_b']);
    assert.ok(logger.records.some((r) => r.level === 'warn' && /dropped an event over/.test(r.message)), logger.text());
    guard.check();
  });
});

// ── The monitor on top: a server with broken answers is an instance with a readable error ───────

describe('monitor on a broken server', () => {
  const routes = ['/session', '/session/status', '/permission', '/question', '/global/health'] as const;

  test(
    'malformed or wrong-typed answers mark the instance with a readable error',
    async (t) => {
    const guard = noEscapes(t);
    const server = await local();
    t.after(() => server.close());
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), reply.filter((r) => r.status !== 200 || !isValidFor(r.body)), async (route, bad) => {
        // Servers without the permission/question API answer 404 there, or the web UI's HTML page
        // (what OpenCode serves for routes it lacks): that is "no such API", not an error.
        const optional = route === '/permission' || route === '/question';
        const noSuchRoute = bad.status === 404 || bad.status === 405 || (bad.status >= 200 && bad.status < 300 && bad.contentType === 'text/html');
        fc.pre(!(optional && noSuchRoute));
        const logger = new MemoryLogger();
        server.respond = (req, res) => {
          const path = (req.url ?? '').split('?')[0];
          if (path === '/event') {
            res.writeHead(200, { 'content-type': 'text/event-stream' });
            res.write(`data: ${JSON.stringify({ id: 'evt_0', type: 'server.connected', properties: {} })}\n\n`);
            return;
          }
          if (path === route) return send(res, bad);
          const good: Record<string, string> = {
            '/global/health': '{"healthy":true,"version":"1.18.33"}',
            '/session': '[]',
            '/session/status': '{}',
            '/permission': '[]',
            '/question': '[]',
          };
          const body = good[path ?? ''];
          res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' }).end(body ?? '{}');
        };
        const monitor = new Monitor({ logger, endpoints: [{ url: server.url }], requestTimeoutMs: 1_000, streamBackoff: { initialMs: 50, maxMs: 200 } }).start();
        try {
          await monitor.settle(2_000);
          const deadline = Date.now() + 1_500;
          let instance = monitor.snapshot().instances[0];
          while (!instance?.error && Date.now() < deadline) {
            await sleep(25);
            instance = monitor.snapshot().instances[0];
          }
          assert.ok(instance, 'the instance is in the model');
          assert.notEqual(instance.connection, 'connected', `${route} answered ${JSON.stringify(bad).slice(0, 200)}: still connected`);
          assertReadable(instance.error, `instance error after ${route} answered ${JSON.stringify(bad).slice(0, 120)}`);
        } finally {
          await monitor.dispose();
        }
      }),
      fcParams(25),
    );
    guard.check();
  },
  );
});

/** Bodies that happen to be valid for the route (e.g. `[]`) are not failures. */
function isValidFor(body: string): boolean {
  try {
    const v = JSON.parse(body) as unknown;
    return Array.isArray(v) || (typeof v === 'object' && v !== null);
  } catch {
    return false;
  }
}
