/**
 * Bounds on what a server's events can make the monitor keep and fetch (issue 11): a server that
 * sends `session.status busy` for thousands of session ids it never lists must not grow the state
 * nor turn each id into detail requests.
 */

/** Sessions known only from events (no info yet) kept per server; events for more are ignored. */
export const MAX_UNLISTED_SESSIONS = 256;

/** Sessions whose details (todos, messages) one light round fetches; the rest wait for the next. */
export const MAX_DETAIL_FETCHES_PER_ROUND = 32;

/**
 * The stale sessions a light round fetches details for: only those the server lists (in its
 * status map or its session list), at most MAX_DETAIL_FETCHES_PER_ROUND.
 */
export function detailBudget(stale: Iterable<string>, isListed: (id: string) => boolean): Set<string> {
  const picked = new Set<string>();
  for (const id of stale) {
    if (picked.size >= MAX_DETAIL_FETCHES_PER_ROUND) break;
    if (isListed(id)) picked.add(id);
  }
  return picked;
}
