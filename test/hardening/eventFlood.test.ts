/**
 * Finding 5 (issue 11): `session.status busy` events for 20 000 session ids the server never
 * lists made the next light round fetch details for each (20 107 requests) and the monitor grow
 * by hundreds of MB. Now: unknown ids create bounded state, details are fetched only for sessions
 * the server lists, with a cap per round. Requests are counted at the (hostile) server.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { MemoryLogger } from '../../src/core/log';
import { InstanceWatcher } from '../../src/core/monitor/instanceWatcher';
import { startHostileOpencode } from '../fixtures/hostileOpencode';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}

async function until(check: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('finding 5: an event flood of 20 000 unknown session ids stays a bounded number of requests and bounded memory', { timeout: 90_000 }, async (t) => {
  const server = await startHostileOpencode({ plant: false });
  t.after(() => server.close());
  const watcher = new InstanceWatcher({ url: server.url, logger: new MemoryLogger(), onChange: () => undefined, reconcileIntervalMs: 1_000 }).start();
  t.after(() => watcher.dispose());
  await watcher.ready;
  await server.streamOpen();
  await until(() => watcher.stats.fullRounds >= 1, 'the first full round');
  const listed = watcher.sessionCount();
  const heapBefore = heapMb();

  const FLOOD = 20_000;
  const eventsBefore = watcher.stats.events;
  await server.flood(FLOOD);
  await until(() => watcher.stats.events - eventsBefore >= FLOOD, 'the flood to arrive');
  const sessionsAfterFlood = watcher.sessionCount();
  const heapAfterFlood = heapMb();

  server.reset();
  const rounds = watcher.stats.lightRounds;
  await until(() => watcher.stats.lightRounds >= rounds + 2, 'two light rounds');
  const requests = server.total();
  const heapAfterRounds = heapMb();
  t.diagnostic(
    `listed ${listed}, sessions after flood ${sessionsAfterFlood}, requests in 2 light rounds ${requests} ` +
      `(${JSON.stringify(Object.fromEntries(server.counts))}), heap ${heapBefore.toFixed(1)} → ${heapAfterFlood.toFixed(1)} → ${heapAfterRounds.toFixed(1)} MB`,
  );
  assert.ok(sessionsAfterFlood <= listed + 1_000, `state grew to ${sessionsAfterFlood} sessions`);
  assert.ok(requests <= 300, `${requests} requests in two light rounds`);
  assert.ok(heapAfterRounds - heapBefore < 40, `heap grew by ${(heapAfterRounds - heapBefore).toFixed(1)} MB`);
  assert.ok(watcher.sessionCount() <= listed + 1_000);
});
