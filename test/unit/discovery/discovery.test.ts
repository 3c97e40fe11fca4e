import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { DarwinProcessScanner } from '../../../src/core/discovery/darwinScanner';
import { Discovery, createProcessScanner } from '../../../src/core/discovery/discovery';
import type { DiscoveryChange } from '../../../src/core/discovery/discovery';
import { LinuxProcessScanner } from '../../../src/core/discovery/linuxScanner';
import type { ProbeOptions, ProbeResult } from '../../../src/core/discovery/portProbe';
import type { OpencodeProcess, ProcessScanner } from '../../../src/core/discovery/types';
import { WindowsProcessScanner } from '../../../src/core/discovery/windowsScanner';
import { MemoryLogger } from '../../../src/core/log';
import { delay, sendJson, startServer, waitFor } from '../support/localServer';

function proc(pid: number, extra: Partial<OpencodeProcess> = {}): OpencodeProcess {
  const ports = extra.ports ?? [];
  return {
    pid,
    ppid: 1,
    args: ['opencode', ports.length ? 'serve' : ''],
    kind: ports.length ? 'serve' : 'tui',
    ports,
    listeners: ports.map((port) => ({ address: '127.0.0.1', port })),
    cwd: `/p/${pid}`,
    startTime: 1_000 + pid,
    ...extra,
  };
}

class FakeScanner implements ProcessScanner {
  processes: OpencodeProcess[] = [];
  error: Error | undefined;
  scans = 0;
  running = 0;
  maxRunning = 0;
  delayMs = 0;
  async scan(): Promise<OpencodeProcess[]> {
    this.scans++;
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.delayMs) await delay(this.delayMs);
      if (this.error) throw this.error;
      return this.processes.map((p) => ({ ...p }));
    } finally {
      this.running--;
    }
  }
}

class FakeProbe {
  calls: Array<{ url: string; password?: string }> = [];
  answers = new Map<string, ProbeResult[]>();
  fallback: ProbeResult = { ok: true, version: '1.18.33', healthy: true };
  readonly fn = async (url: string, options?: ProbeOptions): Promise<ProbeResult> => {
    this.calls.push({ url, password: options?.password });
    const queue = this.answers.get(url);
    return (queue && queue.length > 1 ? queue.shift() : queue?.[0]) ?? this.fallback;
  };
}

function setup(options: { password?: string | ((p: OpencodeProcess) => string | undefined) } = {}) {
  const scanner = new FakeScanner();
  const probe = new FakeProbe();
  const logger = new MemoryLogger();
  let t = 0;
  const clock = { now: () => t, setTimeout: () => 0, clearTimeout: () => undefined };
  const discovery = new Discovery({ scanner, probe: probe.fn, logger, clock, ...options });
  const changes: DiscoveryChange[] = [];
  discovery.onChange((c) => changes.push(c));
  return { scanner, probe, logger, discovery, changes, advance: (ms: number) => (t += ms) };
}

const ids = (list: Array<{ id: string }>): string[] => list.map((i) => i.id);

test('fires added / changed / removed only when something changed', async () => {
  const { scanner, discovery, changes } = setup();
  scanner.processes = [proc(10), proc(20)];
  const first = await discovery.scanNow();
  assert.deepEqual(ids(first.instances), ['pid:10', 'pid:20']);
  assert.deepEqual(ids(first.change?.added ?? []), ['pid:10', 'pid:20']);
  assert.equal(changes.length, 1);

  const same = await discovery.scanNow();
  assert.equal(same.change, undefined);
  assert.equal(changes.length, 1);

  scanner.processes = [proc(10, { cwd: '/elsewhere' }), proc(20)];
  await discovery.scanNow();
  assert.deepEqual(ids(changes[1]?.changed ?? []), ['pid:10']);
  assert.deepEqual([changes[1]?.added.length, changes[1]?.removed.length], [0, 0]);
  assert.deepEqual(ids(changes[1]?.all ?? []), ['pid:10', 'pid:20']);

  scanner.processes = [proc(20)];
  await discovery.scanNow();
  assert.deepEqual(ids(changes[2]?.removed ?? []), ['pid:10']);
  assert.equal(changes[2]?.removed[0]?.process.cwd, '/elsewhere');
  assert.deepEqual(ids(discovery.instances), ['pid:20']);

  // The pid now belongs to another process: gone and new in one event.
  scanner.processes = [proc(20, { startTime: 99_999 })];
  await discovery.scanNow();
  assert.deepEqual([ids(changes[3]?.removed ?? []), ids(changes[3]?.added ?? [])], [['pid:20'], ['pid:20']]);
  assert.equal(changes[3]?.added[0]?.process.startTime, 99_999);
});

