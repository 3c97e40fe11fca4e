import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { LinuxProcessScanner } from '../../../src/core/discovery/linuxScanner';
import { decodeHexAddress, decodeTtyNr, listenSockets, parseCmdline, parseEnviron, parseProcNetTcp, pastListeners, socketInode, tcpSocketsInUse } from '../../../src/core/discovery/procParsers';
import { isKernelThread, parseProcStat, parseStatHead } from '../../../src/core/os/procStat';
import { ManualTime, fixture } from './helpers';

test('parseProcStat: real lines, and a comm with spaces and parentheses', () => {
  const serve = parseProcStat(fixture('linux/stat-serve.txt'));
  assert.deepEqual(serve, { pid: 13236, comm: 'opencode', state: 'S', ppid: 1, pgrp: 13236, session: 13236, ttyNr: 0, startTicks: 106077 });
  const serveHead = parseStatHead(fixture('linux/stat-serve.txt'));
  assert.deepEqual(serveHead, { comm: 'opencode', flags: 4194304 });
  assert.equal(isKernelThread(serveHead!), false);
  // kthreadd on this project's test machine (PF_KTHREAD set in field 9).
  const kthreadd = parseStatHead('2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 2 0 0 20 0 1 0 24 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n');
  assert.equal(isKernelThread(kthreadd!), true);
  assert.deepEqual(parseStatHead('4242 (my (odd) ) proc) R 7 4242 4242 34817 4242 4194304 1 0'), { comm: 'my (odd) ) proc', flags: 4194304 });
  assert.equal(parseStatHead('1 (a) S 1 2 3'), undefined, 'a line cut before field 9');
  const tui = parseProcStat(fixture('linux/stat-tui-pts0.txt'));
  assert.equal(tui?.ttyNr, 34816);
  assert.equal(tui?.ppid, 12785);
  assert.equal(tui?.startTicks, 101853);
  const odd = parseProcStat('4242 (my (odd) ) proc) R 7 4242 4242 34817 4242 4194304 1 0 0 0 0 0 0 0 20 0 1 0 555 0 0\n');
  assert.equal(odd?.comm, 'my (odd) ) proc');
  assert.equal(odd?.state, 'R');
  assert.equal(odd?.ppid, 7);
  assert.equal(odd?.ttyNr, 34817);
  assert.equal(odd?.startTicks, 555);
  assert.equal(parseProcStat(''), undefined);
  assert.equal(parseProcStat('12 (x'), undefined);
});

