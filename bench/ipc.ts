/** Request/response over a forked child's IPC channel: `call(child, 'cmd', args)` ↔ `serve({cmd})`. */
import type { ChildProcess } from 'node:child_process';

interface Request {
  rpc: number;
  cmd: string;
  args: unknown;
}
interface Response {
  rpc: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

let serial = 0;

export function call<T = unknown>(child: ChildProcess, cmd: string, args: unknown = {}, timeoutMs = 180_000): Promise<T> {
  const rpc = ++serial;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => done(new Error(`${cmd}: no answer from pid ${child.pid} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (message: unknown) => {
      const m = message as Response;
      if (m?.rpc !== rpc) return;
      if (m.ok) done(undefined, m.result as T);
      else done(new Error(`${cmd}: ${m.error}`));
    };
    const onExit = (code: number | null, signal: string | null) => done(new Error(`${cmd}: child ${child.pid} exited (${code ?? signal})`));
    function done(error: Error | undefined, value?: T): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(value as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send({ rpc, cmd, args } satisfies Request);
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each handler validates its own arguments
export function serve(handlers: Record<string, (args: any) => unknown>): void {
  process.on('message', (message: unknown) => {
    const m = message as Request;
    if (typeof m?.rpc !== 'number') return;
    const handler = handlers[m.cmd];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown command ${m.cmd}`);
        const result = await handler(m.args);
        process.send?.({ rpc: m.rpc, ok: true, result } satisfies Response);
      } catch (error) {
        process.send?.({ rpc: m.rpc, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) } satisfies Response);
      }
    })();
  });
  // The parent is the only reason to live: without it, leave.
  process.on('disconnect', () => process.exit(0));
}
