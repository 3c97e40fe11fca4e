/**
 * Issue 17: a cold start sends its lists with the event stream instead of after the stream's
 * first event (the slower of the two, not their sum), and what changes between the lists and the
 * stream's subscription is still seen: the light round after `server.connected` checks it.
 * The server here is the real 1.18.33 snapshot whose stream is slow to open (300 ms).
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { MemoryLogger } from '../../../src/core/log';
import { InstanceWatcher } from '../../../src/core/monitor/instanceWatcher';

const SAMPLE = path.join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'samples', 'opencode-1.18.33', 'busy', 'server-1.json');
const STREAM_DELAY_MS = 300;
/** Busy in the first status answer; idle (absent) in every later one, with no event saying so. */
const GAP_SESSION = 'ses_e005d12eeffeUH0w6s0CYd4G5m';

async function slowStreamServer() {
  const snapshot = JSON.parse(fs.readFileSync(SAMPLE, 'utf8')) as Record<string, unknown>;
  const t0 = performance.now();
  const log: Array<{ path: string; at: number }> = [];
  let connectedAt: number | undefined;
  let statusCalls = 0;
  const streams = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push({ path: url.pathname, at: performance.now() - t0 });
    if (url.pathname === '/event') {
      streams.add(res);
      res.on('close', () => streams.delete(res));
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        connectedAt = performance.now() - t0;
        res.write(`data: ${JSON.stringify({ type: 'server.connected', properties: {} })}\n\n`);
      }, STREAM_DELAY_MS);
      return;
    }
    let body = snapshot[`GET ${url.pathname}`];
    if (url.pathname === '/session/status' && statusCalls++ > 0) {
      body = Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([id]) => id !== GAP_SESSION));
    }
    if (body === undefined && /^\/session\/ses_[^/]+\/(todo|message)$/.test(url.pathname)) body = [];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { name: 'NotFoundError' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    log,
    connectedAt: () => connectedAt,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of streams) s.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('cold start: lists go out with the stream, ready once both are there, the gap is checked', { timeout: 20_000 }, async (t) => {
  const server = await slowStreamServer();
  t.after(() => server.close());
  const watcher = new InstanceWatcher({ url: server.url, logger: new MemoryLogger(), onChange: () => undefined }).start();
  t.after(() => watcher.dispose());
  await watcher.ready;

  const connectedAt = server.connectedAt();
  const firstList = server.log.find((r) => r.path === '/session');
  assert.ok(connectedAt !== undefined, 'ready waited for the stream');
  assert.ok(firstList && firstList.at < connectedAt, `the session list was asked at ${firstList?.at.toFixed(0)} ms, before the stream's first event at ${connectedAt.toFixed(0)} ms`);
  assert.equal(watcher.connection, 'connected');
  assert.ok(watcher.sessionInfos().length >= 4, 'the lists are in');

  // The session went idle between the lists and the subscription (no event will say so).
  const end = Date.now() + 5_000;
  while (watcher.sessionModel(GAP_SESSION, 'i', 60_000)?.status !== 'idle') {
    if (Date.now() > end) assert.fail(`still ${watcher.sessionModel(GAP_SESSION, 'i', 60_000)?.status}: the gap was not checked`);
    await new Promise((r) => setTimeout(r, 20));
  }
  t.diagnostic(`first list ${firstList.at.toFixed(0)} ms, stream's first event ${connectedAt.toFixed(0)} ms, status asked ${server.log.filter((r) => r.path === '/session/status').length}×`);
});
