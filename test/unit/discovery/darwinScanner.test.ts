import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  DarwinProcessScanner,
  PS_ARGS,
  parseLsofCwd,
  parseLsofListen,
  parsePsEnv,
  parsePsOutput,
  splitPsCommand,
} from '../../../src/core/discovery/darwinScanner';
import { MemoryLogger } from '../../../src/core/log';
import { ManualTime, fakeRunner, fixture } from './helpers';

test('parsePsOutput: columns, `??` as no tty, lstart as local time, space-padded day', () => {
  const rows = parsePsOutput(fixture('darwin/ps.txt'));
  assert.equal(rows.length, 15);
  assert.deepEqual(rows[0], { pid: 1, ppid: 0, uid: 0, startTime: new Date(2025, 10, 17, 9, 10, 2).getTime(), command: '/sbin/launchd' });
  const tui = rows.find((r) => r.pid === 4242);
  assert.deepEqual(tui, {
    pid: 4242,
    ppid: 4201,
    uid: 501,
    tty: 'ttys003',
    startTime: new Date(2025, 10, 18, 10, 1, 5).getTime(),
    command: '/Users/dev/.opencode/bin/opencode',
  });
  assert.equal(rows.find((r) => r.pid === 4440)?.startTime, new Date(2025, 10, 2, 8, 0, 0).getTime());
  assert.equal(rows.find((r) => r.pid === 4440)?.tty, undefined);
  assert.equal(rows.find((r) => r.pid === 4460)?.command.endsWith('Code Helper (Plugin) --type=utility'), true);
  assert.deepEqual(parsePsOutput('garbage\n\n  12 x\n'), []);
});

test('splitPsCommand: argv[0] with spaces ends at the OpenCode executable', () => {
  assert.deepEqual(splitPsCommand('/Users/dev/Application Support/tools/bin/opencode --port 0 /Users/dev/projects/gamma'), [
    '/Users/dev/Application Support/tools/bin/opencode',
    '--port',
    '0',
    '/Users/dev/projects/gamma',
  ]);
  assert.deepEqual(splitPsCommand('/Users/dev/opencode-tools/bin/opencode serve'), ['/Users/dev/opencode-tools/bin/opencode', 'serve']);
  assert.deepEqual(splitPsCommand('opencode'), ['opencode']);
  assert.deepEqual(splitPsCommand('/nix/store/x-opencode-1/bin/.opencode-wrapped web'), ['/nix/store/x-opencode-1/bin/.opencode-wrapped', 'web']);
  assert.deepEqual(splitPsCommand('node /opt/lib/opencode-ai/bin/opencode serve'), ['node', '/opt/lib/opencode-ai/bin/opencode', 'serve']);
  assert.deepEqual(splitPsCommand('grep --color=auto opencode'), ['grep', '--color=auto', 'opencode']);
  assert.deepEqual(splitPsCommand('vim /tmp/opencode'), ['vim', '/tmp/opencode']);
  assert.deepEqual(splitPsCommand('/usr/bin/vim /tmp/opencode'), ['/usr/bin/vim', '/tmp/opencode']);
  assert.deepEqual(splitPsCommand('/opt/homebrew/bin/node /opt/lib/opencode-ai/bin/opencode'), [
    '/opt/homebrew/bin/node',
    '/opt/lib/opencode-ai/bin/opencode',
  ]);
  assert.deepEqual(splitPsCommand('  '), []);
});

test('parseLsofListen: -F output with and without f lines, wildcard and IPv6 names', () => {
  const map = parseLsofListen(fixture('darwin/lsof-listen.txt'));
  assert.deepEqual(Object.fromEntries(map), {
    4301: [{ address: '127.0.0.1', port: 4096 }],
    4350: [
      { address: '*', port: 52341 },
      { address: '::1', port: 52342 },
    ],
    4410: [{ address: '127.0.0.1', port: 5055 }],
    4440: [{ address: '*', port: 4097 }],
  });
  const withFields = parseLsofListen('p77\ncopencode\nf17\nn127.0.0.1:4096\nTST=LISTEN\nf18\nn127.0.0.1:1->127.0.0.1:2\n');
  assert.deepEqual(Object.fromEntries(withFields), { 77: [{ address: '127.0.0.1', port: 4096 }] });
  assert.equal(parseLsofListen('').size, 0);
});

test('parseLsofCwd: first absolute name per pid; error names dropped', () => {
  assert.deepEqual(Object.fromEntries(parseLsofCwd(fixture('darwin/lsof-cwd.txt'))), {
    4242: '/Users/dev/projects/alpha',
    4301: '/Users/dev/projects/beta',
    4350: '/Users/dev/projects/gamma with space',
    4410: '/Users/dev/projects/beta',
  });
});

