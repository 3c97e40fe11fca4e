/**
 * Worker-thread entry (bundled as dist/historyWorker.js): runs history queries off the caller's
 * main thread. One connection per request (opening costs ~1 ms and sees the newest commit).
 */
import { parentPort } from 'node:worker_threads';
import { HistoryDb } from './historyDb';
import type { WorkerRequest, WorkerResponse } from './protocol';
import { HistoryError } from './types';

export function answer(request: WorkerRequest): WorkerResponse {
  const t0 = performance.now();
  let db: HistoryDb | undefined;
  try {
    db = HistoryDb.open(request.file);
    const result = run(db, request);
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
    default:
      throw new HistoryError('error', `unknown request ${String((request as { op: unknown }).op)}`);
  }
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (request: WorkerRequest) => port.postMessage(answer(request)));
}