test('decodeTtyNr: pts (incl. extended minors), virtual consoles, serial, none', () => {
  const dev = (major: number, minor: number): number => (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
  assert.equal(decodeTtyNr(34816), 'pts/0');
  assert.equal(decodeTtyNr(dev(136, 3)), 'pts/3');
  assert.equal(decodeTtyNr(dev(136, 300)), 'pts/300');
  assert.equal(decodeTtyNr(dev(137, 4)), 'pts/260');
  assert.equal(decodeTtyNr(dev(4, 1)), 'tty1');
  assert.equal(decodeTtyNr(dev(4, 64)), 'ttyS0');
  assert.equal(decodeTtyNr(dev(5, 1)), 'console');
  assert.equal(decodeTtyNr(0), undefined);
  assert.equal(decodeTtyNr(-1), undefined);
  assert.equal(decodeTtyNr(dev(204, 64)), undefined);
});

test('parseProcNetTcp: captured IPv4 table (LISTEN, ESTABLISHED, TIME_WAIT rows)', () => {
  const rows = parseProcNetTcp(fixture('linux/proc-net-tcp.txt'), true);
  assert.equal(rows.length, 12);
  const opencode = rows.find((r) => r.inode === 53410);
  assert.deepEqual(opencode, { address: '127.0.0.1', port: 4096, state: '0A', uid: 0, inode: 53410 });
  assert.deepEqual(
    rows.filter((r) => r.state === '0A').map((r) => `${r.address}:${r.port}`),
    ['127.0.0.1:39037', '127.0.0.1:40277', '127.0.0.1:4096', '0.0.0.0:2024', '127.0.0.1:44175', '0.0.0.0:46547'],
  );
  assert.equal(rows.filter((r) => r.state === '06').every((r) => r.inode === 0), true);
});

test('parseProcNetTcp: captured IPv6 table with ::1, :: and IPv4-mapped listeners', () => {
  const rows = parseProcNetTcp(fixture('linux/proc-net-tcp6.txt'), true);
  assert.deepEqual(
    rows.map((r) => `${r.address}|${r.port}|${r.state}`),
    ['::ffff:127.0.0.1|38535|0A', '::1|44021|0A', '::|44295|0A'],
  );
  const sockets = listenSockets([fixture('linux/proc-net-tcp.txt'), fixture('linux/proc-net-tcp6.txt')], true);
  assert.equal(sockets.size, 9);
  assert.deepEqual(sockets.get(53410), { address: '127.0.0.1', port: 4096 });
  assert.deepEqual(sockets.get(53319), { address: '::ffff:127.0.0.1', port: 38535 });
  // ESTABLISHED rows are not listeners.
  assert.equal(sockets.has(53525), false);
});

test('decodeHexAddress: byte order and IPv6 zero compression', () => {
  assert.equal(decodeHexAddress('0100007F', true), '127.0.0.1');
  assert.equal(decodeHexAddress('7F000001', false), '127.0.0.1');
  assert.equal(decodeHexAddress('00000000', true), '0.0.0.0');
  assert.equal(decodeHexAddress('000080FE000000000000000001000000', true), 'fe80::1');
  assert.equal(decodeHexAddress('FE800000000000000000000000000001', false), 'fe80::1');
  // 2001:db8:0:0:1:0:0:1 → the first of two equal zero runs is compressed.
  assert.equal(decodeHexAddress('B80D0120000000000000010001000000', true), '2001:db8::1:0:0:1');
  assert.equal(decodeHexAddress('20010DB8000000000001000000000001', false), '2001:db8::1:0:0:1');
  assert.equal(decodeHexAddress('20010DB8000100020003000400050006', false), '2001:db8:1:2:3:4:5:6');
  assert.equal(decodeHexAddress('zz', true), undefined);
  assert.equal(decodeHexAddress('0100007', true), undefined);
});

test('small parsers: environ keeps only the keys discovery needs; cmdline; socket links', () => {
  const env = parseEnviron('PWD=/p\0OPENCODE_PID=27743\0HOME=/home/dev/lab/home\0OPENCODE=1\0SECRET_TOKEN=x\0XDG_DATA_HOME=/d\0=odd\0');
  assert.deepEqual(env, { OPENCODE_PID: '27743', HOME: '/home/dev/lab/home', XDG_DATA_HOME: '/d' });
  assert.deepEqual(parseCmdline('opencode\0serve\0--port\0\0'), ['opencode', 'serve', '--port', '']);
  assert.deepEqual(parseCmdline(''), []);
  assert.equal(socketInode('socket:[53410]'), 53410);
  assert.equal(socketInode('pipe:[52177]'), undefined);
  assert.equal(socketInode('/tmp/x'), undefined);
});

// ── A fake /proc tree: real file contents, the scanner's full logic, no real processes ──────────

const BTIME = 1_763_370_000;

interface FakeProc {
  comm: string;
  stat: string;
  cmdline?: string[];
  environ?: Record<string, string>;
  cwd?: string;
  fds?: Record<string, string>;
}

class FakeProcRoot {
  readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-proc-'));
  constructor() {
    fs.mkdirSync(path.join(this.root, 'net'));
    fs.writeFileSync(path.join(this.root, 'stat'), `cpu  1 2 3\nbtime ${BTIME}\nprocesses 100\n`);
    fs.writeFileSync(path.join(this.root, 'net/tcp'), fixture('linux/proc-net-tcp.txt'));
    fs.writeFileSync(path.join(this.root, 'net/tcp6'), fixture('linux/proc-net-tcp6.txt'));
    fs.symlinkSync('4242', path.join(this.root, 'self'));
  }
  add(pid: number, p: FakeProc): void {
    const dir = path.join(this.root, String(pid));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(path.join(dir, 'fd'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'comm'), `${p.comm}\n`);
    fs.writeFileSync(path.join(dir, 'stat'), p.stat);
    if (p.cmdline) fs.writeFileSync(path.join(dir, 'cmdline'), p.cmdline.map((a) => `${a}\0`).join(''));
    const env = Object.entries(p.environ ?? {}).map(([k, v]) => `${k}=${v}\0`).join('');
    fs.writeFileSync(path.join(dir, 'environ'), env);
    if (p.cwd) fs.symlinkSync(p.cwd, path.join(dir, 'cwd'));
    for (const [fd, target] of Object.entries(p.fds ?? {})) fs.symlinkSync(target, path.join(dir, 'fd', fd));
  }
  setFd(pid: number, fd: string, target: string | undefined): void {
    const file = path.join(this.root, String(pid), 'fd', fd);
    fs.rmSync(file, { force: true });
    if (target !== undefined) fs.symlinkSync(target, file);
  }
  remove(pid: number): void {
    fs.rmSync(path.join(this.root, String(pid)), { recursive: true, force: true });
  }
  dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}

const stat = (pid: number, comm: string, state: string, ppid: number, ttyNr: number, startTicks: number): string =>
  `${pid} (${comm}) ${state} ${ppid} ${pid} ${pid} ${ttyNr} -1 4194304 0 0 0 0 0 0 0 0 20 0 7 0 ${startTicks} 76044500992 78747 0\n`;

const LAB_ENV = { PWD: '/home/dev/lab/projects/alpha', HOME: '/home/dev/lab/home', TERM: 'xterm', OPENCODE_DISABLE_AUTOUPDATE: '1' };

function labTree(): FakeProcRoot {
  const proc = new FakeProcRoot();
  proc.add(27743, {
    comm: 'opencode',
    stat: stat(27743, 'opencode', 'S', 1, 0, 106077),
    cmdline: ['/home/dev/node_modules/opencode-linux-x64/bin/opencode', 'serve', '--port', '4096', '--print-logs'],
    environ: LAB_ENV,
    cwd: '/home/dev/lab/projects/alpha',
    fds: {
      '0': '/dev/null',
      '14': '/home/dev/lab/home/.local/share/opencode/opencode.db',
      '18': 'socket:[53410]',
      '19': 'socket:[99999]',
      '251': 'pipe:[52177]',
    },
  });
  proc.add(29176, {
    comm: 'opencode',
    stat: fixture('linux/stat-tui-pts0.txt').replace(/^12786/, '29176'),
    cmdline: ['/home/dev/node_modules/.bin/opencode'],
    environ: { ...LAB_ENV, XDG_DATA_HOME: '/srv/data', TMUX: '/tmp/tmux-0/opencode-lab,29175,0' },
    cwd: '/home/dev/lab/projects/beta',
  });
  // The bash tool's `sleep` child: never even stat'ed (comm filter).
  proc.add(29815, { comm: 'sleep', stat: stat(29815, 'sleep', 'S', 29176, 0, 2000), cmdline: ['sleep', '90'], environ: { OPENCODE_PID: '29176' } });
  // `opencode serve` started by the agent of 27743 through its bash tool.
  proc.add(30000, {
    comm: 'opencode',
    stat: stat(30000, 'opencode', 'S', 27743, 0, 3000),
    cmdline: ['opencode', 'serve', '--port', '5000'],
    environ: { ...LAB_ENV, OPENCODE: '1', OPENCODE_PID: '27743' },
    cwd: '/home/dev/lab/projects/alpha',
  });
  proc.add(30001, { comm: 'opencode', stat: stat(30001, 'opencode', 'Z', 1, 0, 3001), cmdline: [] });
  proc.add(30002, { comm: 'my (odd) proc', stat: stat(30002, 'my (odd) proc', 'S', 1, 0, 3002), cmdline: ['odd'] });
  // Vanished between readdir and its reads: only comm is left.
  proc.add(30003, { comm: 'opencode', stat: '' });
  fs.rmSync(path.join(proc.root, '30003', 'stat'));
  proc.add(30004, { comm: 'opencode', stat: stat(30004, 'opencode', 'S', 1, 0, 3004), cmdline: ['opencode', 'models'] });
  return proc;
}

test('scanner on a fake /proc: servers, TUIs, tool children, zombies and vanished pids', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const scanner = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true });
  const found = scanner.scanSync();
  assert.deepEqual(found, [
    {
      pid: 27743,
      ppid: 1,
      args: ['/home/dev/node_modules/opencode-linux-x64/bin/opencode', 'serve', '--port', '4096', '--print-logs'],
      kind: 'serve',
      ports: [4096],
      listeners: [{ address: '127.0.0.1', port: 4096 }],
      cwd: '/home/dev/lab/projects/alpha',
      home: '/home/dev/lab/home',
      dataDir: '/home/dev/lab/home/.local/share/opencode',
      startTime: BTIME * 1000 + 1_060_770,
    },
    {
      pid: 29176,
      ppid: 12785,
      args: ['/home/dev/node_modules/.bin/opencode'],
      kind: 'tui',
      ports: [],
      listeners: [],
      tty: 'pts/0',
      cwd: '/home/dev/lab/projects/beta',
      home: '/home/dev/lab/home',
      dataDir: '/srv/data/opencode',
      startTime: BTIME * 1000 + 1_018_530,
    },
  ]);
  assert.equal(scanner.tableReads, 1);
});

