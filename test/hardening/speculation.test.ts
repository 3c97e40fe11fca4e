/**
 * Issue 17: a found process's port is fetched from while its discovery probe is still out
 * (src/core/monitor/speculation.ts). What must hold whatever the port turns out to be: a server
 * that is not OpenCode shows nothing and gets nothing more after the verdict; no request beyond
 * the probe carries a password before the verdict; a server in OpenCode's deaf first moments does
 * not leave the monitor with a watcher whose requests hang. And when it is OpenCode, the lists
 * went out before the probe's answer and were not asked twice.
 */
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { test } from 'node:test';
import { Discovery } from '../../src/core/discovery/discovery';
import type { OpencodeProcess } from '../../src/core/discovery/types';
import { MemoryLogger } from '../../src/core/log';
import { Monitor } from '../../src/core/monitor/monitor';
import type { MonitorSnapshot } from '../../src/core/model/model';
import type { LocalServer, SampleBodies } from '../unit/support/localServer';
import { SAMPLES_DIR, delay, readSampleBodies, sendJson, sseMessage, startServer, waitFor, writeSseHead } from '../unit/support/localServer';

const SAMPLE = readSampleBodies(path.join(SAMPLES_DIR, 'busy', 'server-1.json'));

function processAt(port: number): OpencodeProcess {
  return { pid: 4242, ppid: 1, args: ['opencode', 'serve'], kind: 'serve', ports: [port], listeners: [{ address: '127.0.0.1', port }], cwd: '/p/spec', startTime: 77 };
}

/** A monitor whose discovery finds one process listening on `port` (the real probe, scanning once a minute). */
function monitorOf(port: number, options: { passwordFor?: (url: string) => string | undefined } = {}) {
  const logger = new MemoryLogger();
  const scanner = { scan: () => Promise.resolve([processAt(port)]) };
  const source = new Discovery({ logger, scanner, intervalMs: 60_000 });
  const monitor = new Monitor({ logger, source, ...(options.passwordFor ? { passwordFor: options.passwordFor } : {}) });
  const snapshots: MonitorSnapshot[] = [];
  monitor.onDidChange(() => snapshots.push(monitor.snapshot()));
  return { monitor, logger, snapshots };
}

/** OpenCode's answers from a real busy server's snapshot; `/event` says connected and stays open. */
function answer(bodies: SampleBodies, req: IncomingMessage, res: ServerResponse): void {
  const pathname = new URL(req.url ?? '/', 'http://x').pathname;
  if (pathname === '/event') {
    writeSseHead(res);
    res.write(sseMessage({ type: 'server.connected', properties: {} }));
    return;
  }
  let body = bodies[`GET ${pathname}`];
  if (body === undefined && /^\/session\/ses_[^/]+\/(todo|message)$/.test(pathname)) body = [];
  sendJson(res, body ?? { name: 'NotFoundError' }, body === undefined ? 404 : 200);
}

const sessionsFrom = (s: MonitorSnapshot, url: string) => s.sessions.filter((x) => s.instances.find((i) => i.id === x.instanceId)?.url === url);

test('an OpenCode server that is slow to answer its probe: the lists went out before that answer, once', { timeout: 20_000 }, async (t) => {
  let healthAnsweredAt: number | undefined;
  const t0 = performance.now();
  const server = await startServer(async (req, res) => {
    if (req.url === '/global/health') {
      // A busy server (7–92 ms on the lab); well under the 350 ms within which the early watcher is adopted.
      await delay(100);
      healthAnsweredAt = performance.now() - t0;
    }
    answer(SAMPLE, req, res);
  });
  t.after(() => server.close());
  const firstSeen = new Map<string, number>();
  server.server.on('request', (req: IncomingMessage) => firstSeen.has(req.url ?? '') || firstSeen.set(req.url ?? '', performance.now() - t0));
  const { monitor, logger } = monitorOf(server.port);
  t.after(() => monitor.dispose());
  monitor.start();
  await monitor.settle(10_000);

  const listAt = firstSeen.get('/session');
  assert.ok(healthAnsweredAt !== undefined && listAt !== undefined && listAt < healthAnsweredAt, `/session asked at ${listAt?.toFixed(0)} ms, the probe answered at ${healthAnsweredAt?.toFixed(0)} ms`);
  const snap = monitor.snapshot();
  assert.equal(snap.instances[0]?.connection, 'connected');
  assert.ok(sessionsFrom(snap, server.url).length >= 4, 'its sessions are in the model');
  const count = (p: string) => server.requests.filter((r) => r.path === p).length;
  assert.deepEqual([count('/session'), count('/event')], [1, 1], 'the early watcher was adopted, not doubled');
  assert.equal(logger.records.filter((r) => r.level === 'warn' || r.level === 'error').length, 0, logger.text());
});