test('a port counts once the probe confirms it; confirmed pairs are not probed again', async () => {
  const { scanner, probe, discovery } = setup();
  scanner.processes = [proc(10, { ports: [4096, 19876] }), proc(20)];
  probe.answers.set('http://127.0.0.1:19876', [{ ok: false, reason: 'not_opencode', detail: 'HTTP 404' }]);
  const result = await discovery.scanNow();
  const server = result.instances[0];
  assert.equal(server?.url, 'http://127.0.0.1:4096');
  assert.equal(server?.version, '1.18.33');
  assert.equal(server?.authRequired, undefined);
  assert.equal(result.instances[1]?.url, undefined);
  assert.deepEqual(probe.calls.map((c) => c.url).sort(), ['http://127.0.0.1:19876', 'http://127.0.0.1:4096']);
  await discovery.scanNow();
  await discovery.scanNow();
  assert.equal(probe.calls.length, 2);
});

test('no answer is retried on the next scans, then backs off; the URL appears as a change', async () => {
  const { scanner, probe, discovery, changes, advance } = setup();
  const url = 'http://127.0.0.1:4096';
  const silent: ProbeResult = { ok: false, reason: 'no_answer', detail: 'no answer within 1000 ms' };
  probe.answers.set(url, [...Array<ProbeResult>(12).fill(silent), { ok: true, version: '1.18.33', healthy: true }]);
  scanner.processes = [proc(10, { ports: [4096] })];
  const probesAt = async (): Promise<number> => {
    await discovery.scanNow();
    advance(1_000);
    return probe.calls.length;
  };
  // Each probe tries 3 times at once; three scans retry for free (OpenCode ignores its first
  // ~0.5 s), then 2 s, 4 s, …
  assert.deepEqual([await probesAt(), await probesAt(), await probesAt(), await probesAt(), await probesAt()], [3, 6, 9, 12, 12]);
  assert.equal(discovery.instances[0]?.url, undefined);
  await probesAt();
  assert.equal(probe.calls.length, 13);
  assert.equal(discovery.instances[0]?.url, url);
  assert.deepEqual(ids(changes.at(-1)?.changed ?? []), ['pid:10']);
});

test('not OpenCode is asked again only after a growing pause', async () => {
  const { scanner, probe, discovery, advance } = setup();
  probe.fallback = { ok: false, reason: 'not_opencode', detail: 'HTTP 404' };
  scanner.processes = [proc(10, { ports: [19876] })];
  await discovery.scanNow();
  advance(4_999);
  await discovery.scanNow();
  assert.equal(probe.calls.length, 1);
  advance(1);
  await discovery.scanNow();
  assert.equal(probe.calls.length, 2);
  advance(9_999);
  await discovery.scanNow();
  assert.equal(probe.calls.length, 2);
  advance(1);
  await discovery.scanNow();
  assert.equal(probe.calls.length, 3);
});

test('a password-protected server is an instance with authRequired; a new password re-probes it', async () => {
  let password: string | undefined;
  const { scanner, probe, discovery } = setup({ password: () => password });
  probe.answers.set('http://127.0.0.1:4897', [
    { ok: false, reason: 'auth_required', detail: 'password required (401)' },
    { ok: true, version: '1.18.33', healthy: true },
  ]);
  scanner.processes = [proc(10, { ports: [4897] })];
  let [instance] = (await discovery.scanNow()).instances;
  assert.deepEqual([instance?.url, instance?.authRequired, instance?.version], ['http://127.0.0.1:4897', true, undefined]);
  await discovery.scanNow();
  assert.equal(probe.calls.length, 1);
  password = 'labpw';
  [instance] = (await discovery.scanNow()).instances;
  assert.deepEqual(probe.calls.at(-1), { url: 'http://127.0.0.1:4897', password: 'labpw' });
  assert.deepEqual([instance?.url, instance?.authRequired, instance?.version], ['http://127.0.0.1:4897', undefined, '1.18.33']);
});

test('IPv6-only listeners are probed on [::1]', async () => {
  const { scanner, probe, discovery } = setup();
  scanner.processes = [proc(10, { ports: [5000], listeners: [{ address: '::1', port: 5000 }] })];
  assert.equal((await discovery.scanNow()).instances[0]?.url, 'http://[::1]:5000');
  assert.equal(probe.calls[0]?.url, 'http://[::1]:5000');
});