test('scanner: only the given uid', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const other = (process.getuid?.() ?? 0) + 1;
  assert.deepEqual(new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true, uid: other }).scanSync(), []);
});

test('scanner: TCP tables read only when due; listeners re-checked by one readlink', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const time = new ManualTime();
  const scanner = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true, now: time.now, tableRefreshMs: 10_000, portWaitMs: 3_000 });
  const ports = (): Record<number, number[]> => Object.fromEntries(scanner.scanSync().map((p) => [p.pid, p.ports]));
  assert.deepEqual(ports(), { 27743: [4096], 29176: [] });
  assert.equal(scanner.tableReads, 1);

  // Settled: no table read, even with the tables gone.
  fs.writeFileSync(path.join(proc.root, 'net/tcp'), '');
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [4096], 29176: [] });
  assert.equal(scanner.tableReads, 1);

  // The listening fd closes: the port goes at once, still without a table read.
  proc.setFd(27743, '18', undefined);
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [], 29176: [] });
  assert.equal(scanner.tableReads, 1);

  // A new server process: tables are read every scan until its port shows up (27743, now
  // port-less, stopped counting as "waiting" after portWaitMs).
  fs.writeFileSync(path.join(proc.root, 'net/tcp'), fixture('linux/proc-net-tcp.txt'));
  proc.add(31000, {
    comm: 'opencode',
    stat: stat(31000, 'opencode', 'S', 1, 0, 9000),
    cmdline: ['opencode', 'serve', '--port', '0'],
    environ: LAB_ENV,
    cwd: '/home/dev/lab/projects/gamma',
    fds: { '5': 'socket:[777]' },
  });
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [], 29176: [], 31000: [] });
  assert.equal(scanner.tableReads, 2);
  time.advance(1_000);
  ports();
  assert.equal(scanner.tableReads, 3);
  proc.setFd(31000, '6', 'socket:[53320]');
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [], 29176: [], 31000: [46547] });
  assert.equal(scanner.tableReads, 4);
  time.advance(1_000);
  ports();
  assert.equal(scanner.tableReads, 4);

  // The period catches a port opened late by a long-running process.
  proc.setFd(29176, '30', 'socket:[53319]');
  time.advance(1_000);
  assert.deepEqual(ports()[29176], []);
  time.advance(10_000);
  assert.deepEqual(ports()[29176], [38535]);
  assert.equal(scanner.tableReads, 5);
});

