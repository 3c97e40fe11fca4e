/**
 * When OpenCode created an object, read from its id. OpenCode's ascending ids (`per_…`, `que_…`,
 * `msg_…`) start with 12 hex digits: the low 48 bits of `ms × 4096 + counter` (measured on
 * 1.18.33: a permission id decodes to 0.56 s after its tool started). 48 bits hold the time
 * modulo 2^36 ms (about 795 days), so the result is the latest such time not after `now`.
 * Undocumented: callers check the result against what they know (e.g. the tool's start).
 */
const WRAP_MS = 2 ** 36;

export function idTime(id: string, now: number): number | undefined {
  const m = /^[a-z]{3}_([0-9a-f]{12})/.exec(id);
  if (!m) return undefined;
  const low = Math.floor(Number.parseInt(m[1]!, 16) / 4096);
  return now - ((((now - low) % WRAP_MS) + WRAP_MS) % WRAP_MS);
}

/**
 * When a pending request (permission, question) was asked: from its id when that time is after
 * its tool started (or, without a known tool, within the last day), else the tool's start.
 */
export function requestAskedAt(id: string, now: number, toolStartedAt: number | undefined): number | undefined {
  const fromId = idTime(id, now);
  if (fromId !== undefined && (toolStartedAt !== undefined ? fromId >= toolStartedAt : now - fromId < 24 * 3600_000)) return fromId;
  return toolStartedAt;
}
