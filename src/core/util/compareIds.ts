/**
 * Orders identifiers (session and instance ids, model ids) by code unit, as a deterministic tie
 * breaker. Not `localeCompare`: ids are ASCII, and the first locale comparison loads ICU's
 * collation data (~3 MB resident in the daemon) for nothing.
 */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