test('scan errors: reported in the result, logged once, last instances kept, recovery logged', async () => {
  const { scanner, discovery, logger, changes } = setup();
  scanner.processes = [proc(10)];
  await discovery.scanNow();
  scanner.error = new Error('ps exited with 1');
  const failed = await discovery.scanNow();
  await discovery.scanNow();
  assert.equal(failed.error, 'ps exited with 1');
  assert.deepEqual(ids(failed.instances), ['pid:10']);
  assert.equal(logger.records.filter((r) => r.level === 'warn').length, 1);
  assert.equal(changes.length, 1);
  scanner.error = undefined;
  scanner.processes = [];
  const ok = await discovery.scanNow();
  assert.equal(ok.error, undefined);
  assert.deepEqual(ids(ok.change?.removed ?? []), ['pid:10']);
  assert.match(logger.text(), /works again/);
});

test('a throwing listener is logged and does not stop the others; unsubscribe works', async () => {
  const { scanner, discovery, logger, changes } = setup();
  const sub = discovery.onChange(() => {
    throw new Error('boom');
  });
  scanner.processes = [proc(10)];
  await discovery.scanNow();
  assert.equal(changes.length, 1);
  assert.match(logger.text(), /listener failed: boom/);
  sub.dispose();
  scanner.processes = [];
  await discovery.scanNow();
  assert.equal(changes.length, 2);
  assert.equal(logger.records.filter((r) => r.level === 'error').length, 1);
});

test('scanNow during a scan waits for one more scan, shared by all callers', async () => {
  const { scanner, discovery } = setup();
  scanner.delayMs = 30;
  const first = discovery.scanNow();
  const a = discovery.scanNow();
  const b = discovery.scanNow();
  await Promise.all([first, a, b]);
  assert.equal(scanner.scans, 2);
  assert.equal(scanner.maxRunning, 1);
});

test('a port that never answers delays neither the loop nor a removal; the URL arrives as its own change', async (t) => {
  const scanner = new FakeScanner();
  scanner.processes = [proc(10, { ports: [4096] }), proc(20)];
  let release: ((r: ProbeResult) => void) | undefined;
  let probes = 0;
  const probe = (_url: string, options?: ProbeOptions): Promise<ProbeResult> => {
    probes++;
    return new Promise((resolve) => {
      release = resolve;
      options?.signal?.addEventListener('abort', () => resolve({ ok: false, reason: 'no_answer', detail: 'aborted' }));
    });
  };
  const discovery = new Discovery({ scanner, probe, intervalMs: 20 });
  t.after(() => discovery.dispose());
  const changes: DiscoveryChange[] = [];
  discovery.onChange((c) => changes.push(c));
  discovery.start();
  await waitFor(() => scanner.scans >= 5, 'five scans while the probe hangs');
  // Published at once, without URL; one probe in flight, not one per scan.
  assert.deepEqual(ids(changes[0]?.added ?? []), ['pid:10', 'pid:20']);
  assert.equal(discovery.instances[0]?.url, undefined);
  assert.equal(probes, 1);
  scanner.processes = [proc(10, { ports: [4096] })];
  await waitFor(() => changes.length === 2, 'the removal');
  assert.deepEqual(ids(changes[1]?.removed ?? []), ['pid:20']);
  release?.({ ok: true, version: '1.18.33', healthy: true });
  await waitFor(() => changes.length === 3, 'the probe result');
  assert.deepEqual(ids(changes[2]?.changed ?? []), ['pid:10']);
  assert.equal(changes[2]?.changed[0]?.url, 'http://127.0.0.1:4096');
});

test('the loop: scans never overlap, an exited process leaves within two intervals, dispose leaves no timer', async () => {
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const scanner = new FakeScanner();
  scanner.delayMs = 15;
  scanner.processes = [proc(10), proc(20)];
  const probe = new FakeProbe();
  const discovery = new Discovery({ scanner, probe: probe.fn, intervalMs: 20 });
  const changes: DiscoveryChange[] = [];
  discovery.onChange((c) => changes.push(c));
  discovery.start();
  discovery.start();
  await waitFor(() => changes.length === 1, 'the first change');
  await waitFor(() => scanner.scans >= 5, 'five scans');
  assert.equal(scanner.maxRunning, 1);

  const exitedAt = Date.now();
  scanner.processes = [proc(20)];
  await waitFor(() => changes.length === 2, 'the removal');
  assert.ok(Date.now() - exitedAt <= 2 * (20 + 15) + 50, `removal took ${Date.now() - exitedAt} ms`);
  assert.deepEqual(ids(changes[1]?.removed ?? []), ['pid:10']);

  discovery.dispose();
  const scans = scanner.scans;
  await delay(100);
  assert.ok(scanner.scans <= scans + 1, 'at most the scan in flight finishes');
  assert.equal(changes.length, 2);
  const timersAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  assert.equal(timersAfter, timersBefore, 'a timer was left behind');
  // Disposed: scanNow answers from memory, start does nothing.
  await discovery.scanNow();
  discovery.start();
  assert.ok(scanner.scans <= scans + 1);
});

