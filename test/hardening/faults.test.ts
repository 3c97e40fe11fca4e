/**
 * Fault injection against real OpenCode servers: kill -9 mid-stream, a restart on the same port,
 * the port taken over by a non-OpenCode HTTP server, a server that accepts and never answers.
 * The other instances keep updating throughout, nothing escapes, and a server that comes back is
 * live in the model within 2 s of its first answer (measured from that answer, probed every 20 ms).
 */
import * as assert from 'node:assert/strict';
import * as http from 'node:http';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Discovery } from '../../src/core/discovery/discovery';
import { LinuxProcessScanner } from '../../src/core/discovery/linuxScanner';
import { MemoryLogger } from '../../src/core/log';
import type { InstanceModel, MonitorSnapshot } from '../../src/core/model/model';
import { Monitor } from '../../src/core/monitor/monitor';
import { createLab, createSession, promptAsync } from '../harness/opencodeLab';
import type { Lab, LabServer } from '../harness/opencodeLab';
import { firstAnswer } from './support/firstAnswer';
import { assertReadable, sleep } from './support/guards';

const RECOVERY_MS = 2_000;

function until<T>(monitor: Monitor, test: (s: MonitorSnapshot) => T | undefined | false, label: string, timeoutMs = 30_000): Promise<{ value: T; at: number }> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = test(monitor.snapshot());
      if (!value) return;
      clearTimeout(timer);
      subscription.dispose();
      resolve({ value, at: performance.timeOrigin + performance.now() });
    };
    const timer = setTimeout(() => {
      subscription.dispose();
      const snap = monitor.snapshot();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${label}; instances: ${snap.instances.map((i) => `${i.id}=${i.connection}${i.error ? ` (${i.error})` : ''}`).join(', ')}`));
    }, timeoutMs);
    const subscription = monitor.onDidChange(check);
    check();
  });
}

describe('fault injection against real OpenCode servers', { timeout: 300_000 }, () => {
  let lab: Lab;
  let a: LabServer;
  let b: LabServer;
  let c: LabServer;
  let monitor: Monitor;
  const logger = new MemoryLogger();
  const escaped: unknown[] = [];
  const onEscape = (e: unknown) => escaped.push(e);
  const impostors: Array<() => Promise<void>> = [];
  let bSession: string;

  const byPid = (s: MonitorSnapshot, server: LabServer): InstanceModel | undefined => s.instances.find((i) => i.pid === server.pid);
  const byUrl = (s: MonitorSnapshot, url: string): InstanceModel | undefined => s.instances.find((i) => i.url === url && i.kind === 'endpoint');

  /** B is watched all along: a prompt there must show up busy, then idle, whatever the others do. */
  async function othersKeepUpdating(label: string): Promise<void> {
    await promptAsync(b, bSession, 'scenario:sleep 1');
    await until(monitor, (s) => s.sessions.find((x) => x.id === bSession)?.status === 'busy', `B busy (${label})`, 15_000);
    await until(monitor, (s) => s.sessions.find((x) => x.id === bSession)?.status === 'idle', `B idle again (${label})`, 30_000);
  }

  before(async () => {
    process.on('uncaughtException', onEscape);
    process.on('unhandledRejection', onEscape);
    lab = await createLab();
    [a, b, c] = (await lab.startServers(3)) as [LabServer, LabServer, LabServer];
    bSession = await createSession(b, 'keeps updating');
    const inner = new LinuxProcessScanner({ logger });
    // The product's discovery, limited to this lab (other OpenCode processes may run on the machine),
    // plus C as a configured endpoint: the case where a non-OpenCode server can take its port.
    const scanner = { scan: async () => (await inner.scan()).filter((p) => p.home === lab.home) };
    monitor = new Monitor({ logger, source: new Discovery({ logger, scanner, intervalMs: 1_000 }), endpoints: [{ url: c.url }] }).start();
    await until(monitor, (s) => [a, b, c].every((x) => byPid(s, x)?.connection === 'connected'), 'all three connected');
  });

  after(async () => {
    process.off('uncaughtException', onEscape);
    process.off('unhandledRejection', onEscape);
    await monitor?.dispose();
    for (const stop of impostors) await stop().catch(() => undefined);
    await lab?.stopAll();
  });

  it('kill -9 mid-stream: the instance leaves, the others keep updating', async () => {
    const id = await createSession(a, 'streaming');
    await promptAsync(a, id, 'scenario:stream 8');
    await until(monitor, (s) => s.sessions.find((x) => x.id === id)?.status === 'busy', 'A streaming');
    await sleep(500);
    await a.kill9();
    await until(monitor, (s) => !byPid(s, a), 'A gone from the model', 10_000);
    await othersKeepUpdating('after kill -9');
  });

  it('restart on the same port: live again within 2 s of its first answer', async () => {
    const prober = firstAnswer(a.port, 60_000);
    const a2 = await lab.startServer({ name: 'a-again', port: a.port, dir: a.dir });
    const cameBack = await prober.at;
    prober.stop();
    const { at } = await until(monitor, (s) => byPid(s, a2)?.connection === 'connected', 'restarted A connected', 15_000);
    const recovery = at - cameBack;
    console.log(`# restart on the same port: connected ${recovery.toFixed(0)} ms after its first answer`);
    assert.ok(recovery <= RECOVERY_MS, `recovered ${recovery.toFixed(0)} ms after the first answer`);
    await othersKeepUpdating('after the restart');
  });

  it('port taken over by a non-OpenCode HTTP server: a readable error, the others keep updating', async () => {
    await c.kill9();
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>Not OpenCode</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(c.port, '127.0.0.1', resolve));
    const stop = () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve())));
    impostors.push(stop);
    const { value } = await until(monitor, (s) => { const i = byUrl(s, c.url); return i && i.connection !== 'connected' && i.error ? i : undefined; }, 'C (endpoint) with an error', 15_000);
    assertReadable(value.error, 'impostor error');
    console.log(`# port taken over: "${value.error}"`);
    await othersKeepUpdating('with an impostor on C');
    await stop();
    impostors.splice(impostors.indexOf(stop), 1);
  });

  it('a server that accepts and never answers: a readable error, the others keep updating', async () => {
    const held = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      held.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => held.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(c.port, '127.0.0.1', resolve));
    const stop = () => new Promise<void>((resolve) => { for (const s of held) s.destroy(); server.close(() => resolve()); });
    impostors.push(stop);
    const { value } = await until(monitor, (s) => { const i = byUrl(s, c.url); return i && i.connection !== 'connected' && /timeout|not answering/i.test(i.error ?? '') ? i : undefined; }, 'C (endpoint) not answering', 20_000);
    assertReadable(value.error, 'silent server error');
    console.log(`# accepts, never answers: "${value.error}"`);
    await othersKeepUpdating('with a silent server on C');
    await stop();
    impostors.splice(impostors.indexOf(stop), 1);
  });

  it('the real server back on that port: live again within 2 s of its first answer', async () => {
    const prober = firstAnswer(c.port, 60_000);
    const c2 = await lab.startServer({ name: 'c-again', port: c.port, dir: c.dir });
    const cameBack = await prober.at;
    prober.stop();
    const { at } = await until(monitor, (s) => byPid(s, c2)?.connection === 'connected' && !byUrl(s, c.url), 'restarted C connected', 15_000);
    const recovery = at - cameBack;
    console.log(`# back after impostors: connected ${recovery.toFixed(0)} ms after its first answer`);
    assert.ok(recovery <= RECOVERY_MS, `recovered ${recovery.toFixed(0)} ms after the first answer`);
    await othersKeepUpdating('at the end');
    assert.deepEqual(escaped, [], 'no exception escaped');
    assert.equal(logger.records.filter((r) => r.level === 'error').length, 0, logger.text());
  });
});
