/**
 * What one poll costs on a DB of realistic size. Scale with OCM_DB_BENCH_SCALE (default 1:
 * 300 sessions in 12 folders, 9,000 messages, 36,000 parts, ~100 MB; 4 gives ~400 MB).
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DbSessionSource } from '../../../src/core/db/dbSessionSource';
import { OpencodeDb } from '../../../src/core/db/opencodeDb';
import { MemoryLogger } from '../../../src/core/log';
import type { InstanceModel } from '../../../src/core/model/model';
import { DbWriter, sqliteForTests, tempDir } from './support';

const { sqlite, reason } = sqliteForTests();
const roots: string[] = [];
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function time(fn: () => void, runs: number): number {
  const out: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(out);
}

describe('poll cost on a realistic DB', () => {
  it('unchanged: a stat and one PRAGMA; changed: one folder read', async (t) => {
    if (!sqlite) return t.skip(reason);
    const scale = Number(process.env.OCM_DB_BENCH_SCALE ?? '1') || 1;
    t.diagnostic(`scale ${scale}`);
    const root = tempDir();
    roots.push(root);
    const dataDir = path.join(root, 'data');
    const w = new DbWriter(sqlite, dataDir);
    const dirs = Array.from({ length: 12 }, (_, i) => `/home/dev/projects/p${i}`);
    const target = dirs[0]!;
    const filler = (n: number) => 'x'.repeat(n);
    const t0 = 1_795_000_000_000;
    const built = Date.now();
    w.db.exec('PRAGMA synchronous = OFF');
    w.db.exec('BEGIN');
    const insertSession = w.db.prepare(
      `INSERT INTO session (id, project_id, slug, directory, title, version, summary_diffs, time_created, time_updated)
       VALUES (?, 'global', 's', ?, ?, '1.18.33', ?, ?, ?)`,
    );
    const insertMessage = w.db.prepare('INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)');
    const insertPart = w.db.prepare('INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)');
    const sessions = Math.round(300 * scale);
    let messages = 0;
    let parts = 0;
    for (let s = 0; s < sessions; s++) {
      const id = `ses_${String(s).padStart(7, '0')}`;
      const dir = dirs[s % dirs.length]!;
      const start = t0 + s * 60_000;
      // Some sessions carry big diff summaries (overflow pages).
      insertSession.all(id, dir, `Session ${s}`, s % 10 === 0 ? JSON.stringify([{ file: 'a.ts', before: filler(40_000), after: filler(40_000) }]) : null, start, start + 30_000);
      for (let m = 0; m < 30; m++) {
        const mid = `msg_${String(s).padStart(7, '0')}${String(m).padStart(3, '0')}`;
        const at = start + m * 1_000;
        const assistant = m % 2 === 1;
        const open = assistant && m === 29 && s % 97 === 0; // a few busy sessions
        const data = assistant
          ? { role: 'assistant', agent: 'build', modelID: 'm', providerID: 'p', tokens: { input: 1, output: 1, reasoning: 0, cache: { read: 0, write: 0 } }, time: open ? { created: at } : { created: at, completed: at + 900 } }
          : { role: 'user', time: { created: at }, agent: 'build', model: { providerID: 'p', modelID: 'm' } };
        insertMessage.all(mid, id, at, at + 900, JSON.stringify(data));
        messages++;
        const partCount = assistant ? 6 : 2;
        for (let p = 0; p < partCount; p++) {
          const pid = `prt_${mid}${p}`;
          const tool = assistant && p >= 2;
          const body = tool
            ? { type: 'tool', tool: 'bash', callID: `c${p}`, state: open && p === partCount - 1 ? { status: 'running', input: { command: 'sleep 90' }, time: { start: at } } : { status: 'completed', input: { command: 'ls' }, output: filler(200 + ((s * 7 + p) % 8) * 1_000), time: { start: at, end: at + 10 } } }
            : { type: 'text', text: filler(300 + (p % 3) * 500) };
          insertPart.all(pid, mid, id, at, at, JSON.stringify(body));
          parts++;
        }
      }
    }
    w.db.exec('COMMIT');
    const buildMs = Date.now() - built;
    w.db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    const size = fs.statSync(path.join(dataDir, 'opencode.db')).size;

    const reader = new OpencodeDb(dataDir, sqlite);
    assert.equal(reader.poll(), 'changed');
    const unchanged = time(() => assert.equal(reader.poll(), 'unchanged'), 200);
    const readFolder = time(() => assert.equal(reader.readDirectory(target, { maxSessions: 25 }).state, 'ok'), 50);

    // The whole source on a change: poll + read + inference + fingerprint.
    const source = new DbSessionSource({ logger: new MemoryLogger(), pollMs: 3_600_000, hasToolChild: () => true, processProbe: { isAlive: () => true, startTime: () => undefined } });
    const tui: InstanceModel = { id: 'pid:1', agent: 'opencode', kind: 'tui', pid: 1, cwd: target, dataDir, connection: 'limited', sessionIds: [], firstSeen: 0 };
    const first = source.sessionsFor(tui);
    assert.ok(first.some((x) => x.status === 'busy'));
    assert.ok(first.length >= 25 || first.length === Math.ceil(sessions / dirs.length));
    const insertTodo = w.db.prepare('INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?, ?, ?, ?, ?, 0, 0)');
    const ticks: number[] = [];
    for (let n = 0; n < 50; n++) {
      insertTodo.all('ses_0000000', 'c', 'pending', 'low', 1_000 + n); // a commit by "OpenCode"
      ticks.push(time(() => source.pollNow(), 1));
    }
    const changedTick = median(ticks);
    const unchangedTick = time(() => source.pollNow(), 200);
    source.dispose();
    reader.close();
    w.close();

    const report =
      `DB ${(size / 1e6).toFixed(0)} MB: ${sessions} sessions in ${dirs.length} folders, ${messages} messages, ${parts} parts (built in ${buildMs} ms). ` +
      `Median: unchanged poll ${unchanged.toFixed(3)} ms; folder read (25 sessions) ${readFolder.toFixed(2)} ms; ` +
      `source tick after a commit ${changedTick.toFixed(2)} ms (poll, read, inference, compare); source tick unchanged ${unchangedTick.toFixed(3)} ms.`;
    t.diagnostic(report);
    console.log(report);
    assert.ok(unchanged < 5, report);
    assert.ok(readFolder < 100, report);
  });
});
