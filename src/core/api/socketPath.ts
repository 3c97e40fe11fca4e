/**
 * Where the local API listens, and making that place safe before listening: a per-user folder
 * (0700, ours, not a symlink), and at the socket path nothing, or a stale socket of ours (no one
 * answers: replaced). Another user's file, a symlink or a non-socket is never removed or
 * followed; a live socket means another daemon already answers there.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { errorCode } from '../os/atomicWrite';

export class SocketPathError extends Error {
  override readonly name = 'SocketPathError';
}

/** `$XDG_RUNTIME_DIR/opencode-monitor/api.sock`, else `<tmp>/opencode-monitor-<uid>/api.sock`. */
export function defaultSocketPath(env: NodeJS.ProcessEnv = process.env, uid = currentUid(), tmp = os.tmpdir()): string {
  if (env.XDG_RUNTIME_DIR && path.isAbsolute(env.XDG_RUNTIME_DIR)) return path.join(env.XDG_RUNTIME_DIR, 'opencode-monitor', 'api.sock');
  return path.join(tmp, `opencode-monitor-${uid ?? 'user'}`, 'api.sock');
}

export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/**
 * Creates the folder when missing (0700) and checks it: a real folder owned by us that no one
 * else can write to, or, for a path the user chose, a sticky shared folder such as /tmp.
 */
export function prepareSocketFolder(socketPath: string, options: { uid?: number; ownFolder?: boolean } = {}): void {
  const uid = 'uid' in options ? options.uid : currentUid();
  if (process.platform === 'win32') throw new SocketPathError('the local API socket is not available on Windows');
  const dir = path.dirname(path.resolve(socketPath));
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new SocketPathError(`cannot create ${dir}: ${(error as Error).message}`);
  }
  const st = fs.lstatSync(dir);
  if (st.isSymbolicLink()) throw new SocketPathError(`${dir} is a symbolic link: not used for the API socket`);
  if (!st.isDirectory()) throw new SocketPathError(`${dir} is not a folder`);
  const sticky = (st.mode & 0o1000) !== 0;
  if (uid !== undefined && st.uid !== uid && !(sticky && st.uid === 0)) {
    throw new SocketPathError(`${dir} belongs to another user (uid ${st.uid}): not used for the API socket`);
  }
  // The default folder is ours alone: 0700 whatever an earlier run or the umask left.
  if (options.ownFolder && st.uid === uid && (st.mode & 0o777) !== 0o700) fs.chmodSync(dir, 0o700);
  else if (uid !== undefined && st.uid === uid && (st.mode & 0o022) !== 0 && !sticky) {
    throw new SocketPathError(`${dir} is writable by other users (mode ${(st.mode & 0o777).toString(8)}): not used for the API socket`);
  }
}

/**
 * Clears the way for listening at `socketPath`: nothing there is fine; a socket of ours that no
 * one answers is stale and removed; anything else is an error that says what is there.
 */
export async function clearStaleSocket(socketPath: string, uid = currentUid()): Promise<'free' | 'replaced'> {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(socketPath);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return 'free';
    throw error;
  }
  if (st.isSymbolicLink()) throw new SocketPathError(`${socketPath} is a symbolic link: not followed, not replaced`);
  if (!st.isSocket()) throw new SocketPathError(`${socketPath} exists and is not a socket: not replaced`);
  if (uid !== undefined && st.uid !== uid) throw new SocketPathError(`${socketPath} belongs to another user (uid ${st.uid}): not replaced`);
  if (await answers(socketPath)) throw new SocketPathError(`another opencode-monitor daemon already answers on ${socketPath}`);
  // Check again right before removing: still the same stale socket of ours.
  const again = fs.lstatSync(socketPath);
  if (again.ino !== st.ino || !again.isSocket()) throw new SocketPathError(`${socketPath} changed while checking it: not replaced`);
  fs.unlinkSync(socketPath);
  return 'replaced';
}

/** Whether something accepts connections on the socket (within `timeoutMs`). */
export function answers(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const done = (alive: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(alive);
    };
    const timer = setTimeout(() => done(true), timeoutMs); // accepted-but-silent counts as alive: never steal it
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}