test('pastListeners / tcpSocketsInUse: where the LISTEN rows of a tcp table end; sockets in use', () => {
  const table = fixture('linux/proc-net-tcp.txt');
  const { stop } = pastListeners(table, 0);
  assert.ok(stop !== undefined);
  const head = table.slice(0, stop);
  assert.deepEqual(parseProcNetTcp(head, true).map((r) => r.state), ['0A', '0A', '0A', '0A', '0A', '0A']);
  assert.deepEqual([...listenSockets([head], true)], [...listenSockets([table], true)]);
  // Only complete lines count; a table of listeners only never stops (read to its end).
  const partial = table.slice(0, table.indexOf(' 01 ') + 3);
  assert.equal(pastListeners(partial, 0).stop, undefined);
  assert.equal(pastListeners(head, 0).stop, undefined);
  // Open requests (SYN_RECV) listed among the listeners by old kernels do not stop it.
  const old = head + '   9: 0100007F:1F90 0100007F:A000 03 00000000:00000000 00:00000000 00000000  1000        0 0 1 0000000000000000\n' + table.slice(stop!);
  assert.equal(pastListeners(old, 0).stop, head.length + old.slice(head.length).indexOf('\n') + 1);
  assert.equal(tcpSocketsInUse('TCP6: inuse 0\nUDP6: inuse 0\n'), 0);
  assert.equal(tcpSocketsInUse('sockets: used 69\nTCP: inuse 17 orphan 0 tw 265 alloc 17 mem 0\n'), 17);
  assert.equal(tcpSocketsInUse(undefined), undefined);
  assert.equal(tcpSocketsInUse('garbage'), undefined);
});

