/**
 * Where a password may go (issue 11). The environment's OPENCODE_SERVER_PASSWORD is tried only
 * on servers found running on this machine (a local process or container, reached on loopback);
 * a configured endpoint gets only the password stored for its URL. A password sent over plain
 * http to another host is readable on the way: the caller warns once.
 */

/** Is the URL's host this machine (127.0.0.0/8, ::1, localhost)? */
export function isLoopbackUrl(url: string): boolean {
  let host: string;
  try {
    host = new URL(url).hostname.toLowerCase();
  } catch {
    return false;
  }
  return host === 'localhost' || host.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(host) || host === '[::1]' || host === '::1';
}

/** The environment password for a server found on this machine; nothing for any other. */
export function environmentPasswordFor(url: string, foundOnThisMachine: boolean, environmentPassword: string | undefined): string | undefined {
  return foundOnThisMachine && isLoopbackUrl(url) ? environmentPassword : undefined;
}

/** The warning due when `password` would go over plain http to another host, else undefined. */
export function plainHttpPasswordWarning(url: string, password: string | undefined): string | undefined {
  if (!password) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'http:' || isLoopbackUrl(url)) return undefined;
  return `the password for ${parsed.protocol}//${parsed.host} goes over plain http, readable on the network: use https (a TLS proxy or an SSH tunnel)`;
}
