/**
 * DbChanges (the Insights panel's refresh trigger): a commit by another connection is seen once,
 * an idle DB is not "changed", a missing DB is not an error. Needs node:sqlite (Node ≥ 22.13).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadNodeSqlite } from '../../../src/core/db/sqlite';
import { DbChanges } from '../../../src/core/history/dbChanges';

const sqlite = loadNodeSqlite();

test('a commit is seen once; idle and missing DBs are quiet', { skip: sqlite.sqlite ? false : `needs node:sqlite: ${sqlite.reason}` }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-dbchanges-'));
  try {
    const file = path.join(dir, 'opencode.db');
    const missing = new DbChanges(file, sqlite.sqlite);
    assert.equal(missing.poll(), false);
    assert.equal(missing.poll(), false);
    missing.close();
    const writer = new sqlite.sqlite!.DatabaseSync(file) as unknown as { exec(sql: string): void; close(): void };
    writer.exec('PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1);');
    const changes = new DbChanges(file, sqlite.sqlite);
    assert.equal(changes.poll(), false, 'the first look is a baseline');
    assert.equal(changes.poll(), false, 'nothing committed');
    writer.exec('INSERT INTO t VALUES (2)');
    assert.equal(changes.poll(), true, 'a commit by another connection');
    assert.equal(changes.poll(), false, 'seen once');
    changes.close();
    writer.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
