/**
 * Real child processes (test/fixtures/legacy/writerChild.ts) contending for the writer lock with
 * the production timings (heartbeat 1 s, stale 3 s): who writes, and how fast another takes over.
 */
import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import type { Child, ChildEvent } from './support';
import { defer, sleep, startChild, tempDir } from './support';

interface Paths {
  lockPath: string;
  statePath: string;
  usagePath: string;
}

function paths(t: TestContext): Paths {
  const dir = tempDir(t);
  return { lockPath: path.join(dir, 'writer.lock'), statePath: path.join(dir, 'opencode-state.json'), usagePath: path.join(dir, 'opencode-usage.json') };
}

function spawnWriters(t: TestContext, p: Paths, labels: string[], startAt = Date.now() + 700): Child[] {
  return labels.map((label) => startChild(t, 'writerChild.js', [JSON.stringify({ ...p, label, startAt })]));
}

const writers = (children: Child[], after = 0) =>
  new Set(children.flatMap((c) => c.events.filter((e) => e.ev === 'write' && e.t > after).map((e) => e.label)));
const holders = (children: Child[]) => children.filter((c) => c.events.some((e) => e.ev === 'holder' && e.holder === true));
const titleInFile = (p: Paths): string | undefined => {
  try {
    const state = JSON.parse(fs.readFileSync(p.statePath, 'utf8')) as { instances: Array<{ agents: Array<{ title: string }> }> };
    return state.instances[0]?.agents[0]?.title;
  } catch {
    return undefined;
  }
};
const isHolderEvent = (e: ChildEvent) => e.ev === 'holder' && e.holder === true;

async function electOne(children: Child[]): Promise<{ holder: Child; others: Child[] }> {
  await Promise.all(children.map((c) => c.waitFor((e) => e.ev === 'ready', 10_000, 'ready')));
  await sleep(1500);
  const elected = holders(children);
  assert.equal(elected.length, 1, `holders: ${elected.map((c) => c.pid).join(', ')}`);
  const holder = elected[0];
  assert.ok(holder);
  return { holder, others: children.filter((c) => c !== holder) };
}

async function deadPid(): Promise<number> {
  const proc = execFile(process.execPath, ['-e', '']);
  await new Promise((resolve) => proc.once('exit', resolve));
  assert.ok(proc.pid);
  return proc.pid;
}

describe('writer election between processes', { concurrency: true }, () => {
  test('two processes: exactly one writes; SIGKILL it and the other takes over within 5 s', async (t) => {
    const p = paths(t);
    const children = spawnWriters(t, p, ['A', 'B']);
    const { holder, others } = await electOne(children);
    const other = others[0];
    assert.ok(other);
    assert.deepEqual([...writers(children)], [holder.events[0]?.label]);
    assert.equal(titleInFile(p), holder.events[0]?.label);
    assert.ok(!other.events.some(isHolderEvent));

    const killedAt = Date.now();
    process.kill(holder.pid, 'SIGKILL');
    const took = await other.waitFor(isHolderEvent, 6000, 'takeover');
    const firstWrite = await other.waitFor((e) => e.ev === 'write' && e.t >= took.t, 2000, 'first write');
    console.log(`takeover after SIGKILL: ${took.t - killedAt} ms (holder event), first write by the new holder after ${firstWrite.t - killedAt} ms`);
    assert.ok(took.t - killedAt < 5000, `took ${took.t - killedAt} ms`);
    assert.equal(titleInFile(p), other.events[0]?.label);
    await sleep(300);
    assert.deepEqual([...writers(children, took.t)], [other.events[0]?.label]);
  });

  test('clean shutdown (dispose on SIGTERM): the other takes over at once', async (t) => {
    const p = paths(t);
    const children = spawnWriters(t, p, ['C', 'D']);
    const { holder, others } = await electOne(children);
    const other = others[0];
    assert.ok(other);
    const stoppedAt = Date.now();
    process.kill(holder.pid, 'SIGTERM');
    const exit = await holder.waitFor((e) => e.ev === 'exit', 3000, 'exit');
    const took = await other.waitFor(isHolderEvent, 3000, 'takeover');
    console.log(`takeover after clean release: ${took.t - exit.t} ms after the release (${took.t - stoppedAt} ms after SIGTERM)`);
    assert.ok(took.t - exit.t < 500, `took ${took.t - exit.t} ms, polling would be up to 1000 ms`);
    await other.waitFor((e) => e.ev === 'write' && e.t >= took.t, 2000, 'first write');
    assert.equal(titleInFile(p), other.events[0]?.label);
  });

  test('a hung holder (SIGSTOP) is replaced within 5 s and, once resumed, steps down without writing', async (t) => {
    const p = paths(t);
    const children = spawnWriters(t, p, ['E', 'F']);
    const { holder, others } = await electOne(children);
    const other = others[0];
    assert.ok(other);
    const stoppedAt = Date.now();
    process.kill(holder.pid, 'SIGSTOP');
    defer(t, () => {
      try {
        process.kill(holder.pid, 'SIGCONT');
      } catch {
        // gone
      }
    });
    const took = await other.waitFor(isHolderEvent, 6000, 'takeover');
    console.log(`takeover from a hung (SIGSTOP) holder: ${took.t - stoppedAt} ms`);
    assert.ok(took.t - stoppedAt < 5000, `took ${took.t - stoppedAt} ms`);

    process.kill(holder.pid, 'SIGCONT');
    const stepped = await holder.waitFor((e) => e.ev === 'holder' && e.holder === false, 3000, 'step down');
    console.log(`resumed holder stepped down ${stepped.t - took.t} ms after the takeover`);
    await sleep(1500);
    assert.deepEqual([...writers(children, took.t)], [other.events[0]?.label], 'only the new holder writes after the takeover');
    assert.ok(!holder.events.some((e) => e.ev === 'holder' && e.holder === true && e.t > took.t), 'the old holder did not grab it back');
    assert.equal(titleInFile(p), other.events[0]?.label);
  });

  test('four processes starting at the same instant, on a free and on a stale lock: exactly one holder each time', async (t) => {
    const rounds: Array<'free' | 'stale'> = ['free', 'stale', 'stale'];
    for (const [round, kind] of rounds.entries()) {
      const p = paths(t);
      if (kind === 'stale') {
        const pid = await deadPid();
        fs.writeFileSync(p.lockPath, JSON.stringify({ pid, hostname: os.hostname(), owner: 'dead', heartbeat: Date.now(), token: 'dead', acquiredAt: 0 }));
      }
      const children = spawnWriters(t, p, ['G', 'H', 'I', 'J'].map((l) => `${l}${round}`), Date.now() + 1200);
      const { holder } = await electOne(children);
      assert.deepEqual([...writers(children)], [holder.events[0]?.label], `round ${round} (${kind})`);
      for (const c of children) process.kill(c.pid, 'SIGKILL');
      await Promise.all(children.map((c) => c.waitExit(5000)));
    }
  });
});