test('scanner: a family with no TCP socket in use (sockstat) has its table skipped', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  // The IPv6 table lists 29176's port; sockstat6 says no IPv6 socket exists: not read.
  proc.setFd(29176, '30', 'socket:[53319]');
  fs.writeFileSync(path.join(proc.root, 'net/sockstat6'), 'TCP6: inuse 0\nUDP6: inuse 0\n');
  fs.writeFileSync(path.join(proc.root, 'net/tcp6'), fs.readFileSync(path.join(proc.root, 'net/tcp')));
  fs.writeFileSync(path.join(proc.root, 'net/tcp'), '  sl  local_address rem_address   st\n');
  assert.deepEqual(Object.fromEntries(new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true }).scanSync().map((p) => [p.pid, p.ports])), { 27743: [], 29176: [] });
  fs.writeFileSync(path.join(proc.root, 'net/sockstat6'), 'TCP6: inuse 3\nUDP6: inuse 0\n');
  const ports = Object.fromEntries(new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true }).scanSync().map((p) => [p.pid, p.ports]));
  assert.deepEqual(ports[27743], [4096]);
});

test('scanner: a reused pid is re-read (start time differs); a gone pid is forgotten', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const scanner = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true });
  assert.equal(scanner.scanSync().find((p) => p.pid === 29176)?.kind, 'tui');
  proc.add(29176, {
    comm: 'opencode',
    stat: stat(29176, 'opencode', 'S', 1, 0, 999_999),
    cmdline: ['opencode', 'web'],
    environ: LAB_ENV,
    cwd: '/x',
  });
  const reused = scanner.scanSync().find((p) => p.pid === 29176);
  assert.equal(reused?.kind, 'web');
  assert.equal(reused?.startTime, BTIME * 1000 + 9_999_990);
  proc.remove(29176);
  assert.deepEqual(scanner.scanSync().map((p) => p.pid), [27743]);
});

test('scanner: settled OpenCode processes get a full look every inspectEvery scans; a new, gone or reused pid at once', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const time = new ManualTime();
  const scanner = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true, now: time.now, inspectEvery: 3 });
  const ports = (): Record<number, number[]> => Object.fromEntries(scanner.scanSync().map((p) => [p.pid, p.ports]));
  assert.deepEqual(ports(), { 27743: [4096], 29176: [] });
  // Young processes (and a server waiting for its port) get a full look every scan.
  proc.setFd(27743, '18', undefined);
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [], 29176: [] });
  proc.setFd(27743, '18', 'socket:[53410]');
  time.advance(200_000);
  assert.deepEqual(ports(), { 27743: [4096], 29176: [] });
  // Settled: a closed port shows at the next full look (the third scan), not before.
  proc.setFd(27743, '18', undefined);
  proc.add(31001, { comm: 'bash', stat: stat(31001, 'bash', 'S', 1, 0, 9100), cmdline: ['bash'] });
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [4096], 29176: [] });
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [4096], 29176: [] });
  time.advance(1_000);
  assert.deepEqual(ports(), { 27743: [], 29176: [] });
  // A reused pid (other start time) and a new OpenCode pid are seen on the very next scan.
  time.advance(1_000);
  ports();
  proc.add(29176, { comm: 'opencode', stat: stat(29176, 'opencode', 'S', 1, 0, 999_999), cmdline: ['opencode', 'web'], environ: LAB_ENV, cwd: '/x' });
  time.advance(1_000);
  assert.equal(scanner.scanSync().find((p) => p.pid === 29176)?.kind, 'web');
  time.advance(200_000);
  scanner.scanSync();
  proc.add(31002, { comm: 'opencode', stat: stat(31002, 'opencode', 'S', 1, 0, 9200), cmdline: ['opencode'], environ: LAB_ENV, cwd: '/y' });
  time.advance(1_000);
  assert.ok(scanner.scanSync().some((p) => p.pid === 31002));
  proc.remove(31002);
  time.advance(1_000);
  assert.ok(!scanner.scanSync().some((p) => p.pid === 31002));
});

