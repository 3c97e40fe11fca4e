/**
 * The service unit texts with hostile paths: what systemd and a plist parser read back is exactly
 * what went in. systemd's own parser checks the unit when `systemd-analyze` is here; python3's
 * plistlib parses the LaunchAgent when python3 is here.
 */
import * as assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { servicePaths } from '../../../src/core/service/servicePaths';
import { ServiceConfigError, isOurUnit, renderLaunchAgent, renderSystemdUnit, renderUnit, systemdExecArg } from '../../../src/core/service/unitFile';
import { DAEMON_NODE_FLAGS } from '../../../src/cli/daemonTiers';
import { missingNodeFlags } from '../../../src/cli/service';
import type { ServiceSpec } from '../../../src/core/service/unitFile';
import { serviceDaemonArgs, shellQuote } from '../../../src/cli/service';

const HOSTILE = [
  '/home/a b/My "Apps"/it\'s/cli.js',
  '/tmp/100%/%h%n%%/$HOME/${PATH}/$$/cli.js',
  '/tmp/back\\slash\\n/x.js',
  '/tmp/semi;colon/&amp;<tag>/x.js',
  ';',
  '',
  '/tmp/new\nline\ttab\rcr/x.js',
  '/tmp/ünï©ødé/日本/x.js',
];

function spec(platform: 'linux' | 'darwin', overrides: Partial<ServiceSpec> = {}): ServiceSpec {
  return {
    paths: servicePaths(platform, '/home/u', {}),
    node: '/usr/local/bin/node',
    nodeFlags: ['--max-semi-space-size=1'],
    script: '/opt/ocm/dist/cli.js',
    daemonArgs: ['--no-usage'],
    env: { PATH: '/usr/bin:/bin', HOME: '/home/u' },
    ...overrides,
  };
}

/**
 * systemd's reading of one ExecStart=/Environment= value (systemd.service "Command lines"):
 * specifiers first (only %% here), then words split on whitespace with quotes and C escapes
 * removed, then `$$` → `$` in every argument but the executable.
 */
function systemdWords(value: string, dollars: boolean): string[] {
  const text = value.replace(/%(.)/g, (_, c: string) => {
    assert.equal(c, '%', `unescaped specifier %${c} in ${value}`);
    return '%';
  });
  const words: string[] = [];
  let i = 0;
  const esc: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
  while (i < text.length) {
    while (text[i] === ' ') i++;
    if (i >= text.length) break;
    let word = '';
    if (text[i] === '"') {
      i++;
      while (text[i] !== '"') {
        assert.ok(i < text.length, `unterminated quote in ${value}`);
        if (text[i] === '\\') {
          const c = text[i + 1]!;
          if (c === 'x') {
            word += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
            i += 4;
          } else {
            assert.ok(c in esc, `unknown escape \\${c}`);
            word += esc[c];
            i += 2;
          }
        } else word += text[i++];
      }
      i++;
      assert.ok(i >= text.length || text[i] === ' ', 'a quoted word ends at a space');
    } else {
      while (i < text.length && text[i] !== ' ') word += text[i++];
    }
    words.push(word);
  }
  return dollars ? words.map((w, n) => (n === 0 ? w : w.replace(/\$\$/g, '$'))) : words;
}

function line(unit: string, key: string): string {
  const found = unit.split('\n').find((l) => l.startsWith(`${key}=`));
  assert.ok(found, `${key}= in\n${unit}`);
  return found.slice(key.length + 1);
}

test('systemd: every hostile argument and environment value round-trips', () => {
  for (const hostile of HOSTILE) {
    const unit = renderSystemdUnit(spec('linux', { script: hostile, daemonArgs: ['--state-file', hostile], env: { PATH: hostile, HOME: '/home/u' } }));
    assert.equal(unit.split('\n').filter((l) => l.startsWith('ExecStart=')).length, 1, 'one line whatever the path holds');
    assert.deepEqual(systemdWords(line(unit, 'ExecStart'), true), ['/usr/local/bin/node', '--max-semi-space-size=1', hostile, 'daemon', '--state-file', hostile]);
    assert.deepEqual(systemdWords(line(unit, 'Environment'), false), [`PATH=${hostile}`, 'HOME=/home/u']);
    assert.ok(isOurUnit(unit));
  }
  assert.equal(systemdExecArg('a$b%c'), '"a$$b%%c"');
  assert.equal(systemdExecArg('/a$b', true), '"/a$b"', 'the executable is not $-expanded');
});

