/**
 * The local API server: a Unix socket (0600, in a 0700 folder) answering JSON lines with
 * protocol.ts. Every client is bounded: request lines (MAX_REQUEST_LINE_BYTES), requests waiting
 * to be answered, and bytes written but not yet read by the client — a client that stops reading
 * is dropped, so it never stalls the daemon or grows its memory.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { Logger } from '../log';
import { describeError } from '../util/describe';
import type { ApiBackend, ApiResponse } from './protocol';
import { MAX_REQUEST_LINE_BYTES, errorResponse, handleRequestLine } from './protocol';
import { clearStaleSocket, prepareSocketFolder } from './socketPath';

export interface ApiServerOptions {
  socketPath: string;
  backend: ApiBackend;
  logger: Logger;
  /** The path is the default per-user one: its folder is made 0700. */
  ownFolder?: boolean;
  maxClients?: number;
  /** Unread response bytes per client before it is dropped. */
  maxWriteBufferBytes?: number;
  /** Requests read but not answered yet per client before it is dropped. */
  maxPendingRequests?: number;
}

export interface ApiServer {
  readonly socketPath: string;
  /** Clients connected right now. */
  clients(): number;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const { socketPath, logger, backend } = options;
  const maxClients = options.maxClients ?? 64;
  const maxWrite = options.maxWriteBufferBytes ?? 1024 * 1024;
  const maxPending = options.maxPendingRequests ?? 32;
  prepareSocketFolder(socketPath, { ownFolder: options.ownFolder });
  const cleared = await clearStaleSocket(socketPath);
  if (cleared === 'replaced') logger.info(`api: replaced a stale socket at ${socketPath}`);
  const sockets = new Set<net.Socket>();
  const server = net.createServer({ allowHalfOpen: false }, (socket) => {
    if (sockets.size >= maxClients) {
      socket.end(JSON.stringify(errorResponse(undefined, 'failed', `too many clients (${maxClients})`)) + '\n');
      socket.destroy();
      return;
    }
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveClient(socket, backend, logger, { maxWrite, maxPending });
  });
  server.maxConnections = maxClients + 4;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // umask 077 while binding: the socket is never reachable by others, not even for a moment.
    const previous = process.umask(0o077);
    try {
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(previous);
    }
  });
  fs.chmodSync(socketPath, 0o600);
  const listening = fs.lstatSync(socketPath).ino;
  server.on('error', (error) => logger.error(`api: ${describeError(error)}`));
  logger.info(`api: listening on ${socketPath}`);
  let closing: Promise<void> | undefined;
  return {
    socketPath,
    clients: () => sockets.size,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        // Remove our socket only (a newer daemon may have replaced it after we were judged stale).
        try {
          if (fs.lstatSync(socketPath).ino === listening) fs.unlinkSync(socketPath);
        } catch {
          // already gone
        }
      })),
  };
}

function serveClient(socket: net.Socket, backend: ApiBackend, logger: Logger, limits: { maxWrite: number; maxPending: number }): void {
  let buffer: Buffer = Buffer.alloc(0);
  let pending = 0;
  let queue: Promise<void> = Promise.resolve();
  let dropped = false;
  const drop = (why: string) => {
    if (dropped) return;
    dropped = true;
    logger.warn(`api: dropped a client: ${why}`);
    socket.destroy();
  };
  const send = (response: ApiResponse) => {
    if (dropped || socket.destroyed) return;
    // A client that does not read its earlier answers: never buffer for it without bound (one
    // answer may be larger than the bound by itself; the answers before it must have gone).
    if (socket.writableLength > limits.maxWrite) {
      drop(`it does not read its answers (${socket.writableLength} bytes waiting)`);
      return;
    }
    socket.write(JSON.stringify(response) + '\n');
  };
  socket.on('error', () => undefined); // a client that vanishes is not our error
  socket.on('data', (chunk: Buffer) => {
    if (dropped) return;
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      const nl = buffer.indexOf(0x0a);
      if (nl < 0) break;
      if (nl > MAX_REQUEST_LINE_BYTES) break; // handled below as too long
      const line = buffer.subarray(0, nl).toString('utf8').replace(/\r$/, '');
      buffer = buffer.subarray(nl + 1);
      if (line.trim() === '') continue;
      if (++pending > limits.maxPending) {
        drop(`more than ${limits.maxPending} requests waiting`);
        return;
      }
      queue = queue.then(async () => {
        const response = await handleRequestLine(line, backend);
        pending--;
        send(response);
      });
    }
    if (buffer.length > MAX_REQUEST_LINE_BYTES) {
      // Answer, then close: the rest of that line cannot be told apart from the next request.
      queue = queue.then(() => {
        if (dropped) return;
        socket.end(JSON.stringify(errorResponse(undefined, 'line_too_long', `request lines are at most ${MAX_REQUEST_LINE_BYTES} bytes`)) + '\n');
        dropped = true;
        setTimeout(() => socket.destroy(), 1_000).unref();
      });
      buffer = Buffer.alloc(0);
      socket.pause();
    }
  });
}
