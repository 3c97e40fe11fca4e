/**
 * Starts real `opencode serve` processes against the scripted fake model, in an isolated HOME.
 * Every PID started (and every tool child seen) is remembered and killed by PID: on stop, on
 * process exit, and by a watchdog process if the test runner itself is SIGKILLed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFakeModel, MODEL_ID, type FakeModel } from '../fixtures/fakeModel';
import { isAlive, listProcesses, readEnv, signalPid, toolChildrenOf, waitForExit } from './processes';

export const PROVIDER_ID = 'lab';
export const LAB_MODEL = `${PROVIDER_ID}/${MODEL_ID}`;
export const DEFAULT_PERMISSION = { bash: { '*': 'allow', 'rm *': 'ask' } };

export interface ServerLike {
  readonly url: string;
  readonly password?: string;
}

export interface LabServer extends ServerLike {
  readonly name: string;
  readonly pid: number;
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly dir: string;
  readonly password?: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Milliseconds from spawn to the first 200 on GET /session. */
  readonly startupMs: number;
  /** Stops the server and its bash-tool children by PID (SIGKILL after 5 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** SIGKILL the server and its tool children; resolves once its port is closed. */
  kill9(): Promise<void>;
}

export interface StartServerOptions {
  name?: string;
  port?: number;
  password?: string;
  dir?: string;
  /** Extra env for this server only. */
  env?: NodeJS.ProcessEnv;
}

export interface Lab {
  readonly root: string;
  readonly home: string;
  readonly model: FakeModel;
  readonly env: NodeJS.ProcessEnv;
  readonly configPath: string;
  readonly servers: ReadonlyArray<LabServer>;
  startServer(o?: StartServerOptions): Promise<LabServer>;
  /**
   * Starts n servers in parallel, each in its own project dir (s1..sn). The very first start in
   * a fresh HOME runs alone (parallel first starts race on the DB migrations).
   */
  startServers(n: number): Promise<LabServer[]>;
  /** <root>/projects/<name>; a git repo with one commit (unique root SHA) when git exists. */
  projectDir(name: string): string;
  /** Every PID this lab started or saw as a tool child. */
  knownPids(): number[];
  /**
   * Adopts a process started by other code (e.g. a managed server) with this lab's env: it is
   * killed with its group and tool children by stopAll, at exit and by the watchdog if still ours.
   */
  track(pid: number): void;
  /** The `opencode` binary the lab runs. */
  readonly bin: string;
  /** Stops every server, closes the fake model, removes root (unless OCM_LAB_KEEP=1). */
  stopAll(): Promise<void>;
}

export interface CreateLabOptions {
  /** Replaces the default permission rule ({bash: {"*": "allow", "rm *": "ask"}}). */
  permission?: unknown;
  /** Merged over the generated opencode.json. */
  config?: Record<string, unknown>;
  /** Pre-seed ~/.config/opencode so OpenCode skips its @opencode-ai/plugin npm install (default true). */
  seedPlugin?: boolean;
  /** Keep the temp root after stopAll (also: env OCM_LAB_KEEP=1). */
  keep?: boolean;
  /** An empty folder to use as the root, known before the lab starts (default: a fresh temp folder). */
  root?: string;
}

const STARTUP_TIMEOUT_MS = 60_000;
const PROBE_TIMEOUT_MS = 1_000;
/** Generous: on a loaded 2-core box a busy OpenCode took >10 s to answer an abort. */
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const OUTPUT_CAP = 4 * 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// Last-resort cleanup shared by all labs in this process.

interface Tracked {
  pid: number;
  home: string;
}
const tracked = new Map<number, Tracked>();
let exitHookInstalled = false;

/** Only kill a remembered pid if it still is one of ours (guards against pid reuse). */
function stillOurs(t: Tracked): boolean {
  if (!isAlive(t.pid)) return false;
  const env = readEnv(t.pid);
  return env === undefined || env.HOME === t.home;
}

function killRemainingSync(): void {
  const owners = [...tracked.values()].filter(stillOurs);
  if (owners.length === 0) return;
  let procs: ReturnType<typeof listProcesses> = [];
  try {
    procs = listProcesses({ env: true });
  } catch {
    // /proc unreadable: still kill the owners below
  }
  for (const t of owners) {
    for (const c of toolChildrenOf(t.pid, procs)) signalPid(c.pid, 'SIGKILL');
    signalPid(-t.pid, 'SIGKILL');
    signalPid(t.pid, 'SIGKILL');
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killRemainingSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killRemainingSync();
      process.removeListener(sig, onSignal);
      // Re-raise for the default action, unless someone else (e.g. the test runner) handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
    };
    process.on(sig, onSignal);
  }
}

