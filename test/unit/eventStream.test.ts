import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { OpencodeClient } from '../../src/core/opencode/client';
import { OpencodeError } from '../../src/core/opencode/errors';
import { EventStream } from '../../src/core/opencode/eventStream';
import type { EventStreamOptions, EventStreamStatus } from '../../src/core/opencode/eventStream';
import { decodeEventData } from '../../src/core/opencode/events';
import type { OpencodeEvent } from '../../src/core/opencode/events';
import { HttpTransport } from '../../src/core/opencode/http';
import type { Handler, LocalServer } from './support/localServer';
import {
  SAMPLES_DIR,
  delay,
  expectHandlesBackTo,
  quietHandles,
  seededRandom,
  sendJson,
  sseDataLines,
  sseMessage,
  startServer,
  waitFor,
  writeSseHead,
} from './support/localServer';

type TimedStatus = EventStreamStatus & { at: number };

interface Harness {
  server: LocalServer;
  http: HttpTransport;
  stream: EventStream;
  events: OpencodeEvent[];
  statuses: TimedStatus[];
  logger: MemoryLogger;
}

const FAST: Partial<EventStreamOptions> = { backoff: { initialMs: 20, maxMs: 100 }, random: () => 1 };

async function setup(t: TestContext, handler: Handler, options: Partial<EventStreamOptions> = {}): Promise<Harness> {
  const server = await startServer(handler);
  const logger = new MemoryLogger();
  const http = new HttpTransport({ url: server.url }, { timeoutMs: 2_000, logger });
  const events: OpencodeEvent[] = [];
  const statuses: TimedStatus[] = [];
  const stream = new EventStream(http, {
    ...FAST,
    logger,
    onEvent: (event) => events.push(event),
    onStatus: (status) => statuses.push({ ...status, at: Date.now() }),
    ...options,
  });
  t.after(async () => {
    await stream.dispose();
    await http.close();
    await server.close();
  });
  return { server, http, stream: stream.start(), events, statuses, logger };
}

const connected = (n = 0) => sseMessage({ id: `evt_c${n}`, type: 'server.connected', properties: {} });
const heartbeat = () => sseMessage({ type: 'server.heartbeat', properties: {} });
const idle = (sessionID: string) => sseMessage({ type: 'session.idle', properties: { sessionID } });

/** Headers and `server.connected`, then the stream stays open until the client leaves. */
const holdOpen: Handler = (_req, res, ctx) => {
  writeSseHead(res);
  res.write(connected(ctx.index));
};

const failWith =
  (status: number): Handler =>
  (_req, res) =>
    sendJson(res, { name: 'Error' }, status);

