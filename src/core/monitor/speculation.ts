/**
 * A found process's port is fetched from while its discovery probe is still out, so that a server
 * that does turn out to be OpenCode is watched one round trip sooner (on a busy lab the probe alone
 * took 7–92 ms per server, all of it before the first list went out; issue 17). Nothing it fetches
 * is shown before the verdict: the watcher's changes go nowhere and its logs stay at debug until it
 * is adopted. A port found not to be OpenCode, gone or taken over by an endpoint loses its
 * watcher at once. Never with a password: no request beyond the probe carries one before the
 * verdict.
 */
import type { Logger } from '../log';
import type { InstanceWatcher } from './instanceWatcher';

/**
 * A speculative watcher is adopted only when the verdict came this soon after it started: below
 * discovery's probe spacing (400 ms), the first probe attempt answered, so the watcher's requests,
 * sent right after it, reached a server that answers (not one in OpenCode's deaf first ~0.5 s,
 * whose requests would hang until their timeout). Later verdicts get a fresh watcher, as before.
 */
export const ADOPT_WITHIN_MS = 350;

type OnChange = (change: { sessions: boolean; instance: boolean }) => void;

export interface SpeculativeWatcher {
  url: string;
  watcher: InstanceWatcher;
  startedAt: number;
  /** Where its changes go once adopted (nowhere before). */
  bind(onChange: OnChange): void;
}

/** Starts a watcher of `url` whose changes and logs are held back until `bind` is called. */
export function startSpeculative(
  url: string,
  logger: Logger,
  now: () => number,
  create: (logger: Logger, onChange: OnChange) => InstanceWatcher,
): SpeculativeWatcher {
  let sink: OnChange | undefined;
  const quiet = quietUntilBound(logger, () => sink !== undefined);
  const watcher = create(quiet, (change) => sink?.(change));
  return {
    url,
    watcher,
    startedAt: now(),
    bind: (onChange) => {
      sink = onChange;
    },
  };
}

/** Whether a speculative watcher may become the watcher of `url`, confirmed at `at`. */
export function adoptable(speculative: SpeculativeWatcher, url: string, at: number): boolean {
  return speculative.url === url && at - speculative.startedAt <= ADOPT_WITHIN_MS && speculative.watcher.untroubled;
}

/** Everything at debug until `bound()`: a port that is not OpenCode is not the user's problem. */
function quietUntilBound(logger: Logger, bound: () => boolean): Logger {
  const at =
    (level: 'info' | 'warn' | 'error') =>
    (message: string | Error, ...args: unknown[]): void => {
      if (bound()) logger[level](message as string, ...args);
      else logger.debug(`(before the probe's verdict) ${message instanceof Error ? message.message : message}`, ...args);
    };
  return {
    trace: (message, ...args) => logger.trace(message, ...args),
    debug: (message, ...args) => logger.debug(message, ...args),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
  };
}