/**
 * A detached node process that kills the lab's servers when our stdin pipe closes, i.e. when
 * this test process dies without running its exit hooks (SIGKILL, OOM, runner timeout).
 */
const WATCHDOG_SRC = `
const fs = require('fs');
const owners = new Map();
let buf = '';
let finished = false;
function env(pid) { try { const o = {}; for (const kv of fs.readFileSync('/proc/' + pid + '/environ', 'utf8').split('\\0')) { const i = kv.indexOf('='); if (i > 0) o[kv.slice(0, i)] = kv.slice(i + 1); } return o; } catch { return undefined; } }
function kill(pid) { try { process.kill(pid, 'SIGKILL'); } catch {} }
process.stdin.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\\n')) >= 0) {
    const line = buf.slice(0, i).trim(); buf = buf.slice(i + 1);
    const [cmd, pid, home] = line.split('\\t');
    if (cmd === 'add') owners.set(Number(pid), home);
    if (cmd === 'del') owners.delete(Number(pid));
    if (cmd === 'done') { finished = true; process.exit(0); }
  }
});
process.stdin.on('end', () => {
  if (finished) return;
  for (const [pid, home] of owners) {
    const e = env(pid);
    if (!e || e.HOME !== home) continue;
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\\d+$/.test(name)) continue;
      const ce = env(Number(name));
      if (ce && ce.OPENCODE_PID === String(pid)) kill(Number(name));
    }
    kill(-pid); kill(pid);
  }
  process.exit(0);
});
`;

