/**
 * Lazy access to `node:sqlite` (Node ≥ 22.13 without a flag). It is required at run time only,
 * so older Node versions (and bundles built for them) still load everything else.
 */
import * as fs from 'node:fs';

export type SqlValue = null | number | bigint | string | Uint8Array;

/** The part of `node:sqlite`'s StatementSync used here (@types/node 20 has no types for it). */
export interface SqliteStatement {
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  close(): void;
  readonly isOpen?: boolean;
}

export interface SqliteOpenOptions {
  readOnly?: boolean;
  /** Busy timeout in ms (Node ≥ 22.16 / 23.10; ignored before). */
  timeout?: number;
}

export interface SqliteModule {
  DatabaseSync: new (path: string, options?: SqliteOpenOptions) => SqliteDatabase;
}

export type SqliteLoad = { sqlite: SqliteModule; reason?: undefined } | { sqlite?: undefined; reason: string };

/** Loads `node:sqlite`, or says why it cannot be used on this Node. */
export function loadNodeSqlite(nodeVersion: string = process.versions.node): SqliteLoad {
  try {
    // A literal `node:` specifier: bundlers targeting node keep it external.
    const mod = require('node:sqlite') as Partial<SqliteModule>;
    if (typeof mod.DatabaseSync !== 'function') return { reason: `node:sqlite has no DatabaseSync on Node ${nodeVersion}` };
    return { sqlite: mod as SqliteModule };
  } catch (error) {
    return { reason: unavailableReason(nodeVersion, error) };
  }
}

export function unavailableReason(nodeVersion: string, error?: unknown): string {
  const [major = 0, minor = 0] = nodeVersion.split('.').map((n) => Number.parseInt(n, 10) || 0);
  if (major < 22 || (major === 22 && minor < 13)) return `node:sqlite needs Node ≥ 22.13; this is Node ${nodeVersion}`;
  const why = error instanceof Error ? error.message : String(error ?? 'unknown error');
  return `node:sqlite could not be loaded on Node ${nodeVersion} (${why})`;
}

/** SQLITE_BUSY / SQLITE_LOCKED (also their extended codes): worth another try shortly. */
export function isBusyError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { errcode?: unknown }).errcode;
  if (typeof code === 'number') return (code & 0xff) === 5 || (code & 0xff) === 6;
  return /database is locked|database table is locked|SQLITE_BUSY/i.test(String((error as { message?: unknown }).message));
}

/**
 * A WAL database that no process has open has no `-wal` file; opening it, even read-only,
 * would create `-wal`/`-shm` beside it. Readers that must not write anything skip it.
 */
export function wouldCreateWalFiles(file: string): boolean {
  return isWalDatabase(file) && !fs.existsSync(`${file}-wal`);
}

/** SQLite header bytes 18–19 are 2 in WAL mode. */
function isWalDatabase(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const header = Buffer.alloc(20);
    if (fs.readSync(fd, header, 0, 20, 0) < 20) return false;
    return header[18] === 2 && header[19] === 2;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
