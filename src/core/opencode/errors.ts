/**
 * Every failure talking to an OpenCode server becomes one of these: callers switch on `kind`
 * and show `message`, which always names the endpoint and the instance.
 */
export type OpencodeErrorKind =
  | 'auth_required' // 401: no or wrong password
  | 'timeout' // no complete answer within the request timeout
  | 'network' // refused, reset, DNS, socket closed
  | 'http' // any other non-2xx status
  | 'no_route' // the web UI's HTML page, which OpenCode serves for routes it does not have
  | 'malformed' // body is not JSON (even after cleaning control characters)
  | 'invalid' // JSON of the wrong shape
  | 'too_large' // body over the size cap
  | 'aborted' // the caller aborted
  | 'unsupported'; // the server does not offer this route family

export class OpencodeError extends Error {
  override readonly name = 'OpencodeError';
  constructor(
    readonly kind: OpencodeErrorKind,
    /** Base URL of the server, never with credentials. */
    readonly instance: string,
    /** `METHOD /path` of the request. */
    readonly endpoint: string,
    detail: string,
    readonly status?: number,
  ) {
    super(`${endpoint} on ${instance}: ${detail}`);
  }
}

export function isOpencodeError(error: unknown): error is OpencodeError {
  return error instanceof OpencodeError;
}
