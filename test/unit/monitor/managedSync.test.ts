/**
 * How the monitor folds managed servers, discovered processes, endpoints and containers into
 * rows: one row per managed server across restarts, its process folded in, containers named.
 * The URLs point at closed ports: only the row bookkeeping is under test here (the real servers
 * are in test/integration/managed.test.ts).
 */
import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, describe, test } from 'node:test';
import { nullLogger } from '../../../src/core/log';
import type { ContainerSource, ContainerTarget, DiscoveredProcess, InstanceSource, ManagedSource } from '../../../src/core/monitor/ports';
import { Monitor } from '../../../src/core/monitor/monitor';
import type { ManagedServerInfo } from '../../../src/core/servers/types';
import { Emitter } from '../../../src/core/util/events';

class FakeManaged implements ManagedSource {
  private readonly emitter = new Emitter<void>();
  constructor(public servers: ManagedServerInfo[]) {}
  list(): ManagedServerInfo[] {
    return this.servers;
  }
  onDidChange(listener: () => void) {
    return this.emitter.event(listener);
  }
  passwordFor(): string | undefined {
    return undefined;
  }
  set(servers: ManagedServerInfo[]): void {
    this.servers = servers;
    this.emitter.fire();
  }
}

class FakeSource implements InstanceSource {
  private readonly emitter = new Emitter<{ all: DiscoveredProcess[] }>();
  constructor(public all: DiscoveredProcess[] = []) {}
  onChange(listener: (change: { all: DiscoveredProcess[] }) => void) {
    return this.emitter.event(listener);
  }
  start(): void {}
  dispose(): void {}
  async scanNow(): Promise<unknown> {
    this.emitter.fire({ all: this.all });
    return undefined;
  }
  set(all: DiscoveredProcess[]): void {
    this.all = all;
    this.emitter.fire({ all });
  }
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((r) => server.close(r));
  return port;
}

async function poll<T>(fn: () => T | undefined, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 25));
  }
}

const monitors: Monitor[] = [];
after(async () => {
  for (const m of monitors) await m.dispose();
});

function info(over: Partial<ManagedServerInfo>): ManagedServerInfo {
  return { id: 'srv-1', folder: '/work/api', state: 'starting', restarts: 0, passwordProtected: false, ...over };
}

