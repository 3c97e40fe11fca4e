import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  classifyArgs,
  dataDirFromEnv,
  expectsPort,
  isOpencodeExecutable,
  isOpencodeProcessName,
  listenRefreshDue,
  selectInstances,
  urlForListener,
} from '../../../src/core/discovery/classify';
import type { Candidate } from '../../../src/core/discovery/classify';
import { REPO_ROOT, SAMPLES } from './helpers';

const kindOf = (args: string[]): string => {
  const r = classifyArgs(args);
  return r.role === 'instance' || r.role === 'wrapper' ? `${r.role}:${r.kind}` : r.role === 'command' ? `command:${r.command}` : r.role;
};

test('executable names: every install layout seen, nothing that merely contains "opencode"', () => {
  for (const yes of [
    'opencode',
    '/home/dev/node_modules/opencode-linux-x64/bin/opencode',
    '/home/dev/node_modules/.bin/opencode',
    '/work/main/node_modules/opencode-ai/bin/opencode.exe',
    '/Users/dev/.opencode/bin/opencode',
    'C:\\Users\\dev\\AppData\\Roaming\\npm\\node_modules\\opencode-ai\\bin\\opencode.exe',
    'OPENCODE.EXE',
    '/nix/store/abc-opencode-1.18.33/bin/.opencode-wrapped',
  ]) {
    assert.ok(isOpencodeExecutable(yes), yes);
  }
  for (const no of ['opencode-monitor', '/usr/bin/opencoder', 'node', '/tmp/opencode/bin/bash', 'opencode.js', 'xopencode']) {
    assert.ok(!isOpencodeExecutable(no), no);
  }
  // Linux cuts comm at 15 characters.
  assert.ok(isOpencodeProcessName('.opencode-wrapp'));
  assert.ok(isOpencodeProcessName('opencode.exe'));
  assert.ok(!isOpencodeProcessName('node'));
});

test('the npm bin really is the native binary (no node wrapper in opencode-ai 1.18.33)', () => {
  const bin = path.join(REPO_ROOT, 'node_modules/.bin/opencode');
  if (!fs.existsSync(bin)) return;
  const real = fs.realpathSync(bin);
  assert.match(real, /opencode-ai[\\/]bin[\\/]opencode\.exe$/);
  const head = Buffer.alloc(4);
  const fd = fs.openSync(real, 'r');
  fs.readSync(fd, head, 0, 4, 0);
  fs.closeSync(fd);
  // ELF (Linux), Mach-O or PE; never "#!/u" (a script).
  assert.notEqual(head.toString('latin1', 0, 2), '#!');
});

test('argv variants from the captures and the CLI help', () => {
  const cases: Array<[string[], string]> = [
    [['/home/dev/node_modules/opencode-linux-x64/bin/opencode', 'serve', '--port', '4801', '--print-logs'], 'instance:serve'],
    [['/home/dev/node_modules/.bin/opencode'], 'instance:tui'],
    [['/home/dev/node_modules/opencode-linux-x64/bin/opencode', '--port', '0', '/home/dev/lab/projects/beta'], 'instance:tui'],
    [['opencode', '--print-logs', 'serve'], 'instance:serve'],
    [['opencode', '--hostname', 'serve', 'web'], 'instance:web'], // option values are not subcommands
    [['opencode', '--port=0', 'web'], 'instance:web'],
    [['opencode', '-m', 'anthropic/claude', '.'], 'instance:tui'],
    [['opencode', '-c'], 'instance:tui'],
    [['opencode', 'projects/alpha'], 'instance:tui'],
    [['opencode', 'pr', '123'], 'instance:tui'],
    [['opencode', 'acp'], 'instance:unknown'],
    [['opencode', 'run', 'fix', 'it'], 'command:run'],
    [['opencode', 'models'], 'command:models'],
    [['opencode', 'auth', 'login'], 'command:auth'],
    [['opencode', 'upgrade'], 'command:upgrade'],
    [['opencode', 'mcp', 'list'], 'command:mcp'],
    [['opencode', '--version'], 'command:--version'],
    [['opencode', '-h'], 'command:-h'],
    [['opencode', 'attach', 'http://127.0.0.1:4096'], 'attach'],
    [['C:\\tools\\opencode.exe', 'serve'], 'instance:serve'],
    [['/nix/store/x/bin/.opencode-wrapped', 'web'], 'instance:web'],
    // opencode-ai before the native bin: `node …/bin/opencode` spawned the binary as a child.
    [['node', '/usr/lib/node_modules/opencode-ai/bin/opencode', 'serve', '--port', '4096'], 'wrapper:serve'],
    [['/usr/bin/node', '--max-old-space-size=4096', '/x/opencode-ai/bin/opencode'], 'wrapper:tui'],
    [['node', '/x/opencode-ai/bin/opencode', 'run', 'hi'], 'command:run'],
    [['node', '/work/main/out/test/unit/discovery/classify.test.js'], 'other'],
    [['sleep', '45'], 'other'],
    [['grep', 'opencode'], 'other'],
    [[], 'other'],
  ];
  for (const [args, want] of cases) assert.equal(kindOf(args), want, args.join(' '));
  assert.deepEqual(classifyArgs(['opencode', 'attach', 'http://h:1']), { role: 'attach', url: 'http://h:1' });
});

