/**
 * `npm run bench:history`: cold query time of every history view on a generated realistic DB
 * (bench/historyDb.ts: 2 000 sessions, 50 000 messages, 500 000 parts, 90 days). Target: every
 * view ≤ 300 ms cold. "Cold" = a fresh connection per sample (schema check included in `open`);
 * the OS page cache is warm after the first sample (dropping it needs root). Needs Node ≥ 22.13:
 * run with Node 24 (`.cache/e2e/.../node`), as the extension host does.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNodeSqlite } from '../src/core/db/sqlite';
import { auditHistory } from '../src/core/audit/historyAudit';
import { HistoryDb } from '../src/core/history/historyDb';
import { windowFromSince } from '../src/core/history/since';
import { BENCH_SIZE, generateHistoryDb } from './historyDb';
import { fmt, summarize } from './stats';

const REPS = 5;
const TARGET_MS = 300;

export function runHistoryBench(): Record<string, unknown> {
  const loaded = loadNodeSqlite();
  if (!loaded.sqlite) throw new Error(`history bench: ${loaded.reason}`);
  const file = process.env.OCM_HISTORY_DB ?? path.join(os.tmpdir(), 'ocm-history-bench', 'opencode.db');
  if (!fs.existsSync(file)) {
    const t0 = performance.now();
    generateHistoryDb(loaded.sqlite, file);
    console.log(`generated ${file} (${(fs.statSync(file).size / 1e6).toFixed(0)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  const probe = HistoryDb.open(file, { sqlite: loaded.sqlite });
  const anyRoot = probe.sessions({ window: windowFromSince('all'), limit: 200 }).items.sort((a, b) => b.children - a.children)[0]!;
  probe.close();
  const views: [string, (db: HistoryDb) => unknown][] = [];
  for (const since of ['24h', '7d', '30d', 'all']) {
    const w = windowFromSince(since);
    views.push(
      [`totals ${since}`, (db) => db.totals(w)],
      [`byDay ${since}`, (db) => db.byDay(w)],
      [`byModel ${since}`, (db) => db.byModel(w)],
      [`byAgent ${since}`, (db) => db.byAgent(w)],
      [`byProject ${since}`, (db) => db.byProject(w)],
      [`tools ${since}`, (db) => db.tools(w)],
      [`sessions ${since}`, (db) => db.sessions({ window: w, limit: 50 })],
    );
  }
  views.push([`sessions search all`, (db) => db.sessions({ window: windowFromSince('all'), search: 'error', limit: 50 })]);
  views.push([`trace (${anyRoot.children} children)`, (db) => db.trace(anyRoot.id)]);
  views.push([`overview 30d (all 6 views)`, (db) => db.overview(windowFromSince('30d'))]);
  // The Security tab / `audit`: every command, file operation and fetch of the window scored.
  for (const since of ['24h', '7d', '30d']) views.push([`audit ${since}`, (db) => auditHistory(db, windowFromSince(since), { home: '/home/dev' })]);
  const results: Record<string, unknown> = { db: file, size: BENCH_SIZE, bytes: fs.statSync(file).size, node: process.version, targetMs: TARGET_MS, views: {} };
  console.log(`\nhistory views, cold (fresh connection each), ${REPS} samples, target ≤ ${TARGET_MS} ms`);
  for (const [name, run] of views) {
    const samples: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const t0 = performance.now();
      const db = HistoryDb.open(file, { sqlite: loaded.sqlite });
      run(db);
      db.close();
      samples.push(performance.now() - t0);
    }
    const s = summarize(samples);
    (results.views as Record<string, unknown>)[name] = s;
    const verdict = name.startsWith('overview') || name.startsWith('audit') ? '' : s.median <= TARGET_MS ? ' ✓' : ' ✗ over target';
    console.log(`  ${name.padEnd(34)} ${fmt(s.median)} median (min ${fmt(s.min)}, max ${fmt(s.max)})${verdict}`);
  }
  return results;
}

if (require.main === module) {
  const results = runHistoryBench();
  fs.writeFileSync(path.resolve(__dirname, '../../bench/history-results.json'), `${JSON.stringify(results, null, 2)}\n`);
}