describe('managed servers in the monitor', () => {
  test('one row across start, run, crash and restart; its process folds in; its place is kept', async () => {
    let now = 1_000;
    const managed = new FakeManaged([]);
    const source = new FakeSource([{ id: 'pid:77', process: { pid: 77, ppid: 1, kind: 'tui', ports: [], cwd: '/work/web' } }]);
    const monitor = new Monitor({ logger: nullLogger, source, managed, coalesceMs: 0, now: () => now }).start();
    monitors.push(monitor);
    await source.scanNow();
    now = 2_000;
    managed.set([info({ pid: 500 })]);
    let snap = monitor.snapshot();
    assert.deepEqual(snap.instances.map((i) => i.id), ['pid:77', 'managed:srv-1']);
    let row = snap.instances[1]!;
    assert.equal(row.kind, 'serve');
    assert.equal(row.pid, 500);
    assert.equal(row.cwd, '/work/api');
    assert.equal(row.connection, 'connecting');
    assert.equal(row.managed?.state, 'starting');

    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    // Discovery sees the managed process too: it must not become a second row.
    source.set([...source.all, { id: 'pid:500', process: { pid: 500, ppid: process.pid, kind: 'serve', ports: [port], cwd: '/work/api' }, url }]);
    managed.set([info({ pid: 500, state: 'waitingReady', port, url })]);
    snap = monitor.snapshot();
    assert.deepEqual(snap.instances.map((i) => i.id), ['pid:77', 'managed:srv-1']);
    assert.equal(snap.instances[1]!.managed?.state, 'waitingReady');

    managed.set([info({ pid: 500, state: 'running', port, url, runningSince: 3_000 })]);
    row = monitor.snapshot().instances[1]!;
    assert.equal(row.url, url);
    assert.equal(row.port, port);
    assert.equal(row.managed?.runningSince, 3_000);

    now = 9_000;
    source.set([source.all[0]!]);
    managed.set([info({ state: 'crashed', restarts: 0, lastError: 'killed by SIGKILL' })]);
    row = monitor.snapshot().instances[1]!;
    assert.equal(row.connection, 'down');
    assert.equal(row.error, 'killed by SIGKILL');
    assert.equal(row.pid, undefined);

    const port2 = await closedPort();
    managed.set([info({ pid: 501, state: 'running', port: port2, url: `http://127.0.0.1:${port2}`, restarts: 1, runningSince: 9_500 })]);
    snap = monitor.snapshot();
    assert.deepEqual(snap.instances.map((i) => i.id), ['pid:77', 'managed:srv-1'], 'a restart on another port keeps the row and its place');
    assert.equal(snap.instances[1]!.firstSeen, 2_000);
    assert.equal(snap.instances[1]!.managed?.restarts, 1);

    // Stopped: gone at once, and its process (still in the last discovery result) is no stray row.
    source.set([...source.all, { id: 'pid:501', process: { pid: 501, ppid: process.pid, kind: 'serve', ports: [port2], cwd: '/work/api' }, url: `http://127.0.0.1:${port2}` }]);
    managed.set([]);
    assert.deepEqual(monitor.snapshot().instances.map((i) => i.id), ['pid:77']);
  });

  test('a wrapper spawned by the manager: the real opencode under it folds into the managed row', async () => {
    const managed = new FakeManaged([]);
    const source = new FakeSource([]);
    const monitor = new Monitor({ logger: nullLogger, source, managed, coalesceMs: 0 }).start();
    monitors.push(monitor);
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}`;
    managed.set([info({ pid: 900, state: 'running', port, url, runningSince: 1 })]);
    source.set([{ id: 'pid:901', process: { pid: 901, ppid: 900, kind: 'serve', ports: [port], cwd: '/work/api' }, url }]);
    const rows = monitor.snapshot().instances;
    assert.deepEqual(rows.map((i) => i.id), ['managed:srv-1']);
    assert.equal(rows[0]!.pid, 901, 'the process that serves');
  });
});

describe('containers in the monitor', () => {
  test('a container is an instance named after it; one also configured as an endpoint stays one row', async () => {
    const monitor = new Monitor({ logger: nullLogger, coalesceMs: 0 }).start();
    monitors.push(monitor);
    const [p1, p2] = [await closedPort(), await closedPort()];
    monitor.setEndpoints([{ url: `http://127.0.0.1:${p2}/` }]);
    monitor.setContainers([
      { id: 'aaaaaaaaaaaa', name: 'opencode-dev', image: 'acme/opencode:1', url: `http://127.0.0.1:${p1}`, hostPort: p1, containerPort: 4096 },
      { id: 'bbbbbbbbbbbb', name: 'opencode-ci', image: 'acme/opencode:2', url: `http://127.0.0.1:${p2}`, hostPort: p2, containerPort: 4096 },
    ]);
    const snap = monitor.snapshot();
    assert.equal(snap.instances.length, 2);
    const dev = snap.instances.find((i) => i.id === 'container:aaaaaaaaaaaa');
    assert.equal(dev?.kind, 'container');
    assert.equal(dev?.label, 'opencode-dev');
    assert.equal(dev?.container?.image, 'acme/opencode:1');
    // Also an endpoint (a password was set for it): still the container's row, with the endpoint's password.
    const ci = snap.instances.find((i) => i.id === 'container:bbbbbbbbbbbb');
    assert.equal(ci?.kind, 'container');
    assert.equal(ci?.label, 'opencode-ci');
    // Nothing listens: down with the reason, and still retried (the stream backs off, never gives up).
    const down = await poll(() => monitor.snapshot().instances.find((i) => i.id === 'container:aaaaaaaaaaaa' && i.connection === 'down'));
    assert.match(down.error ?? '', /unreachable|not answering/);
    monitor.setContainers([]);
    assert.deepEqual(monitor.snapshot().instances.map((i) => i.id), [`url:http://127.0.0.1:${p2}`], 'the endpoint alone remains');
  });
});

describe('settle', () => {
  test('a one-shot snapshot waits for the first container listing', async () => {
    const port = await closedPort();
    const emitter = new Emitter<ContainerTarget[]>();
    const list: ContainerTarget[] = [{ id: 'cccccccccccc', name: 'slow', image: 'acme/opencode', url: `http://127.0.0.1:${port}`, hostPort: port, containerPort: 4096 }];
    const containers: ContainerSource = {
      onChange: (listener) => emitter.event(listener),
      start: () => undefined,
      dispose: () => emitter.dispose(),
      // Like `docker ps`: answers after a while, and tells listeners before resolving.
      scanNow: () => new Promise((resolve) => setTimeout(() => (emitter.fire(list), resolve(list)), 200)),
    };
    const monitor = new Monitor({ logger: nullLogger, containers, coalesceMs: 0 }).start();
    monitors.push(monitor);
    await monitor.settle(3_000);
    assert.deepEqual(monitor.snapshot().instances.map((i) => i.id), ['container:cccccccccccc']);
  });
});