test('every process in the captured ps listings classifies as expected', () => {
  const want: Record<string, string> = {
    '/usr/bin/node /home/dev/tools/fake-llm.js': 'other',
    '/home/dev/node_modules/opencode-linux-x64/bin/opencode serve --port 4801 --print-logs': 'instance:serve',
    '/home/dev/node_modules/.bin/opencode': 'instance:tui',
    '/home/dev/node_modules/opencode-linux-x64/bin/opencode --port 0 /home/dev/lab/projects/beta': 'instance:tui',
    'sleep 90': 'other',
    'sleep 45': 'other',
  };
  let seen = 0;
  for (const file of ['busy/discovery.txt', 'idle/discovery.txt', 'tui/discovery.txt']) {
    const text = fs.readFileSync(path.join(SAMPLES, file), 'utf8');
    for (const m of text.matchAll(/^\s*\d+\s+\d+\s+\d+\s+\d+\s+\S+\s+\S+\s+[\d:-]+\s+(.+)$/gm)) {
      const command = (m[1] as string).trim().replace(/ --port 48\d\d /, ' --port 4801 ');
      const expected = want[command];
      assert.ok(expected, `unexpected command in ${file}: ${command}`);
      assert.equal(kindOf(command.split(' ')), expected, command);
      seen++;
    }
  }
  assert.equal(seen, 10 + 6 + 10);
});

test('expectsPort: servers, and TUIs with --port/--hostname/--mdns', () => {
  assert.ok(expectsPort(['opencode', 'serve']));
  assert.ok(expectsPort(['opencode', 'web']));
  assert.ok(expectsPort(['opencode', '--port', '0']));
  assert.ok(expectsPort(['opencode', '--port=4096', '.']));
  assert.ok(expectsPort(['opencode', '--mdns']));
  assert.ok(!expectsPort(['opencode']));
  assert.ok(!expectsPort(['opencode', '/some/dir']));
});

test('dataDirFromEnv follows xdg-basedir (empty XDG_DATA_HOME counts as unset)', () => {
  assert.equal(dataDirFromEnv({ HOME: '/home/dev/lab/home' }), '/home/dev/lab/home/.local/share/opencode');
  assert.equal(dataDirFromEnv({ HOME: '/h', XDG_DATA_HOME: '/data' }), '/data/opencode');
  assert.equal(dataDirFromEnv({ HOME: '/h', XDG_DATA_HOME: '' }), '/h/.local/share/opencode');
  assert.equal(dataDirFromEnv({}), undefined);
  assert.equal(dataDirFromEnv({ HOME: 'C:\\Users\\dev' }, path.win32.join), 'C:\\Users\\dev\\.local\\share\\opencode');
});

test('urlForListener: wildcard and loopback binds are reached on loopback', () => {
  assert.equal(urlForListener({ address: '127.0.0.1', port: 4096 }), 'http://127.0.0.1:4096');
  assert.equal(urlForListener({ address: '0.0.0.0', port: 1 }), 'http://127.0.0.1:1');
  assert.equal(urlForListener({ address: '*', port: 2 }), 'http://127.0.0.1:2');
  assert.equal(urlForListener({ address: '::ffff:127.0.0.1', port: 3 }), 'http://127.0.0.1:3');
  assert.equal(urlForListener({ address: '::', port: 4 }), 'http://[::1]:4');
  assert.equal(urlForListener({ address: '::1', port: 5 }), 'http://[::1]:5');
  assert.equal(urlForListener({ address: '192.168.1.5', port: 6 }), 'http://192.168.1.5:6');
  assert.equal(urlForListener({ address: 'fe80::1', port: 7 }), 'http://[fe80::1]:7');
});

