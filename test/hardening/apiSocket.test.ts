/**
 * The local API socket under hostile clients and a hostile file system: a giant line, garbage,
 * a client that never reads, pre-planted files at the socket path (another user's socket, a
 * symlink, a regular file, a stale socket), hostile label text. The daemon keeps answering the
 * other clients throughout and never crashes.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { apiRequest } from '../../src/core/api/apiClient';
import { startApiServer } from '../../src/core/api/apiServer';
import type { ApiServer } from '../../src/core/api/apiServer';
import type { ApiBackend } from '../../src/core/api/protocol';
import { MAX_REQUEST_LINE_BYTES } from '../../src/core/api/protocol';
import { defaultSocketPath } from '../../src/core/api/socketPath';
import { LabelStore } from '../../src/core/labels/labelStore';
import { MemoryLogger } from '../../src/core/log';
import type { MonitorSnapshot } from '../../src/core/model/model';
import { presentTree } from '../../src/core/present/tree';
import { incidentMessage } from '../../src/core/present/attention';
import { toLegacyState } from '../../src/core/legacy/stateFile';
import { renderTable } from '../../src/cli/table';
import { makeInstance, makeSession, makeSnapshot } from '../fixtures/legacy/snapshots';

const roots: string[] = [];
const servers: ApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-api-'));
  fs.chmodSync(dir, 0o700);
  roots.push(dir);
  return dir;
}

/** Many sessions with long titles: a `list` answer of about 1 MB, to fill a client that does not read. */
function bigSnapshot(): MonitorSnapshot {
  const sessions = Array.from({ length: 2_000 }, (_, i) => makeSession({ id: `ses_${String(i).padStart(6, '0')}`, title: 'x'.repeat(400) }));
  return makeSnapshot([makeInstance()], sessions);
}

function backendOf(snapshot: () => MonitorSnapshot, labels?: LabelStore): ApiBackend {
  return {
    snapshot,
    setLabel: (id, text) => (labels ? labels.set(id, text) : Promise.resolve(text || undefined)),
    focus: async () => ({ where: 'none', reason: 'test' }),
    stop: async () => undefined,
  };
}

async function start(socketPath: string, backend: ApiBackend, logger = new MemoryLogger()): Promise<ApiServer> {
  const server = await startApiServer({ socketPath, backend, logger });
  servers.push(server);
  return server;
}

/** Writes raw bytes, collects what comes back until the server closes or `ms` pass. */
function raw(socketPath: string, payload: string | Buffer, ms = 2_000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    let text = '';
    let closed = false;
    socket.on('data', (d) => (text += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve({ text, closed });
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed });
    }, ms);
    socket.on('connect', () => socket.write(payload));
  });
}

