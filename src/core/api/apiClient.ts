/** A client of the local API: one request, one answer line, bounded in time and size. */
import * as net from 'node:net';
import { errorCode } from '../os/atomicWrite';
import type { ApiResponse } from './protocol';

const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export class ApiUnavailableError extends Error {
  override readonly name = 'ApiUnavailableError';
}

/**
 * Sends `request` and resolves with the answer. Rejects with ApiUnavailableError when no daemon
 * listens there (so the caller can work without one), with another error when one answers badly.
 */
export function apiRequest(socketPath: string, request: Record<string, unknown>, timeoutMs = 10_000): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(socketPath);
    let buffer = '';
    let settled = false;
    const finish = (error: Error | undefined, response?: ApiResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(response!);
    };
    const timer = setTimeout(() => finish(new Error(`no answer from ${socketPath} within ${timeoutMs} ms`)), timeoutMs);
    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(JSON.stringify(request) + '\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      const nl = buffer.indexOf('\n');
      if (nl < 0) {
        if (buffer.length > MAX_RESPONSE_BYTES) finish(new Error(`answer from ${socketPath} is too long`));
        return;
      }
      try {
        const value = JSON.parse(buffer.slice(0, nl)) as unknown;
        if (!value || typeof value !== 'object' || typeof (value as { ok?: unknown }).ok !== 'boolean') throw new Error('not an API answer');
        finish(undefined, value as ApiResponse);
      } catch (error) {
        finish(new Error(`bad answer from ${socketPath}: ${(error as Error).message}`));
      }
    });
    socket.once('error', (error) => {
      const code = errorCode(error);
      finish(code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'ENOTSOCK' ? new ApiUnavailableError(`no daemon answers on ${socketPath}`) : error);
    });
    socket.once('close', () => finish(new Error(`${socketPath} closed the connection without an answer`)));
  });
}