test('parsePsEnv: values with spaces, empty values, arguments skipped', () => {
  const commands = new Map(parsePsOutput(fixture('darwin/ps.txt')).map((r) => [r.pid, r.command]));
  const env = parsePsEnv(fixture('darwin/ps-env.txt'), commands);
  assert.deepEqual(Object.fromEntries(env), {
    4242: { HOME: '/Users/dev' },
    4301: { HOME: '/Users/dev', XDG_DATA_HOME: '/Users/dev/Library/Data Shared' },
    4350: { HOME: '/Users/dev/lab home', XDG_DATA_HOME: '' },
    4410: { OPENCODE_PID: '4301', HOME: '/Users/dev' },
    4440: {},
  });
});

function macRunner() {
  return fakeRunner((file, args) => {
    if (file === 'ps' && args[0] === '-axww') return { stdout: fixture('darwin/ps.txt') };
    if (file === 'ps' && args[0] === '-E') return { stdout: fixture('darwin/ps-env.txt') };
    if (file === 'lsof' && args.includes('cwd')) return { stdout: fixture('darwin/lsof-cwd.txt') };
    if (file === 'lsof' && args.includes('-sTCP:LISTEN')) return { stdout: fixture('darwin/lsof-listen.txt') };
    return new Error(`unexpected ${file} ${args.join(' ')}`);
  });
}

test('scanner: instances of uid 501 with tty, cwd, ports, data dir; wrappers, tool children and commands dropped', async () => {
  const run = macRunner();
  const time = new ManualTime();
  const scanner = new DarwinProcessScanner({ run, uid: 501, now: time.now });
  const found = await scanner.scan();
  assert.deepEqual(
    found.map((p) => ({ pid: p.pid, kind: p.kind, tty: p.tty, cwd: p.cwd, ports: p.ports, dataDir: p.dataDir })),
    [
      { pid: 4242, kind: 'tui', tty: 'ttys003', cwd: '/Users/dev/projects/alpha', ports: [], dataDir: '/Users/dev/.local/share/opencode' },
      { pid: 4301, kind: 'serve', tty: 'ttys004', cwd: '/Users/dev/projects/beta', ports: [4096], dataDir: '/Users/dev/Library/Data Shared/opencode' },
      {
        pid: 4350,
        kind: 'tui',
        tty: 'ttys005',
        cwd: '/Users/dev/projects/gamma with space',
        ports: [52341, 52342],
        dataDir: '/Users/dev/lab home/.local/share/opencode',
      },
      { pid: 4440, kind: 'web', tty: undefined, cwd: undefined, ports: [4097], dataDir: undefined },
    ],
  );
  assert.deepEqual(found[2]?.args, ['/Users/dev/Application Support/tools/bin/opencode', '--port', '0', '/Users/dev/projects/gamma']);
  assert.equal(found[1]?.ppid, 4300);
  assert.equal(found[1]?.startTime, new Date(2025, 10, 18, 10, 2, 11).getTime());
  assert.deepEqual(run.calls[0], { file: 'ps', args: [...PS_ARGS] });
  const listen = run.calls.find((c) => c.args.includes('-sTCP:LISTEN'));
  // Ports are asked only for the kept instances.
  assert.deepEqual(listen?.args, ['-nP', '-a', '-p', '4242,4301,4350,4440', '-iTCP', '-sTCP:LISTEN', '-Fpn']);

  // Settled: the next scans run ps only, until the period asks lsof again.
  run.calls.length = 0;
  time.advance(1_000);
  await scanner.scan();
  // 4440's cwd was unreadable: asked again (up to three times), nothing else.
  assert.deepEqual(run.calls.map((c) => `${c.file} ${c.args[0]}`), ['ps -axww', 'lsof -a']);
  run.calls.length = 0;
  time.advance(1_000);
  await scanner.scan();
  time.advance(1_000);
  await scanner.scan();
  assert.deepEqual(run.calls.map((c) => `${c.file} ${c.args[0]}`), ['ps -axww', 'lsof -a', 'ps -axww']);
  run.calls.length = 0;
  time.advance(10_000);
  await scanner.scan();
  assert.deepEqual(run.calls.map((c) => `${c.file} ${c.args[0]}`), ['ps -axww', 'lsof -nP']);
});

test('scanner: ps failing rejects; lsof missing is logged once and ports stay empty', async () => {
  const broken = new DarwinProcessScanner({ run: fakeRunner(() => ({ code: 1, stderr: 'ps: illegal option' })), uid: 501 });
  await assert.rejects(broken.scan(), /ps exited with 1/);

  const logger = new MemoryLogger();
  const run = fakeRunner((file, args) => {
    if (file === 'ps' && args[0] === '-axww') return { stdout: fixture('darwin/ps.txt') };
    if (file === 'ps') return { stdout: fixture('darwin/ps-env.txt') };
    return Object.assign(new Error('spawn lsof ENOENT'), { code: 'ENOENT' });
  });
  const scanner = new DarwinProcessScanner({ run, uid: 501, logger });
  const found = await scanner.scan();
  assert.deepEqual(found.map((p) => [p.pid, p.ports.length, p.cwd]), [
    [4242, 0, undefined],
    [4301, 0, undefined],
    [4350, 0, undefined],
    [4440, 0, undefined],
  ]);
  await scanner.scan();
  assert.equal(logger.records.filter((r) => r.level === 'warn' && /lsof failed/.test(r.message)).length, 1);
});
