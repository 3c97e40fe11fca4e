/** DbSessionSource plugged into the real Monitor: a port-less TUI's DB sessions reach the snapshot. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DbSessionSource } from '../../../src/core/db/dbSessionSource';
import { MemoryLogger } from '../../../src/core/log';
import { Monitor } from '../../../src/core/monitor/monitor';
import { type DiscoveredProcess, type InstanceSource } from '../../../src/core/monitor/ports';
import { Emitter } from '../../../src/core/util/events';
import { DbWriter, sqliteForTests, tempDir } from './support';

const { sqlite, reason } = sqliteForTests();
const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

class FixedSource implements InstanceSource {
  private readonly emitter = new Emitter<{ all: DiscoveredProcess[] }>();
  constructor(private readonly all: DiscoveredProcess[]) {}
  onChange(listener: (change: { all: DiscoveredProcess[] }) => void) {
    return this.emitter.event(listener);
  }
  start(): void {
    setImmediate(() => this.emitter.fire({ all: this.all }));
  }
  dispose(): void {
    this.emitter.dispose();
  }
  async scanNow(): Promise<unknown> {
    this.emitter.fire({ all: this.all });
    return undefined;
  }
}

describe('DbSessionSource in the Monitor', () => {
  it('a limited TUI shows its DB sessions; a DB change reaches onDidChange and the next snapshot', async (t) => {
    if (!sqlite) return t.skip(reason);
    const root = tempDir();
    roots.push(root);
    const dataDir = path.join(root, 'data');
    const dir = '/home/dev/lab/projects/alpha';
    const w = new DbWriter(sqlite, dataDir);
    const now = Date.now();
    w.session({ id: 'ses_tui', directory: dir, created: now, title: 'TUI work' })
      .message({ id: 'msg_1', sessionId: 'ses_tui', role: 'user', created: now + 1 })
      .message({ id: 'msg_2', sessionId: 'ses_tui', role: 'assistant', created: now + 2 })
      .tool({ id: 'prt_1', messageId: 'msg_2', sessionId: 'ses_tui', tool: 'bash', status: 'running', input: { command: 'sleep 90' }, start: now + 3 });
    const logger = new MemoryLogger();
    // The test process stands in for the TUI: alive, started before these messages.
    const limited = new DbSessionSource({ logger, pollMs: 50, hasToolChild: () => true });
    const tuiPid = process.pid;
    const monitor = new Monitor({
      logger,
      source: new FixedSource([{ id: `pid:${tuiPid}`, process: { pid: tuiPid, ppid: 1, cwd: dir, kind: 'tui', ports: [], dataDir } }]),
      limitedSessions: limited,
      coalesceMs: 10,
    }).start();
    try {
      await monitor.settle(2_000);
      await new Promise((r) => setTimeout(r, 20));
      const snap = monitor.snapshot();
      const instance = snap.instances.find((i) => i.id === `pid:${tuiPid}`);
      assert.equal(instance?.connection, 'limited');
      assert.deepEqual(instance?.sessionIds, ['ses_tui']);
      const session = snap.sessions.find((s) => s.id === 'ses_tui');
      assert.equal(session?.status, 'busy');
      assert.equal(session?.source, 'db');
      assert.deepEqual(session?.runningTools.map((r) => r.arg), ['sleep 90']);

      const changed = new Promise<void>((resolve) => {
        const sub = monitor.onDidChange(() => {
          if (monitor.snapshot().sessions.find((s) => s.id === 'ses_tui')?.status === 'idle') {
            sub.dispose();
            resolve();
          }
        });
      });
      w.completeMessage('msg_2', Date.now());
      await Promise.race([changed, new Promise((_, reject) => setTimeout(() => reject(new Error('no change reached the monitor')), 3_000))]);
    } finally {
      await monitor.dispose();
      limited.dispose();
      w.close();
    }
  });
});