class Watchdog {
  private child: ChildProcess | undefined;
  start(): void {
    try {
      // Minimal env: it must not carry run markers (OCM_TEST_RUN) that leak checks look for.
      this.child = spawn(process.execPath, ['-e', WATCHDOG_SRC], {
        detached: true,
        stdio: ['pipe', 'ignore', 'ignore'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      });
      this.child.on('error', () => (this.child = undefined));
      this.child.stdin?.on('error', () => undefined);
      this.child.unref();
      (this.child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    } catch {
      this.child = undefined;
    }
  }
  send(line: string): void {
    if (this.child?.stdin && !this.child.stdin.destroyed) this.child.stdin.write(`${line}\n`);
  }
  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c?.pid) return;
    if (c.stdin && !c.stdin.destroyed) c.stdin.end('done\n');
    if (!(await waitForExit(c.pid, 2000))) signalPid(c.pid, 'SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers (plain fetch, every request with a timeout: OpenCode ignores early requests).

function authHeader(s: ServerLike): Record<string, string> {
  return s.password ? { authorization: `Basic ${Buffer.from(`opencode:${s.password}`).toString('base64')}` } : {};
}

export interface HttpResult {
  status: number;
  text: string;
  /** Parsed body, or undefined when empty / not JSON. */
  json: unknown;
}

export async function request(
  s: ServerLike,
  method: string,
  urlPath: string,
  body?: unknown,
  timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS,
): Promise<HttpResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...authHeader(s) };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(s.url + urlPath, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (e) {
    throw new Error(`${method} ${s.url}${urlPath} failed: ${(e as Error).message}`, { cause: e });
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json };
}

export async function getJson<T = unknown>(s: ServerLike, urlPath: string, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<T> {
  const r = await request(s, 'GET', urlPath, undefined, timeoutMs);
  if (r.status < 200 || r.status >= 300) throw new Error(`GET ${urlPath} → HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  return r.json as T;
}

export async function postJson<T = unknown>(s: ServerLike, urlPath: string, body: unknown = {}, timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS): Promise<T> {
  const r = await request(s, 'POST', urlPath, body, timeoutMs);
  if (r.status < 200 || r.status >= 300) throw new Error(`POST ${urlPath} → HTTP ${r.status}: ${r.text.slice(0, 500)}`);
  return r.json as T;
}

export async function createSession(s: ServerLike, title?: string): Promise<string> {
  const info = await postJson<{ id?: unknown }>(s, '/session', title === undefined ? {} : { title });
  if (typeof info?.id !== 'string') throw new Error(`POST /session returned no id: ${JSON.stringify(info)}`);
  return info.id;
}

export async function promptAsync(s: ServerLike, sessionID: string, text: string): Promise<void> {
  const r = await request(s, 'POST', `/session/${encodeURIComponent(sessionID)}/prompt_async`, { parts: [{ type: 'text', text }] });
  if (r.status < 200 || r.status >= 300) throw new Error(`prompt_async ${sessionID} → HTTP ${r.status}: ${r.text.slice(0, 500)}`);
}

/** Polls fn (errors count as "not yet") until it returns something other than undefined. */
export async function waitFor<T>(
  fn: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  label: string,
  intervalMs = 100,
): Promise<T> {
  const start = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() - start >= timeoutMs) {
      const why = lastError ? ` (last error: ${(lastError as Error).message ?? String(lastError)})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${label}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export interface LabEvent {
  type: string;
  properties: Record<string, unknown>;
  /** Raw parsed `data:` payload (for /global/event: {directory, payload, ...}). */
  raw: unknown;
  at: number;
}

export interface EventStream {
  readonly events: ReadonlyArray<LabEvent>;
  close(): void;
}

/**
 * Subscribes to an SSE route (`/event` or `/global/event`) and collects events. Resolves after
 * the first event (`server.connected`) so the subscription is live before the caller acts.
 * Text deltas are only visible here: `/session/{id}/message` shows an empty text part until the
 * stream completes.
 */
export async function openEventStream(s: ServerLike, urlPath = '/event', timeoutMs = 10_000): Promise<EventStream> {
  const ac = new AbortController();
  const events: LabEvent[] = [];
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  let res: Response;
  try {
    res = await fetch(s.url + urlPath, { headers: { accept: 'text/event-stream', ...authHeader(s) }, signal: ac.signal });
  } catch (e) {
    clearTimeout(timer);
    throw new Error(`GET ${urlPath} failed: ${(e as Error).message}`, { cause: e });
  }
  if (res.status !== 200 || !res.body) {
    clearTimeout(timer);
    ac.abort();
    throw new Error(`GET ${urlPath} → HTTP ${res.status}`);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let first: (() => void) | undefined;
  const gotFirst = new Promise<void>((resolve) => (first = resolve));
  void (async () => {
    let buf = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buf += decoder.decode(value, { stream: true });
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).replace(/\r$/, '');
          buf = buf.slice(i + 1);
          if (!line.startsWith('data:')) continue;
          try {
            const raw = JSON.parse(line.slice(5).trim()) as Record<string, unknown>;
            const payload = (raw.payload && typeof raw.payload === 'object' ? raw.payload : raw) as Record<string, unknown>;
            events.push({
              type: String(payload.type),
              properties: (payload.properties ?? {}) as Record<string, unknown>,
              raw,
              at: Date.now(),
            });
            first?.();
          } catch {
            // not JSON: ignore
          }
        }
      }
    } catch {
      // aborted or server gone
    }
  })();
  try {
    await Promise.race([
      gotFirst,
      new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(new Error(`no event on ${urlPath} within ${timeoutMs} ms`)))),
    ]);
  } finally {
    clearTimeout(timer);
  }
  return {
    events,
    close: () => ac.abort(),
  };
}

// ---------------------------------------------------------------------------------------------

