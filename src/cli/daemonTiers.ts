/**
 * The daemon runs for days doing small periodic work (a /proc scan a second, a light round every
 * 30 s, the events of a few servers): V8's optimizing compilers cost it more than they save. Their
 * background compiles were most of the variance of its first idle minutes, and their code and
 * compile zones stay resident. Measured side by side on the bench lab (Node 20, 5 real servers,
 * two runs): idle CPU over the first minute 0.28 / 0.17 → 0.14 / 0.14 s, busy 0.67 / 0.65 →
 * 0.64 / 0.65 s, RSS 74 → 65 MB. Ignition and Sparkplug still run everything.
 * The price, measured at 50 servers × 20 sessions: a light round 20 → 36 ms, and a cold snapshot
 * stays ~350 ms instead of falling to ~200 ms as the code warms up.
 * Only `daemon`: `history` and `audit` crunch databases and keep every tier, and the extension
 * host is shared with other extensions.
 */
import { setFlagsFromString } from 'node:v8';

/** Both exist from Node 20 (V8 11.3) to Node 24 (V8 13.6); an unknown one would print to stderr. */
const DAEMON_V8_FLAGS: readonly string[] = ['--no-turbofan', '--no-maglev'];

/** Before the daemon's work starts: functions that would have been optimized stay in the baseline tiers. */
export function useDaemonTiers(): void {
  for (const flag of DAEMON_V8_FLAGS) setFlagsFromString(flag);
}

/**
 * Node flags the service unit starts the daemon with: settings that take effect only on Node's
 * command line. On Node 24 (V8 13.6) `--liftoff-only` set at run time (wasmTier.ts) has no
 * effect (undici + 50 requests: peak 88 MB with or without it, 66 MB with it on the command line),
 * and the young generation grows to several MB. Same lab side by side (Node 24.21, 5 real
 * servers): RSS 98.4 → 88.6 MB with `--liftoff-only`, 80.6 MB with both; CPU the same (busy 0.56 /
 * 0.58 / 0.59 s per minute).
 */
export const DAEMON_NODE_FLAGS: readonly string[] = ['--liftoff-only', '--max-semi-space-size=1'];
