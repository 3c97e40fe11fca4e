/** A promise with its resolve/reject at hand, and one try of a managed server to get running. */

export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export function deferred(): Deferred {
  let resolve: () => void = () => undefined;
  let reject: (error: unknown) => void = () => undefined;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** One try to get a process running (the first start, a manual start, or an automatic restart). */
export interface Attempt {
  readonly deferred: Deferred;
  readonly auto: boolean;
  readonly readiness: AbortController;
  timer?: NodeJS.Timeout;
  /** Why the last readiness probe failed, for the timeout message. */
  lastProbe?: string;
}

export function newAttempt(auto: boolean): Attempt {
  const d = deferred();
  // Nobody awaits an automatic restart; the rejection is in lastError.
  d.promise.catch(() => undefined);
  return { deferred: d, auto, readiness: new AbortController() };
}