describe('local API socket: hostile clients', { timeout: 60_000 }, () => {
  it('socket 0600 in a 0700 folder; garbage gets JSON errors on the same connection', async () => {
    const dir = path.join(tempDir(), 'run');
    const socketPath = path.join(dir, 'api.sock');
    const server = await startApiServer({ socketPath, backend: backendOf(() => makeSnapshot([makeInstance()], [makeSession()])), logger: new MemoryLogger(), ownFolder: true });
    servers.push(server);
    assert.equal((fs.statSync(dir).mode & 0o777).toString(8), '700');
    assert.ok(fs.lstatSync(socketPath).isSocket());
    assert.equal((fs.lstatSync(socketPath).mode & 0o777).toString(8), '600');
    const { text } = await raw(socketPath, 'garbage\n{"cmd":\n\u0000\u0001\xff\n[]\n{"id":9,"cmd":"list"}\n', 800);
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { ok: boolean; id?: number; error?: { code: string } });
    assert.deepEqual(lines.map((l) => l.error?.code ?? 'ok'), ['bad_json', 'bad_json', 'bad_json', 'bad_request', 'ok']);
    assert.equal(lines[4]!.id, 9);
  });

  it('a giant line: error line_too_long, connection closed, memory bounded, others served', async () => {
    const socketPath = path.join(tempDir(), 'api.sock');
    await start(socketPath, backendOf(() => makeSnapshot([makeInstance()], [makeSession()])));
    const heapBefore = process.memoryUsage().heapUsed;
    const giant = Buffer.alloc(20 * 1024 * 1024, 0x61); // 20 MB without a newline
    const { text, closed } = await raw(socketPath, giant, 5_000);
    assert.equal(closed, true, 'the server closes the connection');
    assert.equal((JSON.parse(text.trim().split('\n')[0]!) as { error: { code: string } }).error.code, 'line_too_long');
    const grown = process.memoryUsage().heapUsed - heapBefore;
    console.log(`# 20 MB line without newline: closed, heap +${(grown / 1e6).toFixed(1)} MB (limit ${MAX_REQUEST_LINE_BYTES} bytes per line)`);
    const ok = await apiRequest(socketPath, { cmd: 'list' });
    assert.equal(ok.ok, true);
  });

  it('a client that never reads its answers is dropped; the daemon keeps answering others', async () => {
    const socketPath = path.join(tempDir(), 'api.sock');
    const logger = new MemoryLogger();
    const big = bigSnapshot();
    const server = await start(socketPath, backendOf(() => big), logger);
    const slow = net.connect(socketPath);
    slow.on('error', () => undefined);
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true));
    await new Promise((r) => slow.once('connect', r));
    slow.pause(); // never reads
    for (let i = 0; i < 20; i++) slow.write('{"cmd":"list"}\n');
    const t0 = Date.now();
    // Meanwhile another client is answered promptly.
    const answer = await apiRequest(socketPath, { cmd: 'list' }, 10_000);
    assert.equal(answer.ok, true);
    const deadline = Date.now() + 10_000;
    const droppedLogged = () => logger.records.some((r) => r.message.includes('does not read its answers'));
    while ((!droppedLogged() || server.clients() > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(droppedLogged(), JSON.stringify(logger.records.map((r) => r.message)));
    assert.equal(server.clients(), 0, 'the non-reading client was dropped on the server side');
    // Once it reads again it finds the connection closed.
    slow.resume();
    while (!slowClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(slowClosed, true);
    console.log(`# non-reading client dropped after ${Date.now() - t0} ms; another client answered meanwhile; clients now ${server.clients()}`);
  });

  it('too many requests in flight from one client: dropped', async () => {
    const socketPath = path.join(tempDir(), 'api.sock');
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    const backend = backendOf(() => makeSnapshot([], []));
    backend.focus = async () => {
      await gate;
      return { where: 'none', reason: 'slow' };
    };
    const logger = new MemoryLogger();
    await start(socketPath, backend, logger);
    const { closed } = await raw(socketPath, '{"cmd":"list"}\n'.repeat(1) + '{"cmd":"focus","query":"x"}\n'.repeat(100), 2_000);
    release();
    assert.equal(closed, true);
  });
});

