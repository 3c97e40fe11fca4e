/**
 * One discovery probe of a port, as overlapping attempts. OpenCode ignores requests sent in its
 * first ~0.5 s (they never get an answer), and a busy server takes 0.4–0.7 s to answer its first
 * `/global/health` calls (measured on the lab). Aborting at a short deadline and asking again
 * handles the first case and never the second: every attempt is cut off before its answer. So an
 * attempt that has not answered after `spacingMs` stays open while the next one goes out, the
 * first definite answer wins and the others are aborted; an attempt that fails at once (refused,
 * reset, 5xx) makes room for the next at once.
 */
import type { ProbeFn, ProbeOptions, ProbeResult } from './portProbe';
import { describeError } from '../util/describe';

export interface HedgeOptions {
  /** Attempts in all (at least 1). */
  attempts: number;
  /** Time before the next attempt joins one that has not answered. */
  spacingMs: number;
  /** Deadline of the whole probe, from its first attempt. */
  deadlineMs: number;
  password?: string;
  signal?: AbortSignal;
}

export function hedgedProbe(probe: ProbeFn, url: string, options: HedgeOptions): Promise<ProbeResult> {
  const attempts = Math.max(1, Math.floor(options.attempts));
  const started = Date.now();
  const controllers: AbortController[] = [];
  return new Promise<ProbeResult>((resolve) => {
    let launched = 0;
    let running = 0;
    let settled = false;
    let last: ProbeResult = { ok: false, reason: 'no_answer', detail: 'not probed' };
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      for (const c of controllers) c.abort(new Error('another attempt answered'));
      resolve(result);
    };
    const onAbort = (): void => finish(last);
    const launch = (): void => {
      clearTimeout(timer);
      if (settled) return;
      const remaining = options.deadlineMs - (Date.now() - started);
      if (launched >= attempts || remaining <= 0) {
        if (running === 0) finish(last);
        return;
      }
      launched++;
      running++;
      const controller = new AbortController();
      controllers.push(controller);
      const probeOptions: ProbeOptions = { timeoutMs: remaining, signal: controller.signal };
      if (options.password !== undefined) probeOptions.password = options.password;
      probe(url, probeOptions)
        .catch((error: unknown): ProbeResult => ({ ok: false, reason: 'no_answer', detail: describeError(error) }))
        .then((result) => {
          running--;
          if (settled) return;
          if (result.ok || result.reason !== 'no_answer') return finish(result);
          last = result;
          // Failed at once or timed out: the next attempt need not wait for its slot.
          if (running === 0) launch();
        });
      if (launched < attempts) timer = setTimeout(launch, Math.min(options.spacingMs, remaining));
    };
    if (options.signal?.aborted) return finish(last);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    launch();
  });
}