test('hostile: a port that is not OpenCode but serves OpenCode-shaped lists and events shows nothing and is left alone', { timeout: 20_000 }, async (t) => {
  const hostile: SampleBodies = {
    'GET /session': [{ id: 'ses_hostile', title: 'Pwned [x](command:workbench.action.terminal.sendSequence)', directory: '/', time: { created: 1, updated: 2 }, projectID: 'p', version: '1' }],
    'GET /session/status': { ses_hostile: { type: 'busy' } },
    'GET /permission': [],
    'GET /question': [],
  };
  let verdictAt: number | undefined;
  const server = await startServer(async (req, res) => {
    if (req.url === '/global/health') {
      // Long enough for the early watcher's requests to arrive before the verdict, even on a loaded machine.
      await delay(150);
      verdictAt = Date.now();
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>not here</html>');
      return;
    }
    answer(hostile, req, res);
    if (req.url === '/event') res.write(sseMessage({ type: 'session.status', properties: { sessionID: 'ses_hostile', status: { type: 'busy' } } }));
  });
  t.after(() => server.close());
  const { monitor, logger, snapshots } = monitorOf(server.port);
  t.after(() => monitor.dispose());
  monitor.start();
  await monitor.settle(10_000);
  assert.ok(server.requests.some((r) => r.path === '/session'), 'the port was fetched from before the verdict (else this test tests nothing)');
  await delay(500);

  for (const s of [...snapshots, monitor.snapshot()]) {
    assert.equal(s.sessions.length, 0, `a session from a port that is not OpenCode reached the model: ${JSON.stringify(s.sessions.map((x) => x.title))}`);
    assert.equal(s.instances[0]?.connection === 'connected', false, 'it never counted as connected');
  }
  const after = server.requests.filter((r) => r.path !== '/global/health').length;
  await delay(400);
  assert.equal(server.requests.filter((r) => r.path !== '/global/health').length, after, 'requests went on after the verdict');
  await waitFor(() => server.openSockets === 0, () => `${server.openSockets} connection(s) (the event stream?) still open after the verdict at ${verdictAt}`);
  assert.equal(logger.records.filter((r) => r.level === 'warn' || r.level === 'error').length, 0, `its failures are not the user's news:\n${logger.text()}`);
});

test('hostile: with a password to give, nothing but the probe reaches the port before its verdict', { timeout: 20_000 }, async (t) => {
  const sequence: Array<{ path: string; auth: boolean; at: 'before' | 'after' }> = [];
  let answered = false;
  const server: LocalServer = await startServer(async (req, res) => {
    sequence.push({ path: req.url ?? '', auth: req.headers.authorization !== undefined, at: answered ? 'after' : 'before' });
    if (req.headers.authorization !== `Basic ${Buffer.from('opencode:pw').toString('base64')}`) {
      if (req.url === '/global/health') await delay(60);
      answered ||= req.url === '/global/health';
      res.writeHead(401, { 'www-authenticate': 'Basic realm="opencode"' }).end();
      return;
    }
    answer(SAMPLE, req, res);
  });
  t.after(() => server.close());
  const { monitor } = monitorOf(server.port, { passwordFor: () => 'pw' });
  t.after(() => monitor.dispose());
  monitor.start();
  await monitor.settle(10_000);
  await waitFor(() => monitor.snapshot().instances[0]?.connection === 'connected', 'connected with the password');
  const early = sequence.filter((r) => r.at === 'before');
  assert.deepEqual(early.map((r) => r.path), ['/global/health'], `before the verdict: ${JSON.stringify(early)}`);
  assert.ok(sequence.filter((r) => r.at === 'after' && r.path !== '/global/health').every((r) => r.auth), 'after it, the watcher sends the password');
});

test('a server in its deaf first moments: the early watcher (requests hanging) is dropped, a fresh one connects', { timeout: 20_000 }, async (t) => {
  const DEAF_MS = 600;
  let started = 0;
  const hung: ServerResponse[] = [];
  const server = await startServer((req, res) => {
    // Like OpenCode right after it binds: connections accepted now are never answered.
    if (Date.now() - started < DEAF_MS || (req.socket as { deaf?: boolean }).deaf) {
      (req.socket as { deaf?: boolean }).deaf = true;
      hung.push(res);
      return;
    }
    answer(SAMPLE, req, res);
  });
  t.after(() => server.close());
  const { monitor } = monitorOf(server.port);
  t.after(() => monitor.dispose());
  started = Date.now();
  monitor.start();
  await monitor.settle(10_000);
  await waitFor(() => monitor.snapshot().instances[0]?.connection === 'connected', 'connected', 5_000);
  assert.ok(hung.some((r) => r.req.url === '/session'), 'the early watcher asked while the server was deaf (else this test tests nothing)');
  assert.ok(sessionsFrom(monitor.snapshot(), server.url).length >= 4, 'its sessions are in the model');
  // The early watcher's hanging requests are given up, not kept.
  await waitFor(() => hung.every((r) => r.req.socket.destroyed), () => `hung request(s) still open: ${hung.filter((r) => !r.req.socket.destroyed).map((r) => r.req.url).join(", ")}`);
});
