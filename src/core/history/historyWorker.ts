/**
 * Worker-thread entry (bundled as dist/historyWorker.js): runs history queries off the caller's
 * main thread. One connection per request (opening costs ~1 ms and sees the newest commit).
 * Answers are kept while the DB and its WAL are unchanged (same size, inode and mtime): a panel
 * refreshing the same window of an idle DB does not pay for the slow views again.
 */
import { parentPort } from 'node:worker_threads';
import { auditHistory } from '../audit/historyAudit';
import { fileSignature } from '../util/fileSignature';
import { HistoryDb } from './historyDb';
import type { WorkerRequest, WorkerResponse } from './protocol';
import { HistoryError } from './types';

const CACHE_ENTRIES = 32;
const cache = new Map<string, unknown>();

export function answer(request: WorkerRequest): WorkerResponse {
  const t0 = performance.now();
  const key = `${request.op}|${JSON.stringify(request.args)}|${request.file}|${fileSignature(request.file)}|${fileSignature(`${request.file}-wal`)}`;
  if (cache.has(key)) return { id: request.id, ok: true, result: cache.get(key), ms: performance.now() - t0, cached: true };
  let db: HistoryDb | undefined;
  try {
    db = HistoryDb.open(request.file);
    const result = run(db, request);
    cache.set(key, result);
    if (cache.size > CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
    return { id: request.id, ok: true, result, ms: performance.now() - t0 };
  } catch (error) {
    if (error instanceof HistoryError) return { id: request.id, ok: false, kind: error.kind, message: error.message };
    return { id: request.id, ok: false, kind: 'error', message: String((error as Error)?.message ?? error).split('\n')[0]! };
  } finally {
    db?.close();
  }
}

function run(db: HistoryDb, request: WorkerRequest): unknown {
  switch (request.op) {
    case 'overview': {
      const args = request.args as WorkerRequest<'overview'>['args'];
      const overview = db.overview(args.window, { withTools: args.withTools, utcOffsetMinutes: args.utcOffsetMinutes });
      return overview;
    }
    case 'tools':
      return db.tools((request.args as WorkerRequest<'tools'>['args']).window);
    case 'sessions':
      return db.sessions(request.args as WorkerRequest<'sessions'>['args']);
    case 'trace':
      return db.trace((request.args as WorkerRequest<'trace'>['args']).sessionId);
    case 'audit': {
      const args = request.args as WorkerRequest<'audit'>['args'];
      return auditHistory(db, args.window, { minLevel: args.minLevel, home: args.home });
    }
    default:
      throw new HistoryError('error', `unknown request ${String((request as { op: unknown }).op)}`);
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: WorkerRequest) => port.postMessage(answer(request)));
}