export function findOpencodeBin(): string {
  const fromEnv = process.env.OCM_OPENCODE_BIN;
  if (fromEnv) return fromEnv;
  for (const start of [__dirname, process.cwd()]) {
    let dir = path.resolve(start);
    for (;;) {
      const candidate = path.join(dir, 'node_modules', '.bin', 'opencode');
      if (fs.existsSync(candidate)) return candidate;
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  throw new Error('node_modules/.bin/opencode not found (set OCM_OPENCODE_BIN)');
}

let gitAvailable: boolean | undefined;
function hasGit(): boolean {
  if (gitAvailable === undefined) {
    try {
      execFileSync('git', ['--version'], { stdio: 'ignore' });
      gitAvailable = true;
    } catch {
      gitAvailable = false;
    }
  }
  return gitAvailable;
}

function tail(text: string, lines = 25): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Port taken (opencode exits with ServeError) or a DB migration race: worth another try. */
class RetryableStartError extends Error {
  constructor(
    message: string,
    readonly dbRace: boolean,
  ) {
    super(message);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function portClosed(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const done = (closed: boolean): void => {
      sock.destroy();
      resolve(closed);
    };
    sock.setTimeout(500, () => done(false));
    sock.once('connect', () => done(false));
    sock.once('error', () => done(true));
  });
}

/**
 * On first start OpenCode runs an in-process npm install (arborist, from the real registry;
 * ~63 MB, finishes ~10 s after start) of @opencode-ai/plugin into ~/.config/opencode. It skips it
 * when node_modules exists and package-lock.json's root lists every wanted dependency, so seed
 * exactly that (plus a stub package for anything that resolves it).
 */
function seedPluginDir(configDir: string, version: string): void {
  const pkgDir = path.join(configDir, 'node_modules', '@opencode-ai', 'plugin');
  fs.mkdirSync(pkgDir, { recursive: true });
  const deps = { '@opencode-ai/plugin': version };
  const write = (file: string, value: unknown): void => fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
  write(path.join(configDir, 'package.json'), { dependencies: deps });
  write(path.join(configDir, 'package-lock.json'), {
    name: 'opencode',
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': { dependencies: deps },
      'node_modules/@opencode-ai/plugin': { version },
    },
  });
  write(path.join(pkgDir, 'package.json'), { name: '@opencode-ai/plugin', version, main: 'index.js' });
  fs.writeFileSync(path.join(pkgDir, 'index.js'), 'module.exports = {};\n');
}

function opencodeVersion(bin: string): string {
  try {
    const pkg = path.join(path.dirname(fs.realpathSync(bin)), '..', 'package.json');
    const v = (JSON.parse(fs.readFileSync(pkg, 'utf8')) as { version?: unknown }).version;
    if (typeof v === 'string') return v;
  } catch {
    // fall through
  }
  return '1.18.33';
}

export async function createLab(opts: CreateLabOptions = {}): Promise<Lab> {
  installExitHook();
  const bin = findOpencodeBin();
  const root = opts.root ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-lab-'));
  fs.mkdirSync(root, { recursive: true });
  const home = path.join(root, 'home');
  const xdg = {
    XDG_CONFIG_HOME: path.join(home, '.config'),
    XDG_DATA_HOME: path.join(home, '.local', 'share'),
    XDG_STATE_HOME: path.join(home, '.local', 'state'),
    XDG_CACHE_HOME: path.join(home, '.cache'),
  };
  for (const d of Object.values(xdg)) fs.mkdirSync(d, { recursive: true });
  const configDir = path.join(xdg.XDG_CONFIG_HOME, 'opencode');
  fs.mkdirSync(configDir, { recursive: true });
  if (opts.seedPlugin !== false) seedPluginDir(configDir, opencodeVersion(bin));

  const model = await startFakeModel();
  const config: Record<string, unknown> = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: LAB_MODEL,
    small_model: LAB_MODEL,
    enabled_providers: [PROVIDER_ID],
    provider: {
      [PROVIDER_ID]: {
        npm: '@ai-sdk/openai-compatible',
        name: 'Lab fake model',
        options: { baseURL: model.url, apiKey: 'lab-key' },
        models: { [MODEL_ID]: { name: 'Fake model', tool_call: true, limit: { context: 128000, output: 4096 } } },
      },
    },
    permission: opts.permission ?? DEFAULT_PERMISSION,
    ...opts.config,
  };
  const configPath = path.join(configDir, 'opencode.json');
  fs.writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(OPENCODE|XDG_)/i.test(k) || /^(HTTPS?|ALL)_PROXY$/i.test(k)) continue;
    env[k] = v;
  }
  Object.assign(env, xdg, {
    HOME: home,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_SHARE: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_CLAUDE_CODE: '1',
    GIT_CONFIG_NOSYSTEM: '1',
  });

  const watchdog = new Watchdog();
  watchdog.start();
  const servers: LabServer[] = [];
  const known = new Set<number>();
  let serial = 0;
  let stopping = false;

  function projectDir(name: string): string {
    const dir = path.join(root, 'projects', name);
    if (fs.existsSync(dir)) return dir;
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'README.md'), `# ${name}\n\nOpenCode Monitor lab project "${name}" (${root}).\n`);
    if (hasGit()) {
      const gitEnv = {
        ...env,
        GIT_AUTHOR_NAME: 'Lab',
        GIT_AUTHOR_EMAIL: 'lab@example.invalid',
        GIT_COMMITTER_NAME: 'Lab',
        GIT_COMMITTER_EMAIL: 'lab@example.invalid',
      };
      const git = (...args: string[]): void => {
        execFileSync('git', ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', ...args], {
          cwd: dir,
          env: gitEnv,
          stdio: 'ignore',
        });
      };
      try {
        git('init', '-q');
        git('add', 'README.md');
        // The root commit SHA is OpenCode's project id: README content + message make it unique.
        git('commit', '-q', '-m', `lab project ${name} ${path.basename(root)}`);
      } catch {
        fs.rmSync(path.join(dir, '.git'), { recursive: true, force: true });
      }
    }
    return dir;
  }

  function remember(pid: number): void {
    known.add(pid);
    tracked.set(pid, { pid, home });
    watchdog.send(`add\t${pid}\t${home}`);
  }

  function forget(pid: number): void {
    tracked.delete(pid);
    watchdog.send(`del\t${pid}`);
  }

  const adopted = new Set<number>();
  function track(pid: number): void {
    if (adopted.has(pid)) return;
    adopted.add(pid);
    remember(pid);
  }

  const inFlight = new Set<Promise<unknown>>();
  function startServer(o: StartServerOptions = {}): Promise<LabServer> {
    if (stopping) return Promise.reject(new Error('lab is stopping'));
    const p = startServerNow(o);
    inFlight.add(p);
    const drop = (): void => void inFlight.delete(p);
    p.then(drop, drop);
    return p;
  }

  // Parallel first starts in a fresh HOME race on the shared DB's migrations ("Failed query:
  // CREATE TABLE ..."), so starts are serialised until one server has created the DB.
  let homeReady = false;
  let firstStartGate: Promise<void> = Promise.resolve();

  async function startServerNow(o: StartServerOptions): Promise<LabServer> {
    const n = ++serial;
    const name = o.name ?? `s${n}`;
    const dir = o.dir ?? projectDir(name);
    if (homeReady) return startWithRetry(o, name, dir);
    const prev = firstStartGate;
    let release = (): void => undefined;
    firstStartGate = new Promise<void>((r) => (release = r));
    try {
      await prev;
      const server = await startWithRetry(o, name, dir);
      homeReady = true;
      return server;
    } finally {
      release();
    }
  }

  async function startWithRetry(o: StartServerOptions, name: string, dir: string): Promise<LabServer> {
    // `--port 0` means "4096 if free": pick our own port so labs never grab 4096 (a developer's
    // real OpenCode). A taken port makes opencode exit with ServeError, so retry with another.
    for (let attempt = 1; ; attempt++) {
      const port = o.port ?? (await freePort());
      try {
        return await launch(o, name, dir, port);
      } catch (e) {
        if (attempt >= 3 || !(e instanceof RetryableStartError)) throw e;
        if (o.port !== undefined && !e.dbRace) throw e;
      }
    }
  }

  async function launch(o: StartServerOptions, name: string, dir: string, requestedPort: number): Promise<LabServer> {
    const childEnv: NodeJS.ProcessEnv = { ...env, ...o.env };
    if (o.password !== undefined) childEnv.OPENCODE_SERVER_PASSWORD = o.password;
    const args = ['serve', '--port', String(requestedPort), '--hostname', '127.0.0.1', '--print-logs'];
    const t0 = Date.now();
    const child = spawn(bin, args, { cwd: dir, env: childEnv, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const cap = (s: string): string => (s.length > OUTPUT_CAP ? s.slice(-OUTPUT_CAP / 2) : s);
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    child.stdout?.on('data', (d: string) => (out = cap(out + d)));
    child.stderr?.on('data', (d: string) => (err = cap(err + d)));
    let exited: string | undefined;
    child.on('exit', (code, sig) => (exited = `exited (code ${code}, signal ${sig})`));
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => undefined);
    const pid = child.pid;
    if (pid === undefined) {
      await spawnError;
      throw new Error(`could not spawn ${bin}`);
    }
    remember(pid);
    const fail = async (why: string): Promise<never> => {
      await stopPid(pid, 'SIGKILL');
      const msg = `opencode server "${name}" (pid ${pid}, port ${requestedPort}) failed to start: ${why}\n--- stderr (tail) ---\n${tail(err)}\n--- stdout (tail) ---\n${tail(out)}`;
      if (exited && /Failed query/.test(err)) throw new RetryableStartError(msg, true);
      throw exited && /ServeError|EADDRINUSE/.test(err + out) ? new RetryableStartError(msg, false) : new Error(msg);
    };

    let port = 0;
    while (port === 0) {
      const m = /opencode server listening on http:\/\/[^\s:]+:(\d+)/.exec(out);
      if (m) port = Number(m[1]);
      else if (exited) return fail(`process ${exited} before printing its port`);
      else if (Date.now() - t0 > STARTUP_TIMEOUT_MS) return fail('no "listening on" line within 60 s');
      else await new Promise((r) => setTimeout(r, 20));
    }
    const url = `http://127.0.0.1:${port}`;
    const probeTarget: ServerLike = { url, password: o.password };
    for (;;) {
      if (exited) return fail(`process ${exited} before answering`);
      if (Date.now() - t0 > STARTUP_TIMEOUT_MS) return fail(`GET /session never answered 200 within 60 s on ${url}`);
      try {
        const r = await request(probeTarget, 'GET', '/session', undefined, PROBE_TIMEOUT_MS);
        if (r.status === 200) break;
        if (r.status === 401) return fail('HTTP 401 (password mismatch?)');
      } catch {
        // early requests are dropped by OpenCode: retry
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const startupMs = Date.now() - t0;

    let stopped: Promise<void> | undefined;
    const server: LabServer = {
      name,
      pid,
      port,
      url,
      dir,
      password: o.password,
      startupMs,
      stdout: () => out,
      stderr: () => err,
      stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
        stopped ??= stopPid(pid, signal);
        return stopped;
      },
      async kill9(): Promise<void> {
        stopped ??= stopPid(pid, 'SIGKILL');
        await stopped;
        await waitFor(async () => ((await portClosed(port)) ? true : undefined), 10_000, `port ${port} to close`, 50);
      },
    };
    servers.push(server);
    return server;
  }

  /** Signal the server's group and its tool children, escalate to SIGKILL after 5 s. */
  async function stopPid(pid: number, signal: NodeJS.Signals): Promise<void> {
    const collect = (): number[] => {
      const kids = toolChildrenOf(pid).map((p) => p.pid);
      for (const k of kids) known.add(k);
      return kids;
    };
    const kids = new Set<number>(collect());
    // Re-check identity before each signal: a reaped pid may already belong to someone else.
    const isServer = (): boolean => stillOurs({ pid, home });
    const isKid = (k: number): boolean => isAlive(k) && (readEnv(k)?.OPENCODE_PID ?? String(pid)) === String(pid);
    const hit = (sig: NodeJS.Signals): void => {
      if (isServer()) for (const k of collect()) kids.add(k);
      // A pid stays reserved while it is a live pgid, so the group signal only reaches our group.
      signalPid(-pid, sig);
      if (isServer()) signalPid(pid, sig);
      for (const k of kids) if (isKid(k)) signalPid(k, sig);
    };
    hit(signal);
    let ok = await waitForExit(pid, signal === 'SIGKILL' ? 10_000 : 5_000);
    if (!ok) {
      hit('SIGKILL');
      ok = await waitForExit(pid, 10_000);
    }
    // Tool children may outlive a clean server exit; they are ours to stop too.
    for (const k of kids) {
      if (!(await waitForExit(k, 2_000)) && isKid(k)) {
        signalPid(k, 'SIGKILL');
        await waitForExit(k, 5_000);
      }
    }
    if (!ok) throw new Error(`opencode pid ${pid} survived SIGKILL`);
    forget(pid);
  }

  async function startServers(count: number): Promise<LabServer[]> {
    const results = await Promise.allSettled(Array.from({ length: count }, () => startServer()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    return results.map((r) => (r as PromiseFulfilledResult<LabServer>).value);
  }

  let stoppedAll: Promise<void> | undefined;
  function stopAll(): Promise<void> {
    stoppedAll ??= doStopAll();
    return stoppedAll;
  }

  async function doStopAll(): Promise<void> {
    stopping = true;
    // Let starts in progress finish (or fail) so their servers are in `servers` to be stopped.
    await Promise.allSettled([...inFlight]);
    const errors: unknown[] = [];
    await Promise.all(servers.map((s) => s.stop().catch((e: unknown) => errors.push(e))));
    // Adopted pids whose owner did not stop them (a failed test): SIGKILL, if still ours.
    await Promise.all(
      [...adopted].map(async (pid) => {
        if (stillOurs({ pid, home })) await stopPid(pid, 'SIGKILL').catch((e: unknown) => errors.push(e));
        else forget(pid);
      }),
    );
    model.releaseHangs();
    await model.close();
    await watchdog.stop();
    if (!(opts.keep || process.env.OCM_LAB_KEEP === '1')) {
      try {
        fs.rmSync(root, { recursive: true, force: true, maxRetries: 3 });
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw errors[0];
  }

  return {
    root,
    home,
    model,
    env,
    configPath,
    servers,
    startServer,
    startServers,
    projectDir,
    knownPids: () => [...known],
    track,
    bin,
    stopAll,
  };
}