test('dispose aborts a probe in flight and emits nothing afterwards', async () => {
  const scanner = new FakeScanner();
  scanner.processes = [proc(10, { ports: [4096] })];
  let aborted = false;
  const probe = (_url: string, options?: ProbeOptions): Promise<ProbeResult> =>
    new Promise((resolve) => {
      options?.signal?.addEventListener('abort', () => {
        aborted = true;
        resolve({ ok: false, reason: 'no_answer', detail: 'aborted' });
      });
    });
  const discovery = new Discovery({ scanner, probe });
  let fired = 0;
  discovery.onChange(() => fired++);
  const pending = discovery.scanNow();
  await delay(10);
  // The scan itself was published; the probe is still out.
  assert.equal(fired, 1);
  discovery.dispose();
  const result = await pending;
  assert.equal(aborted, true);
  assert.equal(fired, 1);
  assert.equal(result.instances[0]?.url, undefined);
});

test('createProcessScanner picks the platform scanner', async () => {
  assert.ok(createProcessScanner('linux') instanceof LinuxProcessScanner);
  assert.ok(createProcessScanner('darwin') instanceof DarwinProcessScanner);
  assert.ok(createProcessScanner('win32') instanceof WindowsProcessScanner);
  const logger = new MemoryLogger();
  assert.deepEqual(await createProcessScanner('aix', logger).scan(), []);
  assert.match(logger.text(), /no process scanner for aix/);
});

test('a server that always takes 600 ms to answer its health check is found (real HTTP; a 200 ms probe spacing)', async (t) => {
  // A loaded OpenCode answered /global/health in 0.4–0.7 s on the lab. Attempts cut off at the
  // spacing would never see an answer; overlapping attempts take the first one that comes.
  const server = await startServer((_req, res) => {
    setTimeout(() => sendJson(res, { healthy: true, version: '1.18.33' }), 600);
  });
  t.after(() => server.close());
  const scanner = new FakeScanner();
  scanner.processes = [proc(10, { ports: [server.port] })];
  const discovery = new Discovery({ scanner, intervalMs: 50, probeTimeoutMs: 200 });
  t.after(() => discovery.dispose());
  const t0 = Date.now();
  discovery.start();
  await waitFor(() => discovery.instances[0]?.url !== undefined, 'the slow server confirmed', 5_000);
  const took = Date.now() - t0;
  assert.equal(discovery.instances[0]?.url, `http://127.0.0.1:${server.port}`);
  assert.ok(took < 1_500, `confirmed by the first probe's first attempt (${took} ms)`);
});

test('candidateUrl: the port of a first probe without a password, while it is out; never with a password or on a retry', async () => {
  // A probe that answers when told to: what is published while it is out.
  const gate: { release?: (() => void) | undefined } = {};
  const release = (): void => gate.release?.();
  const held = (result: ProbeResult) => () => new Promise<ProbeResult>((resolve) => (gate.release = () => resolve(result)));
  let answer = held({ ok: false, reason: 'not_opencode', detail: 'HTTP 404' });
  let password: string | undefined;
  const scanner = new FakeScanner();
  const discovery = new Discovery({ scanner, probe: () => answer(), logger: new MemoryLogger(), clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => undefined }, password: () => password });
  const changes: DiscoveryChange[] = [];
  discovery.onChange((c) => changes.push(c));
  scanner.processes = [proc(10, { ports: [4096] })];
  const scan = discovery.scanNow();
  await waitFor(() => changes.length === 1 && gate.release !== undefined, 'the first publish');
  assert.equal(changes[0]?.all[0]?.candidateUrl, 'http://127.0.0.1:4096', 'published with the scan, before the verdict');
  assert.equal(changes[0]?.all[0]?.url, undefined);
  release();
  const done = await scan;
  assert.equal(done.instances[0]?.candidateUrl, undefined, 'not OpenCode: no longer a candidate');

  // A new process whose port wants the password we have: no candidate.
  password = 'pw';
  delete gate.release;
  answer = held({ ok: true, version: '1.18.33', healthy: true });
  scanner.processes = [proc(20, { ports: [4097] })];
  const second = discovery.scanNow();
  await waitFor(() => gate.release !== undefined, 'the second probe');
  assert.equal(discovery.instances[0]?.candidateUrl, undefined, 'a probe with a password makes no candidate');
  release();
  const confirmed = await second;
  assert.deepEqual([confirmed.instances[0]?.url, confirmed.instances[0]?.candidateUrl], ['http://127.0.0.1:4097', undefined]);
});
