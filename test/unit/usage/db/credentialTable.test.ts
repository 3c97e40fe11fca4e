/**
 * OpenCode 2.x's `credential` table read through the real node:sqlite (Node ≥ 22.13; the test
 * runner uses Node 24 for files under db/). Skipped where node:sqlite is missing.
 */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNodeSqlite } from '../../../../src/core/db/sqlite';
import type { SqliteDatabase } from '../../../../src/core/db/sqlite';
import { CredentialStore } from '../../../../src/core/usage/credentials';
import { secretToken, tempDir } from '../support';

const loaded = loadNodeSqlite();
const NOW = Date.UTC(2026, 8, 1, 12);
const HOUR = 3600_000;
const dirs: string[] = [];

after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

// Columns of the 1.18.33 migrations (usage-apis.md §2b).
const SCHEMA = `CREATE TABLE credential (
  id TEXT PRIMARY KEY, integration_id TEXT NOT NULL, label TEXT, value TEXT NOT NULL,
  connector_id TEXT, method_id TEXT, active INTEGER, time_created INTEGER NOT NULL, time_updated INTEGER NOT NULL)`;

function createDb(file: string, rows: Array<{ id: string; integration: string; value: unknown; active: number | null; updated: number }>): SqliteDatabase {
  const db = new loaded.sqlite!.DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(SCHEMA);
  const insert = db.prepare('INSERT INTO credential (id, integration_id, value, active, time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?)') as unknown as {
    run(...p: unknown[]): void;
  };
  for (const r of rows) insert.run(r.id, r.integration, JSON.stringify(r.value), r.active, r.updated, r.updated);
  return db;
}

describe('OpenCode 2.x credential table', { skip: loaded.sqlite ? false : `node:sqlite unavailable: ${loaded.reason}` }, () => {
  it('reads the active anthropic OAuth row while OpenCode has the DB open', async () => {
    const home = tempDir('ocm-creddb-');
    dirs.push(home);
    const file = path.join(home, '.local/share/opencode/opencode.db');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const active = secretToken();
    const db = createDb(file, [
      { id: 'cred_1', integration: 'anthropic', value: { type: 'oauth', refresh: 'r', access: secretToken(), expires: NOW + HOUR }, active: null, updated: 3 },
      { id: 'cred_2', integration: 'anthropic', value: { type: 'oauth', refresh: 'r', access: active, expires: NOW + HOUR }, active: 1, updated: 1 },
      { id: 'cred_3', integration: 'openai', value: { type: 'oauth', refresh: 'r', access: 'x', expires: NOW + HOUR }, active: 1, updated: 9 },
      { id: 'cred_4', integration: 'anthropic', value: { type: 'key', key: 'sk-ant-api03-x' }, active: null, updated: 9 },
    ]);
    try {
      const lookup = await new CredentialStore({ env: { HOME: home }, platform: 'linux', now: () => NOW }).resolve();
      assert.ok(lookup.ok, JSON.stringify(lookup));
      assert.equal(lookup.credential.source, 'opencode-db');
      assert.equal(lookup.credential.bearer(), active);
      assert.equal(lookup.credential.expiresAt, NOW + HOUR);

      // OPENCODE_DB points elsewhere.
      const other = path.join(home, 'custom.db');
      const second = secretToken();
      const db2 = createDb(other, [{ id: 'c', integration: 'anthropic', value: { type: 'oauth', refresh: 'r', access: second, expires: NOW + HOUR }, active: 1, updated: 1 }]);
      const viaEnv = await new CredentialStore({ env: { HOME: home, OPENCODE_DB: other }, platform: 'linux', now: () => NOW }).resolve();
      db2.close();
      assert.ok(viaEnv.ok);
      assert.equal(viaEnv.credential.bearer(), second);
    } finally {
      db.close();
    }
  });

  it('leaves a DB nobody has open alone (opening it would create -wal/-shm)', async () => {
    const home = tempDir('ocm-creddb-');
    dirs.push(home);
    const file = path.join(home, '.local/share/opencode/opencode.db');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    createDb(file, [{ id: 'c', integration: 'anthropic', value: { type: 'oauth', refresh: 'r', access: secretToken(), expires: NOW + HOUR }, active: 1, updated: 1 }]).close();
    const before = fs.readdirSync(path.dirname(file)).sort();
    assert.ok(!before.includes('opencode.db-wal'), 'closed cleanly');
    const lookup = await new CredentialStore({ env: { HOME: home }, platform: 'linux', now: () => NOW }).resolve();
    assert.equal(lookup.ok, false);
    assert.deepEqual(fs.readdirSync(path.dirname(file)).sort(), before, 'no file created');
  });
});
