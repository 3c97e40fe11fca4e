/**
 * Runs history queries in a worker thread (historyWorker.js beside this file, or `workerFile`), so
 * neither the extension host nor the CLI blocks on a large DB. Requests carry an id; a request that
 * does not answer within `timeoutMs` terminates the worker (SQLite cannot be interrupted from the
 * outside) and rejects with a `timeout` HistoryError; the next request starts a fresh worker.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { HistoryOp, HistoryRequests, WorkerRequest, WorkerResponse } from './protocol';
import { HistoryError } from './types';

export interface HistoryClientOptions {
  /** The opencode.db to read. */
  file: string;
  /** Default: historyWorker.js next to this module (dist/ in the bundles, out/ in tests). */
  workerFile?: string;
  timeoutMs?: number;
}

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class HistoryClient {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(private readonly options: HistoryClientOptions) {}

  request<K extends HistoryOp>(op: K, args: HistoryRequests[K]['args']): Promise<HistoryRequests[K]['result']> {
    if (this.closed) return Promise.reject(new HistoryError('error', 'history client closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const message: WorkerRequest<K> = { id, file: this.options.file, op, args };
    return new Promise((resolve, reject) => {
      const timeoutMs = this.options.timeoutMs ?? 30_000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HistoryError('timeout', `history query "${op}" took more than ${Math.round(timeoutMs / 1000)} s; stopped`));
        this.stopWorker(new HistoryError('timeout', 'history worker stopped after a timeout'));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      worker.postMessage(message);
    });
  }

  /** Rejects what is pending and terminates the worker. */
  async close(): Promise<void> {
    this.closed = true;
    await this.stopWorker(new HistoryError('error', 'history client closed'));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const file = this.options.workerFile ?? path.join(__dirname, 'historyWorker.js');
    const worker = new Worker(file);
    worker.unref(); // never keeps a CLI alive on its own; pending requests hold their timers
    worker.on('message', (response: WorkerResponse) => {
      const p = this.pending.get(response.id);
      if (!p) return;
      this.pending.delete(response.id);
      clearTimeout(p.timer);
      if (response.ok) p.resolve(response.result);
      else p.reject(new HistoryError(response.kind, response.message));
    });
    worker.on('error', (error) => void this.stopWorker(new HistoryError('error', `history worker failed: ${error.message.split('\n')[0]}`)));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new HistoryError('error', 'history worker exited'));
    });
    this.worker = worker;
    return worker;
  }

  private async stopWorker(reason: HistoryError): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.failAll(reason);
    if (worker) await worker.terminate();
  }

  private failAll(reason: HistoryError): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      clearTimeout(p.timer);
      p.reject(reason);
    }
  }
}