function nextImmediate(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Writes `data` in random 1..maxChunk byte pieces, yielding between writes so they arrive apart. */
async function writeInChunks(res: http.ServerResponse, data: Buffer, random: () => number, maxChunk: number): Promise<void> {
  let offset = 0;
  while (offset < data.length && !res.destroyed) {
    const size = 1 + Math.floor(random() * maxChunk);
    res.write(data.subarray(offset, offset + size));
    offset += size;
    await nextImmediate();
  }
}

function expectedEvents(text: string): OpencodeEvent[] {
  return sseDataLines(text).flatMap((line) => {
    const decoded = decodeEventData(line);
    return decoded.kind === 'event' ? [decoded.event] : [];
  });
}

const multiByte = {
  type: 'message.part.delta',
  properties: { sessionID: 'ses_u', messageID: 'msg_u', partID: 'prt_u', field: 'text', delta: 'héllo wörld — 日本語 🚀 ✓' },
};

test('sample events arrive in order from a stream split at random (mid-line, mid-UTF-8)', async (t) => {
  const sample = fs.readFileSync(path.join(SAMPLES_DIR, 'sse/event-server-2.sse.txt'), 'utf8');
  // The samples are ASCII: sprinkle multi-byte events so random splits land inside characters.
  const lines = sample.split('\n\n');
  const body = lines.map((chunk, i) => (i % 20 === 10 && chunk ? chunk + '\n\n' + sseMessage(multiByte).trimEnd() : chunk)).join('\n\n');
  const tail = Buffer.from(sseMessage(multiByte));
  const rocket = tail.indexOf(Buffer.from('🚀'));
  const h = await setup(t, async (_req, res) => {
    writeSseHead(res);
    await writeInChunks(res, Buffer.from(body), seededRandom(42), 48);
    // A deterministic split inside the 4-byte rocket, with a pause so it arrives as two chunks.
    res.write(tail.subarray(0, rocket + 2));
    await delay(15);
    res.write(tail.subarray(rocket + 2));
  });
  const expected = [...expectedEvents(body), ...expectedEvents(tail.toString('utf8'))];
  assert.ok(expected.length > 200);
  await waitFor(() => h.events.length >= expected.length, () => `${expected.length} events (got ${h.events.length}; ${h.logger.text()})`, 5_000);
  assert.deepEqual(h.events, expected);
  assert.equal(h.events[0]?.type, 'server.connected');
  assert.ok(h.events.filter((e) => e.type === 'message.part.delta' && e.properties.delta === multiByte.properties.delta).length > 5);
  assert.equal(h.stream.stats.bytes, Buffer.byteLength(body) + tail.length);
  assert.equal(h.stream.stats.connects, 1);
  assert.equal(h.stream.stats.events, expected.length);
  assert.deepEqual(h.statuses.map((s) => s.state), ['connecting', 'open']);
  assert.equal(h.stream.status.state, 'open');
  assert.equal(h.server.requests[0]?.headers.accept, 'text/event-stream');
  assert.deepEqual(h.logger.records.filter((r) => r.level !== 'debug'), []);
});

test('/global/event: envelopes carry the directory, sync records are skipped', async (t) => {
  const sample = fs.readFileSync(path.join(SAMPLES_DIR, 'sse/global-event-server-1.sse.txt'), 'utf8');
  const h = await setup(
    t,
    async (_req, res) => {
      writeSseHead(res);
      await writeInChunks(res, Buffer.from(sample), seededRandom(7), 400);
    },
    { path: '/global/event' },
  );
  const expected = expectedEvents(sample);
  await waitFor(() => h.events.length >= expected.length, `${expected.length} events`, 5_000);
  assert.deepEqual(h.events, expected);
  assert.equal(h.server.requests[0]?.path, '/global/event');
  // Only the server.* events come without a directory.
  for (const event of h.events) {
    if (!event.type.startsWith('server.')) assert.equal(event.directory, '/home/dev/lab/projects/alpha', event.type);
  }
  assert.ok(!h.events.some((e) => e.type === 'unknown' && e.originalType === 'sync'));
  assert.ok(sseDataLines(sample).length > h.events.length, 'the sample has sync records to skip');
});

test('a stream the server closes → waiting, then it reconnects by itself', async (t) => {
  const h = await setup(t, async (_req, res, ctx) => {
    writeSseHead(res);
    res.write(connected(ctx.index));
    await delay(10);
    res.end();
  });
  await waitFor(() => h.stream.stats.connects >= 3, 'three connections');
  const first = h.statuses.slice(0, 4);
  assert.deepEqual(first.map((s) => [s.state, s.attempt]), [['connecting', 0], ['open', 0], ['waiting', 1], ['connecting', 1]]);
  const waiting = first[2];
  assert.ok(waiting?.error instanceof OpencodeError);
  assert.equal(waiting.error.kind, 'network');
  assert.match(waiting.error.message, /^GET \/event on http:\/\/127\.0\.0\.1:\d+: the server closed the stream/);
  assert.equal(h.events.filter((e) => e.type === 'server.connected').length >= 3, true);
  assert.match(h.logger.text(), /\[info\] event stream \/event on .* dropped: .*retry 1 in 20 ms/);
});

test('repeated failures back off exponentially up to maxMs', async (t) => {
  const h = await setup(t, failWith(503));
  await waitFor(() => h.statuses.filter((s) => s.state === 'waiting').length >= 6, 'six failed attempts');
  const waiting = h.statuses.filter((s) => s.state === 'waiting').slice(0, 6);
  assert.deepEqual(waiting.map((s) => s.attempt), [1, 2, 3, 4, 5, 6]);
  const delays = waiting.map((s) => (s.retryAt ?? 0) - s.at);
  [20, 40, 80, 100, 100, 100].forEach((expected, i) => {
    const actual = delays[i] ?? NaN;
    assert.ok(actual >= expected - 5 && actual <= expected, `attempt ${i + 1}: retryAt is ${actual} ms ahead, expected ${expected}`);
  });
  for (const s of waiting) {
    assert.equal(s.error?.kind, 'http');
    assert.equal(s.error?.status, 503);
  }
  // The server saw the attempts spaced by (at least) those delays.
  const connectingAt = h.statuses.filter((s) => s.state === 'connecting').map((s) => s.at);
  for (let i = 1; i < 6; i++) {
    const gap = (connectingAt[i] ?? 0) - (connectingAt[i - 1] ?? 0);
    assert.ok(gap >= [20, 40, 80, 100, 100][i - 1]! - 2, `gap ${i}: ${gap} ms`);
  }
  // Only the first failure of a series is logged above debug.
  assert.equal(h.logger.records.filter((r) => r.level === 'info').length, 1);
  assert.equal(h.stream.stats.connects, 0);
});

test('a connection that stayed healthy for healthyAfterMs resets the attempt count', async (t) => {
  const h = await setup(
    t,
    async (req, res, ctx) => {
      if (ctx.index === 3) {
        writeSseHead(res);
        res.write(connected());
        await delay(130);
        res.end();
      } else if (ctx.index === 6) holdOpen(req, res, ctx);
      else sendJson(res, {}, 502);
    },
    { healthyAfterMs: 100 },
  );
  await waitFor(() => h.server.requests.length >= 7 && h.stream.status.state === 'open', 'the 7th connection');
  const waiting = h.statuses.filter((s) => s.state === 'waiting');
  // 3 failures, a healthy connection that dropped (→ 1 again), 2 more failures.
  assert.deepEqual(waiting.map((s) => s.attempt), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(waiting.map((s) => s.error?.kind), ['http', 'http', 'http', 'network', 'http', 'http']);
});

test('a connection shorter than healthyAfterMs keeps the attempt count growing', async (t) => {
  const h = await setup(
    t,
    async (_req, res) => {
      writeSseHead(res);
      res.write(connected());
      await delay(5);
      res.end();
    },
    { healthyAfterMs: 1_000 },
  );
  await waitFor(() => h.statuses.filter((s) => s.state === 'waiting').length >= 4, 'four drops');
  assert.deepEqual(h.statuses.filter((s) => s.state === 'waiting').slice(0, 4).map((s) => s.attempt), [1, 2, 3, 4]);
  assert.deepEqual(h.statuses.filter((s) => s.state === 'open').slice(0, 4).map((s) => s.attempt), [0, 1, 2, 3]);
});

test('watchdog: headers and one event, then silence → reconnect after watchdogMs with a timeout error', async (t) => {
  const h = await setup(t, holdOpen, { watchdogMs: 300 });
  await waitFor(() => h.stream.stats.connects >= 2, 'the second connection', 3_000);
  const open = h.statuses.find((s) => s.state === 'open');
  const waiting = h.statuses.find((s) => s.state === 'waiting');
  assert.ok(open && waiting);
  const silentFor = waiting.at - open.at;
  assert.ok(silentFor >= 295 && silentFor < 800, `reconnected after ${silentFor} ms`);
  assert.equal(waiting.error?.kind, 'timeout');
  assert.match(waiting.error?.message ?? '', /no data for 300 ms/);
  // The dead connection was really dropped.
  const silent = h.server.requests[0]?.socketId ?? -1;
  await waitFor(() => !h.server.openSocketIds().includes(silent), 'the silent socket to close');
});

test('watchdog: a stream that keeps sending heartbeats stays connected', async (t) => {
  const h = await setup(
    t,
    async (_req, res) => {
      writeSseHead(res);
      res.write(connected());
      for (let i = 0; i < 6 && !res.destroyed; i++) {
        await delay(100);
        res.write(heartbeat());
      }
    },
    { watchdogMs: 300 },
  );
  // 600 ms of heartbeats: twice the watchdog period without a reconnect.
  await waitFor(() => h.events.length >= 7, 'six heartbeats', 3_000);
  assert.equal(h.stream.stats.connects, 1);
  assert.ok(!h.statuses.some((s) => s.state === 'waiting'));
});

test('no response headers within connectTimeoutMs → timeout', async (t) => {
  const h = await setup(t, () => undefined, { connectTimeoutMs: 150 });
  await waitFor(() => h.stream.status.state === 'waiting', 'the first failure');
  const waiting = h.stream.status;
  assert.equal(waiting.error?.kind, 'timeout');
  const elapsed = (h.statuses.find((s) => s.state === 'waiting')?.at ?? 0) - (h.statuses[0]?.at ?? 0);
  assert.ok(elapsed >= 145 && elapsed < 600, `${elapsed} ms`);
});

test('401 on /event → error kind auth_required', async (t) => {
  const h = await setup(t, (_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="Secure Area"' }).end('Unauthorized'));
  await waitFor(() => h.stream.status.state === 'waiting', 'the first failure');
  const error = h.stream.status.error;
  assert.ok(error instanceof OpencodeError);
  assert.equal(error.kind, 'auth_required');
  assert.equal(error.status, 401);
  assert.equal(error.endpoint, 'GET /event');
  assert.equal(error.instance, h.server.url);
});

test('non-200 on /event → http error with the status, even with a large body', async (t) => {
  const h = await setup(t, (_req, res) => {
    res.on('error', () => undefined);
    sendJson(res, 'x'.repeat(200_000), 500);
  });
  await waitFor(() => h.statuses.filter((s) => s.state === 'waiting').length >= 2, 'two failures');
  assert.equal(h.stream.status.error?.kind, 'http');
  assert.equal(h.stream.status.error?.status, 500);
  await delay(20);
});

test('an oversized event is dropped with a warning and later events still arrive', async (t) => {
  const big = sseMessage({ type: 'message.part.delta', properties: { sessionID: 's', messageID: 'm', partID: 'p', field: 'text', delta: 'z'.repeat(200_000) } });
  const h = await setup(
    t,
    async (_req, res, ctx) => {
      writeSseHead(res);
      res.write(connected(ctx.index));
      if (ctx.index > 0) return;
      await writeInChunks(res, Buffer.from(big), () => 1, 16_384);
      res.write(idle('after-big'));
    },
    { maxEventBytes: 1_024 },
  );
  await waitFor(() => h.logger.records.some((r) => r.level === 'warn'), 'a warning about the big event');
  assert.match(h.logger.text(), /\[warn\] event stream \/event on .*dropped an event over 1024 characters/);
  await waitFor(
    () => h.events.some((e) => e.type === 'session.idle'),
    () => `the event after the oversized one; the stream went: ${h.statuses.map((s) => s.state + (s.error ? ` (${s.error.message})` : '')).join(' → ')}`,
    1_000,
  );
  assert.ok(!h.events.some((e) => e.type === 'message.part.delta'), 'the oversized event is not delivered');
  assert.equal(h.stream.stats.connects, 1, 'the connection survives');
});

test('a throwing onEvent handler does not stop the stream', async (t) => {
  let calls = 0;
  const h = await setup(
    t,
    (_req, res) => {
      writeSseHead(res);
      res.write(connected() + idle('a') + idle('b'));
    },
    {
      onEvent: () => {
        calls++;
        throw new Error('consumer bug');
      },
    },
  );
  await waitFor(() => calls >= 3, 'three handler calls');
  await delay(20);
  assert.equal(calls, 3);
  assert.equal(h.stream.status.state, 'open');
  assert.equal(h.stream.stats.connects, 1);
  assert.equal(h.logger.records.filter((r) => r.level === 'error' && /event handler failed.*consumer bug/.test(r.message)).length, 3);
});

test('a throwing onStatus handler does not stop the stream either', async (t) => {
  const events: OpencodeEvent[] = [];
  const h = await setup(t, holdOpen, {
    onEvent: (e) => events.push(e),
    onStatus: () => {
      throw new Error('status bug');
    },
  });
  await waitFor(() => events.length === 1, 'the first event');
  assert.equal(h.stream.status.state, 'open');
  assert.match(h.logger.text(), /status handler failed: status bug/);
});

test('the external AbortSignal stops the stream and closes its socket', async (t) => {
  const controller = new AbortController();
  const h = await setup(t, holdOpen, { signal: controller.signal });
  await waitFor(() => h.stream.status.state === 'open', 'open');
  controller.abort();
  await waitFor(() => h.stream.status.state === 'closed', 'closed');
  const streamSocket = h.server.requests[0]?.socketId ?? -1;
  await waitFor(() => !h.server.openSocketIds().includes(streamSocket), 'the stream socket to close');
  await delay(60);
  assert.equal(h.server.requests.length, 1, 'no reconnect after abort');
});

test('an already aborted signal never connects', async (t) => {
  const h = await setup(t, holdOpen, { signal: AbortSignal.abort() });
  await delay(30);
  assert.equal(h.server.requests.length, 0);
  assert.equal(h.stream.status.state, 'closed');
  await h.stream.dispose();
});

test('restart() drops the connection and reconnects at once', async (t) => {
  const h = await setup(t, holdOpen, { backoff: { initialMs: 5_000, maxMs: 5_000 } });
  await waitFor(() => h.stream.status.state === 'open', 'open');
  const before = h.statuses.length;
  const start = Date.now();
  h.stream.restart();
  await waitFor(() => h.stream.stats.connects === 2 && h.stream.status.state === 'open', 'the second connection');
  assert.ok(Date.now() - start < 200, `reconnected after ${Date.now() - start} ms`);
  assert.deepEqual(h.statuses.slice(before).map((s) => [s.state, s.attempt]), [['connecting', 0], ['open', 0]]);
  const old = h.server.requests[0]?.socketId ?? -1;
  await waitFor(() => !h.server.openSocketIds().includes(old), 'the old socket to close');
});

test('restart() during the backoff wait connects at once with the attempt count reset', async (t) => {
  const h = await setup(t, failWith(503), { backoff: { initialMs: 20, maxMs: 5_000 } });
  await waitFor(() => h.stream.status.state === 'waiting' && h.stream.status.attempt === 4, 'the 4th failure');
  const start = Date.now();
  const before = h.statuses.length;
  h.stream.restart();
  await waitFor(() => h.server.requests.length === 5, 'the next attempt', 1_000);
  assert.ok(Date.now() - start < 100, `next attempt after ${Date.now() - start} ms`);
  await waitFor(() => h.stream.status.state === 'waiting', 'the 5th failure');
  assert.deepEqual(h.statuses.slice(before).map((s) => [s.state, s.attempt]), [['connecting', 0], ['waiting', 1]]);
});

test('reconnectNow() skips the rest of the backoff wait', async (t) => {
  let fail = true;
  const h = await setup(t, (req, res, ctx) => (fail ? sendJson(res, {}, 503) : holdOpen(req, res, ctx)), {
    backoff: { initialMs: 5_000, maxMs: 5_000 },
  });
  await waitFor(() => h.stream.status.state === 'waiting', 'the first failure');
  fail = false;
  const start = Date.now();
  h.stream.reconnectNow();
  await waitFor(() => h.stream.status.state === 'open', 'open again', 1_000);
  assert.ok(Date.now() - start < 100);
});

test('dispose() resolves, closes the stream, and leaves no socket or timer behind', async (t) => {
  const server = await startServer((req, res, ctx) => {
    writeSseHead(res);
    res.write(connected(ctx.index));
  });
  t.after(() => server.close());
  const baseline = await quietHandles();
  const http = new HttpTransport({ url: server.url }, { timeoutMs: 2_000 });
  const statuses: EventStreamStatus[] = [];
  const stream = new EventStream(http, { ...FAST, watchdogMs: 10_000, onEvent: () => undefined, onStatus: (s) => statuses.push(s) }).start();
  let socketsAfterDispose: number[];
  try {
    await waitFor(() => stream.status.state === 'open', 'open');
    await stream.dispose();
    assert.equal(stream.status.state, 'closed');
    assert.equal(statuses.at(-1)?.state, 'closed');
    await stream.dispose();
    // Checked once the transport is closed too, so that a failure here still runs the leak check below.
    await waitFor(() => server.openSocketIds().length === 0, 'no server side socket', 300).catch(() => undefined);
    socketsAfterDispose = server.openSocketIds();
  } finally {
    await http.close();
  }
  await expectHandlesBackTo(baseline);
  assert.equal(server.requests.length, 1);
  assert.deepEqual(
    socketsAfterDispose,
    [],
    `after dispose() the server still had socket(s) ${socketsAfterDispose.join(', ')} open (the stream used socket ${server.requests[0]?.socketId}; ${server.connections} accepted for ${server.requests.length} request)`,
  );
});

test('dispose() while connecting and while waiting returns promptly and leaves nothing behind', async (t) => {
  const hang = await startServer(() => undefined);
  const refuse = await startServer(failWith(503));
  t.after(() => Promise.all([hang.close(), refuse.close()]));
  const baseline = await quietHandles();
  for (const server of [hang, refuse]) {
    const http = new HttpTransport({ url: server.url }, { timeoutMs: 5_000 });
    const stream = new EventStream(http, { backoff: { initialMs: 5_000, maxMs: 5_000 }, onEvent: () => undefined }).start();
    try {
      const expected = server === hang ? 'connecting' : 'waiting';
      await waitFor(() => stream.status.state === expected && server.requests.length === 1, expected);
      const start = Date.now();
      await stream.dispose();
      const elapsed = Date.now() - start;
      assert.ok(elapsed < 100, `dispose() while ${expected} took ${elapsed} ms`);
      assert.equal(stream.status.state, 'closed');
    } finally {
      await http.close();
    }
  }
  await waitFor(() => hang.openSockets === 0 && refuse.openSockets === 0, 'no server side socket left');
  await expectHandlesBackTo(baseline);
});

test('dispose() before start() resolves and never connects', async (t) => {
  const h = await startServer(holdOpen);
  t.after(() => h.close());
  const http = new HttpTransport({ url: h.url });
  t.after(() => http.close());
  const stream = new EventStream(http, { onEvent: () => undefined });
  await stream.dispose();
  stream.start();
  await delay(20);
  assert.equal(h.requests.length, 0);
  assert.equal(stream.status.state, 'closed');
});

test('client.events() starts a stream on the client pool, with the client logger', async (t) => {
  const server = await startServer(async (_req, res) => {
    writeSseHead(res);
    res.write(connected() + 'data: {not json}\n\n' + idle('ses_1'));
  });
  const logger = new MemoryLogger();
  const client = new OpencodeClient({ url: server.url, password: 'pw' }, { logger });
  const events: OpencodeEvent[] = [];
  const stream = client.events({ onEvent: (e) => events.push(e) });
  t.after(async () => {
    await stream.dispose();
    await client.close();
    await server.close();
  });
  await waitFor(() => events.length === 2, 'two events');
  assert.deepEqual(events.map((e) => e.type), ['server.connected', 'session.idle']);
  assert.equal(server.requests[0]?.headers.authorization, 'Basic ' + Buffer.from('opencode:pw').toString('base64'));
  assert.match(logger.text(), /\[warn\] event stream \/event on .*event is not JSON/);
  assert.equal(stream.stats.errors, 1);
});