describe('local API socket: the socket path', { timeout: 30_000 }, () => {
  const backend = backendOf(() => makeSnapshot([], []));

  it('default path: $XDG_RUNTIME_DIR, else a per-uid folder', () => {
    assert.equal(defaultSocketPath({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/opencode-monitor/api.sock');
    assert.equal(defaultSocketPath({}, 1000, '/tmp'), '/tmp/opencode-monitor-1000/api.sock');
  });

  it('a stale socket of ours (no one answers) is replaced', async () => {
    const socketPath = path.join(tempDir(), 'api.sock');
    const first = await start(socketPath, backend);
    // Simulate a crashed daemon: the socket file stays, nobody listens.
    const st = fs.lstatSync(socketPath);
    // Close the listener but keep the file (what SIGKILL leaves).
    fs.renameSync(socketPath, `${socketPath}.keep`);
    await first.close();
    fs.renameSync(`${socketPath}.keep`, socketPath);
    assert.ok(fs.lstatSync(socketPath).isSocket() && fs.lstatSync(socketPath).ino === st.ino);
    const logger = new MemoryLogger();
    await start(socketPath, backend, logger);
    assert.ok(logger.records.some((r) => r.message.includes('replaced a stale socket')));
    assert.equal((await apiRequest(socketPath, { cmd: 'list' })).ok, true);
  });

  it('a live daemon is never replaced', async () => {
    const socketPath = path.join(tempDir(), 'api.sock');
    await start(socketPath, backend);
    await assert.rejects(startApiServer({ socketPath, backend, logger: new MemoryLogger() }), /already answers/);
    assert.equal((await apiRequest(socketPath, { cmd: 'list' })).ok, true);
  });

  it('a symlink, a regular file, or a folder symlink at the path: refused, untouched', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'target');
    fs.writeFileSync(target, 'keep');
    const link = path.join(dir, 'link.sock');
    fs.symlinkSync(target, link);
    await assert.rejects(startApiServer({ socketPath: link, backend, logger: new MemoryLogger() }), /symbolic link/);
    assert.equal(fs.readFileSync(target, 'utf8'), 'keep');
    assert.ok(fs.lstatSync(link).isSymbolicLink());
    const file = path.join(dir, 'file.sock');
    fs.writeFileSync(file, 'data');
    await assert.rejects(startApiServer({ socketPath: file, backend, logger: new MemoryLogger() }), /not a socket/);
    assert.equal(fs.readFileSync(file, 'utf8'), 'data');
    const realDir = path.join(dir, 'real');
    fs.mkdirSync(realDir, { mode: 0o700 });
    const dirLink = path.join(dir, 'dirlink');
    fs.symlinkSync(realDir, dirLink);
    await assert.rejects(startApiServer({ socketPath: path.join(dirLink, 'api.sock'), backend, logger: new MemoryLogger() }), /symbolic link/);
    assert.deepEqual(fs.readdirSync(realDir), []);
  });

  it("another user's socket or folder: refused, untouched", { skip: process.getuid?.() !== 0 ? 'needs root to create files of another user' : false }, async () => {
    const dir = tempDir();
    const socketPath = path.join(dir, 'api.sock');
    const foreign = net.createServer();
    await new Promise<void>((r) => foreign.listen(socketPath, r));
    fs.renameSync(socketPath, `${socketPath}.x`);
    await new Promise<void>((r) => foreign.close(() => r()));
    fs.renameSync(`${socketPath}.x`, socketPath);
    fs.lchownSync(socketPath, 65534, 65534);
    await assert.rejects(startApiServer({ socketPath, backend, logger: new MemoryLogger() }), /belongs to another user/);
    assert.equal(fs.lstatSync(socketPath).uid, 65534, 'left in place');
    const foreignDir = path.join(dir, 'theirs');
    fs.mkdirSync(foreignDir, { mode: 0o755 });
    fs.chownSync(foreignDir, 65534, 65534);
    await assert.rejects(startApiServer({ socketPath: path.join(foreignDir, 'api.sock'), backend, logger: new MemoryLogger() }), /belongs to another user/);
    const shared = path.join(dir, 'shared');
    fs.mkdirSync(shared);
    fs.chmodSync(shared, 0o777);
    await assert.rejects(startApiServer({ socketPath: path.join(shared, 'api.sock'), backend, logger: new MemoryLogger() }), /writable by other users/);
  });
});

describe('local API: hostile label text', { timeout: 30_000 }, () => {
  it('escape sequences and command links are neutralised before any view shows them', async () => {
    const dir = tempDir();
    const labels = new LabelStore({ file: path.join(dir, 'labels.json'), logger: new MemoryLogger(), watch: false }).start();
    const snap = () => {
      const base = makeSnapshot([makeInstance()], [makeSession({ id: 'ses_evil', needsAttention: true, attentionReason: 'heuristic', waitingSince: Date.now() })]);
      return { ...base, sessions: base.sessions.map((s) => ({ ...s, ...(labels.get(s.id) ? { label: labels.get(s.id) } : {}) })) };
    };
    const socketPath = path.join(dir, 'api.sock');
    await start(socketPath, backendOf(snap, labels));
    const hostile = '\x1b]0;pwned\x07\x1b[2J[open](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22rm%22%7D) $(alert)\u202e\r\nx';
    const r = await apiRequest(socketPath, { cmd: 'label', session: 'ses_evil', text: hostile });
    assert.equal(r.ok, true);
    const label = r.label as string;
    assert.ok(!/[\x00-\x1f\x7f-\x9f\u202e]/.test(label), JSON.stringify(label));
    assert.ok(!label.includes('](command:'), label);
    assert.ok(!label.includes('$('), label);
    const s = snap();
    // Tree (label, description, tooltip), notification text, legacy file, terminal table.
    const tree = presentTree(s, Date.now());
    const row = tree.nodes.get('session:ses_evil')!;
    for (const text of [row.label, row.tooltip, incidentMessage({ kind: 'needsYou', session: s.sessions[0]! }), JSON.stringify(toLegacyState(s, 0)), renderTable(s, { now: Date.now(), width: 200, color: false })]) {
      assert.ok(!text.includes('\x1b'), JSON.stringify(text));
      assert.ok(!text.includes('](command:'), text);
    }
    labels.dispose();
  });
});