test('systemd: Restart=on-failure, default.target, the password only as an optional EnvironmentFile', () => {
  const unit = renderSystemdUnit(spec('linux'));
  assert.match(unit, /^Restart=on-failure$/m);
  assert.match(unit, /^WantedBy=default\.target$/m);
  assert.match(unit, /^EnvironmentFile=-\/home\/u\/\.config\/opencode-monitor\/service\.env$/m);
  assert.doesNotMatch(unit, /^[^#].*PASSWORD=/m);
  const percent = renderSystemdUnit({ ...spec('linux'), paths: servicePaths('linux', '/home/100%', {}) });
  assert.match(percent, /^EnvironmentFile=-\/home\/100%%\/\.config/m);
  const newline = renderSystemdUnit({ ...spec('linux'), paths: servicePaths('linux', '/home/a\nExecStartPre=/bin/evil', {}) });
  assert.doesNotMatch(newline, /^ExecStartPre/m, 'a newline in a path never starts a directive');
});

test('systemd: an executable path systemd refuses is a clear error, not a broken unit', () => {
  for (const node of ['/opt/"q"/node', "/opt/it's/node", '/opt/a\\b/node', '/opt/a\nb/node', 'relative/node']) {
    assert.throws(() => renderSystemdUnit(spec('linux', { node })), ServiceConfigError);
  }
});

test('systemd-analyze verify accepts the unit with hostile arguments', (t) => {
  const probe = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) return t.skip('systemd-analyze not available');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-unit-'));
  try {
    const file = path.join(dir, 'opencode-monitor.service');
    const check = (unit: string) => {
      fs.writeFileSync(file, unit);
      return spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8', timeout: 20_000 });
    };
    const plain = check(renderSystemdUnit(spec('linux', { node: process.execPath })));
    if (plain.status !== 0) return t.skip(`systemd-analyze verify cannot run here: ${(plain.stderr || plain.stdout).trim().split('\n')[0]}`);
    for (const hostile of HOSTILE) {
      const result = check(renderSystemdUnit(spec('linux', { node: process.execPath, script: hostile, daemonArgs: ['--state-file', hostile], env: { PATH: hostile } })));
      assert.equal(result.status, 0, `${JSON.stringify(hostile)}: ${result.stderr}`);
    }
    // And it does refuse what we refuse to write.
    fs.mkdirSync(path.join(dir, "it's"));
    fs.copyFileSync(process.execPath, path.join(dir, "it's", 'node'));
    const raw = renderSystemdUnit(spec('linux', { node: process.execPath })).replace(systemdExecArg(process.execPath, true), `"${path.join(dir, "it's", 'node')}"`);
    assert.notEqual(check(raw).status, 0);
    // A $ in the executable is fine and literal (no $$ there).
    fs.mkdirSync(path.join(dir, '$HOME'));
    fs.copyFileSync(process.execPath, path.join(dir, '$HOME', 'node'));
    assert.equal(check(renderSystemdUnit(spec('linux', { node: path.join(dir, '$HOME', 'node') }))).status, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The <string> values of a plist in document order, entities decoded. */
function plistStrings(xml: string): string[] {
  return [...xml.matchAll(/<(string|key)>([^<]*)<\/\1>/g)].map((m) =>
    m[2]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&#13;/g, '\r').replace(/&amp;/g, '&'),
  );
}

test('launchd: every hostile argument and environment value round-trips', () => {
  for (const hostile of HOSTILE) {
    const xml = renderLaunchAgent(spec('darwin', { node: '/opt/a&b <c>/node', script: hostile, daemonArgs: ['--state-file', hostile], env: { PATH: hostile } }));
    assert.ok(isOurUnit(xml));
    assert.doesNotMatch(xml.replace(/<!--[^]*?-->/g, ''), /&(?!(amp|lt|gt|quot|apos|#13);)/, 'every & is an entity');
    const strings = plistStrings(xml);
    assert.deepEqual(strings.slice(0, 10), ['Label', 'dev.opencode-monitor.daemon', 'ProgramArguments', '/opt/a&b <c>/node', '--max-semi-space-size=1', hostile, 'daemon', '--state-file', hostile, 'RunAtLoad']);
    assert.deepEqual(strings.slice(strings.indexOf('EnvironmentVariables') + 1, strings.indexOf('EnvironmentVariables') + 3), ['PATH', hostile]);
  }
});

test('launchd: a real plist parser reads back the same arguments (python3 plistlib)', (t) => {
  const probe = spawnSync('python3', ['-c', 'import plistlib'], { timeout: 10_000 });
  if (probe.status !== 0) return t.skip('python3 with plistlib not available');
  for (const hostile of HOSTILE) {
    const xml = renderLaunchAgent(spec('darwin', { script: hostile, env: { PATH: hostile } }));
    const parsed = JSON.parse(
      execFileSync('python3', ['-c', 'import json,plistlib,sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: xml, encoding: 'utf8', timeout: 10_000 }),
    ) as { Label: string; ProgramArguments: string[]; EnvironmentVariables: Record<string, string>; KeepAlive: unknown; RunAtLoad: boolean };
    assert.deepEqual(parsed.ProgramArguments, ['/usr/local/bin/node', '--max-semi-space-size=1', hostile, 'daemon', '--no-usage']);
    assert.equal(parsed.EnvironmentVariables.PATH, hostile);
    assert.equal(parsed.RunAtLoad, true);
    assert.deepEqual(parsed.KeepAlive, { SuccessfulExit: false });
    assert.equal(parsed.Label, 'dev.opencode-monitor.daemon');
  }
});

test('launchd: characters XML cannot hold are refused, not written', () => {
  for (const bad of ['/tmp/esc\x1b[31m/x', '/tmp/nul\x00/x', '/tmp/bell\x07']) {
    assert.throws(() => renderLaunchAgent(spec('darwin', { script: bad })), ServiceConfigError);
  }
});

test('paths: XDG folders when absolute, the documented defaults otherwise', () => {
  assert.deepEqual(servicePaths('linux', '/h', { XDG_CONFIG_HOME: '/c', XDG_STATE_HOME: '/s' }), {
    platform: 'linux',
    unitFile: '/c/systemd/user/opencode-monitor.service',
    logFile: '/s/opencode-monitor/daemon.log',
    envFile: '/c/opencode-monitor/service.env',
    name: 'opencode-monitor.service',
  });
  const relative = servicePaths('linux', '/h', { XDG_CONFIG_HOME: 'rel', XDG_STATE_HOME: '' });
  assert.equal(relative.unitFile, '/h/.config/systemd/user/opencode-monitor.service');
  assert.equal(relative.logFile, '/h/.local/state/opencode-monitor/daemon.log');
  const mac = servicePaths('darwin', '/Users/u', { XDG_CONFIG_HOME: '/c' });
  assert.equal(mac.unitFile, '/Users/u/Library/LaunchAgents/dev.opencode-monitor.daemon.plist');
  assert.equal(mac.logFile, '/Users/u/Library/Logs/opencode-monitor/daemon.log');
});

test('daemon flags: checked at install, paths made absolute, the per-user log unless one is given', () => {
  assert.deepEqual(serviceDaemonArgs(['--state-file', 'a b/s.json', '--no-usage', '--usage-file=/u.json'], '/log/d.log', '/cwd'), [
    '--state-file',
    '/cwd/a b/s.json',
    '--no-usage',
    '--usage-file',
    '/u.json',
    '--log-file',
    '/log/d.log',
  ]);
  assert.deepEqual(serviceDaemonArgs(['--log-file', 'mine.log', '--docker-path', 'podman'], '/log/d.log', '/cwd'), ['--log-file', '/cwd/mine.log', '--docker-path', 'podman']);
  assert.throws(() => serviceDaemonArgs(['--stat-file', 'x'], '/l', '/cwd'), /unknown option --stat-file/);
  assert.throws(() => serviceDaemonArgs(['stray'], '/l', '/cwd'), ServiceConfigError);
  assert.throws(() => serviceDaemonArgs(['--endpoint', 'http://opencode:s3cret@host:4096'], '/l', '/cwd'), (e: Error) => e instanceof ServiceConfigError && !e.message.includes('s3cret'));
});

test('shell hints quote what a shell would split or expand', () => {
  assert.equal(shellQuote('/a/b.plist'), '/a/b.plist');
  assert.equal(shellQuote("/a b/it's $x"), `'/a b/it'\\''s $x'`);
  assert.equal(shellQuote('/a\x1b[31m'), `'/a\\x1b[31m'`);
});

test('missingNodeFlags: a unit without the Node flags install writes now is told apart, on both platforms', () => {
  for (const platform of ['linux', 'darwin'] as const) {
    const current = renderUnit(spec(platform, { nodeFlags: [...DAEMON_NODE_FLAGS] }));
    assert.deepEqual(missingNodeFlags(current, platform), [], platform);
    const older = renderUnit(spec(platform, { nodeFlags: [] }));
    assert.deepEqual(missingNodeFlags(older, platform), [...DAEMON_NODE_FLAGS], platform);
    // A flag's text inside a path is not the flag.
    const inPath = renderUnit(spec(platform, { nodeFlags: [], script: '/opt/x "--liftoff-only" y/<string>--max-semi-space-size=1</string>/cli.js' }));
    assert.deepEqual(missingNodeFlags(inPath, platform), [...DAEMON_NODE_FLAGS], `${platform}: in a path`);
  }
});
