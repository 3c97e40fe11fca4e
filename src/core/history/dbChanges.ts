/**
 * Tells a history view that OpenCode committed something to its DB since the last look. Cheap
 * enough to ask every few seconds on the main thread: a `stat` of the DB and its WAL, and, when
 * node:sqlite is there and OpenCode has the DB open, `PRAGMA data_version` on one idle read-only
 * connection (core/db/opencodeDb: it changes whenever another connection commits).
 */
import * as path from 'node:path';
import { DB_FILE_NAME, OpencodeDb } from '../db/opencodeDb';
import { loadNodeSqlite } from '../db/sqlite';
import type { SqliteModule } from '../db/sqlite';
import { fileSignature } from '../util/fileSignature';

export class DbChanges {
  private readonly db: OpencodeDb | undefined;
  private signature: string | undefined;

  constructor(
    private readonly file: string,
    sqlite: SqliteModule | undefined = loadNodeSqlite().sqlite,
  ) {
    // OpencodeDb reads `<dataDir>/opencode.db`: only for a DB of that name (else signatures only).
    this.db = sqlite && path.basename(file) === DB_FILE_NAME ? new OpencodeDb(path.dirname(file), sqlite) : undefined;
  }

  /** True when the DB changed since the previous call (the first call only takes a baseline). */
  poll(): boolean {
    const signature = `${fileSignature(this.file)}|${fileSignature(`${this.file}-wal`)}`;
    const first = this.signature === undefined;
    const state = this.db?.poll();
    const moved = signature !== this.signature;
    this.signature = signature;
    return !first && (moved || state === 'changed');
  }

  close(): void {
    this.db?.close();
  }
}