test('scanner: an unreadable proc root rejects (the loop logs it), a missing piece does not', async (t) => {
  await assert.rejects(new LinuxProcessScanner({ procRoot: '/nonexistent/proc' }).scan());
  const proc = labTree();
  t.after(() => proc.dispose());
  fs.rmSync(path.join(proc.root, 'net'), { recursive: true });
  fs.rmSync(path.join(proc.root, 'stat'));
  const found = await new LinuxProcessScanner({ procRoot: proc.root }).scan();
  assert.deepEqual(found.map((p) => [p.pid, p.ports, p.startTime]), [
    [27743, [], undefined],
    [29176, [], undefined],
  ]);
});

test('scanner: a kernel thread is never reported, and read again only every recheckEvery × 12 scans (pid reuse)', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const kthread = (pid: number, comm: string, startTicks: number) => `${pid} (${comm}) S 2 0 0 0 -1 2129984 0 0 0 0 0 2 0 0 20 0 1 0 ${startTicks} 0 0\n`;
  // A kernel thread may bear any name, `opencode` too: it is not a program of ours.
  proc.add(31001, { comm: 'opencode', stat: kthread(31001, 'opencode', 60) });
  proc.add(31000, { comm: 'kworker/0:1', stat: kthread(31000, 'kworker/0:1', 50) });
  const scanner = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true, recheckEvery: 5 });
  assert.ok(!scanner.scanSync().some((p) => p.pid === 31001 || p.pid === 31000));
  // The kernel thread ends and its pid is reused by a user's OpenCode between two scans.
  proc.add(31000, { comm: 'opencode', stat: stat(31000, 'opencode', 'S', 1, 0, 9000), cmdline: ['opencode', 'serve', '--port', '5100'], environ: LAB_ENV, cwd: '/k' });
  let scans = 0;
  while (!scanner.scanSync().some((p) => p.pid === 31000)) {
    scans++;
    assert.ok(scans < 60, 'not seen within recheckEvery × 12 scans');
  }
  assert.ok(scans >= 5, `seen after ${scans} scans: a kernel thread's pid is not read as often as other pids`);
  assert.ok(!scanner.scanSync().some((p) => p.pid === 31001));
  // A pid that is gone is forgotten: a new process under it is read at once.
  proc.remove(31001);
  scanner.scanSync();
  proc.add(31001, { comm: 'opencode', stat: stat(31001, 'opencode', 'S', 1, 0, 9100), cmdline: ['opencode', 'serve', '--port', '5101'], environ: LAB_ENV, cwd: '/k' });
  assert.ok(scanner.scanSync().some((p) => p.pid === 31001));
});

test('scanner: new pids are read at once; a known non-OpenCode pid that execs OpenCode is seen within recheckEvery scans', (t) => {
  const proc = labTree();
  t.after(() => proc.dispose());
  const scanner = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true, recheckEvery: 5 });
  scanner.scanSync();
  proc.add(40000, { comm: 'opencode', stat: stat(40000, 'opencode', 'S', 1, 0, 4000), cmdline: ['opencode'], environ: LAB_ENV, cwd: '/n' });
  assert.ok(scanner.scanSync().some((p) => p.pid === 40000), 'a new pid is found on the next scan');
  // 30002 was `my (odd) proc`; it execs OpenCode (same pid, same start time).
  proc.add(30002, { comm: 'opencode', stat: stat(30002, 'opencode', 'S', 1, 0, 3002), cmdline: ['opencode', 'web'], environ: LAB_ENV, cwd: '/w' });
  let scans = 0;
  while (!scanner.scanSync().some((p) => p.pid === 30002)) {
    scans++;
    assert.ok(scans < 5, 'not seen within 5 scans');
  }
  // recheckEvery 1: every pid every scan.
  proc.add(30002, { comm: 'bash', stat: stat(30002, 'bash', 'S', 1, 0, 3002), cmdline: ['bash'] });
  const every = new LinuxProcessScanner({ procRoot: proc.root, littleEndian: true, recheckEvery: 1 });
  assert.ok(!every.scanSync().some((p) => p.pid === 30002));
  proc.add(30002, { comm: 'opencode', stat: stat(30002, 'opencode', 'S', 1, 0, 3002), cmdline: ['opencode', 'web'], environ: LAB_ENV, cwd: '/w' });
  assert.ok(every.scanSync().some((p) => p.pid === 30002));
});
