/** The instant a (re)started server first answers: GET /global/health every 20 ms, each on its own socket. */
import { request } from 'undici';

export function firstAnswer(port: number, timeoutMs: number): { at: Promise<number>; stop(): void } {
  let done = false;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;
  const at = new Promise<number>((resolve, reject) => {
    deadline = setTimeout(() => {
      done = true;
      clearInterval(timer);
      reject(new Error(`port ${port} never answered within ${timeoutMs} ms`));
    }, timeoutMs);
    timer = setInterval(() => {
      if (done) return;
      // OpenCode never answers requests sent just after its port opens: each probe gives up soon.
      request(`http://127.0.0.1:${port}/global/health`, { reset: true, signal: AbortSignal.timeout(400) })
        .then(async (res) => {
          await res.body.text();
          const t = performance.timeOrigin + performance.now();
          if (res.statusCode === 200 && !done) {
            done = true;
            clearInterval(timer);
            clearTimeout(deadline);
            resolve(t);
          }
        })
        .catch(() => undefined);
    }, 20);
  });
  at.catch(() => undefined);
  return {
    at,
    stop: () => {
      done = true;
      clearInterval(timer);
      clearTimeout(deadline);
    },
  };
}