function candidate(pid: number, ppid: number, args: string[], extra: Partial<Candidate> = {}): Candidate {
  return { pid, ppid, args, role: classifyArgs(args), listeners: [], ...extra };
}

test('selectInstances: drops wrappers with a child, tool children of a live agent, non-instances', () => {
  const out = selectInstances([
    candidate(10, 1, ['node', '/x/opencode-ai/bin/opencode', 'serve'], { tty: 'pts/1' }),
    candidate(11, 10, ['/x/opencode-linux-x64/bin/opencode', 'serve'], {
      env: { HOME: '/home/u' },
      listeners: [
        { address: '::1', port: 4096 },
        { address: '127.0.0.1', port: 4096 },
        { address: '127.0.0.1', port: 4096 },
        { address: '127.0.0.1', port: 19876 },
      ],
    }),
    // A wrapper whose child is not (yet) visible is kept: it is all we know.
    candidate(20, 1, ['node', '/x/opencode-ai/bin/opencode']),
    // `opencode serve` started by the agent of pid 11 through its bash tool.
    candidate(30, 11, ['opencode', 'serve', '--port', '5000'], { env: { OPENCODE_PID: '11' } }),
    // Its owner is gone (stale variable inherited from a dead agent): a real instance.
    candidate(31, 1, ['opencode'], { env: { OPENCODE_PID: '999' } }),
    candidate(40, 1, ['opencode', 'run', 'x']),
    candidate(41, 1, ['opencode', 'attach', 'http://127.0.0.1:4096']),
  ]);
  assert.deepEqual(
    out.map((p) => [p.pid, p.kind]),
    [
      [11, 'serve'],
      [20, 'tui'],
      [31, 'tui'],
    ],
  );
  const server = out[0];
  assert.deepEqual(server?.ports, [4096, 19876]);
  // IPv4 first for the same port, duplicates folded.
  assert.deepEqual(server?.listeners, [
    { address: '127.0.0.1', port: 4096 },
    { address: '::1', port: 4096 },
    { address: '127.0.0.1', port: 19876 },
  ]);
  assert.equal(server?.home, '/home/u');
  assert.equal(server?.dataDir, '/home/u/.local/share/opencode');
});

test('listenRefreshDue: new process, waiting server, period; not for settled or port-less TUIs', () => {
  const settled = { known: true, args: ['opencode', 'serve'], listenerCount: 1, firstSeen: 0 };
  const tui = { known: true, args: ['opencode'], listenerCount: 0, firstSeen: 0 };
  const o = { refreshMs: 10_000, portWaitMs: 120_000 };
  assert.equal(listenRefreshDue(5_000, 0, [], o), false);
  assert.equal(listenRefreshDue(5_000, 0, [settled, tui], o), false);
  assert.equal(listenRefreshDue(10_000, 0, [settled, tui], o), true);
  assert.equal(listenRefreshDue(5_000, 0, [settled, { ...tui, known: false }], o), true);
  const waiting = { known: true, args: ['opencode', 'serve'], listenerCount: 0, firstSeen: 0 };
  assert.equal(listenRefreshDue(5_000, 4_000, [waiting], o), true);
  // After 30 s of waiting: every 3 s; after portWaitMs: the period only.
  assert.equal(listenRefreshDue(40_000, 38_000, [waiting], o), false);
  assert.equal(listenRefreshDue(40_000, 37_000, [waiting], o), true);
  assert.equal(listenRefreshDue(130_000, 125_000, [waiting], o), false);
});

test('selectInstances: a tool child caught between fork and exec is not an instance', () => {
  const args = ['/x/opencode-linux-x64/bin/opencode', 'serve', '--port', '4801'];
  const out = selectInstances([
    candidate(50, 1, args, { listeners: [{ address: '127.0.0.1', port: 4801 }] }),
    // Forked by 50 to spawn `bash -c …`: same argv, no OPENCODE_PID yet, a moment later it execs.
    candidate(51, 50, args),
    // A real TUI started from a shell inside a terminal of its own is still one.
    candidate(52, 7, ['/x/opencode-linux-x64/bin/opencode']),
  ]);
  assert.deepEqual(out.map((p) => p.pid), [50, 52]);
});
