import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  WindowsProcessScanner,
  cimScript,
  parseCimProcessJson,
  parseCsvLine,
  parseNetstatListening,
  parseTasklistCsv,
  splitWindowsCommandLine,
  tasklistArgs,
} from '../../../src/core/discovery/windowsScanner';
import { ManualTime, fakeRunner, fixture } from './helpers';

test('parseCsvLine / parseTasklistCsv: quoted fields with commas; the localized INFO line yields nothing', () => {
  assert.deepEqual(parseCsvLine('"opencode.exe","15832","Console","1","712,344 K"'), ['opencode.exe', '15832', 'Console', '1', '712,344 K']);
  assert.deepEqual(parseCsvLine('"a ""b""",c,'), ['a "b"', 'c', '']);
  assert.deepEqual(parseTasklistCsv(fixture('windows/tasklist.txt')), [
    { image: 'opencode.exe', pid: 15832 },
    { image: 'opencode.exe', pid: 17200 },
    { image: 'opencode.exe', pid: 18004 },
  ]);
  assert.deepEqual(parseTasklistCsv(fixture('windows/tasklist-none.txt')), []);
  assert.deepEqual(tasklistArgs('DEV\\dev'), ['/fo', 'csv', '/nh', '/fi', 'IMAGENAME eq opencode.exe', '/fi', 'USERNAME eq DEV\\dev']);
});

test('parseNetstatListening: v4 and v6 listeners by pid; English and German state words; UDP ignored', () => {
  const expected = {
    1104: [
      { address: '0.0.0.0', port: 135 },
      { address: '::', port: 135 },
    ],
    4: [
      { address: '0.0.0.0', port: 445 },
      { address: 'fe80::1c2d:3e4f:5a6b:7c8d', port: 139 },
    ],
    15832: [{ address: '127.0.0.1', port: 4096 }],
    17200: [{ address: '::1', port: 51544 }],
  };
  assert.deepEqual(Object.fromEntries(parseNetstatListening(fixture('windows/netstat-ano.txt'))), expected);
  assert.deepEqual(Object.fromEntries(parseNetstatListening(fixture('windows/netstat-ano-de.txt'))), {
    1104: [{ address: '0.0.0.0', port: 135 }],
    15832: [{ address: '127.0.0.1', port: 4096 }],
    17200: [{ address: '::1', port: 51544 }],
  });
});

test('parseCimProcessJson: PowerShell 5.1 array with /Date()/, PowerShell 7 single object with ISO dates', () => {
  const ps51 = parseCimProcessJson(fixture('windows/cim-ps51.json'));
  assert.deepEqual(ps51[0], {
    pid: 15832,
    ppid: 9100,
    commandLine: '"C:\\Users\\dev\\AppData\\Roaming\\npm\\node_modules\\opencode-ai\\bin\\opencode.exe" serve --port 4096',
    startTime: 1763456578123,
  });
  assert.equal(ps51.length, 3);
  assert.deepEqual(parseCimProcessJson(fixture('windows/cim-ps7-single.json')), [
    { pid: 15832, ppid: 9100, commandLine: '"C:\\Program Files\\OpenCode\\opencode.exe" web', startTime: Date.parse('2025-11-18T10:02:58.123+01:00') },
  ]);
  assert.deepEqual(parseCimProcessJson('{"ProcessId":5,"ParentProcessId":4,"CommandLine":null,"CreationDate":null}'), [{ pid: 5, ppid: 4 }]);
  assert.deepEqual(parseCimProcessJson(''), []);
});

test('splitWindowsCommandLine: CommandLineToArgvW rules', () => {
  assert.deepEqual(splitWindowsCommandLine('"C:\\Program Files\\OpenCode\\opencode.exe" serve --port 4096'), [
    'C:\\Program Files\\OpenCode\\opencode.exe',
    'serve',
    '--port',
    '4096',
  ]);
  assert.deepEqual(splitWindowsCommandLine('C:\\x\\opencode.exe --port 0 "C:\\work\\my project"'), ['C:\\x\\opencode.exe', '--port', '0', 'C:\\work\\my project']);
  // Backslashes are literal unless they precede a quote.
  assert.deepEqual(splitWindowsCommandLine('a.exe "C:\\dir\\\\" b\\\\\\"c d\\e'), ['a.exe', 'C:\\dir\\', 'b\\"c', 'd\\e']);
  assert.deepEqual(splitWindowsCommandLine('a.exe ab"c d"e ""'), ['a.exe', 'abc de', '']);
  assert.deepEqual(splitWindowsCommandLine('   '), []);
});

test('cimScript only ever contains numbers from us', () => {
  assert.equal(
    cimScript([15832, 17200]),
    "[Console]::OutputEncoding=[Text.Encoding]::UTF8; Get-CimInstance -ClassName Win32_Process -Filter 'ProcessId=15832 OR ProcessId=17200' | Select-Object ProcessId,ParentProcessId,CommandLine,CreationDate | ConvertTo-Json -Compress",
  );
});

test('scanner: tasklist every scan, PowerShell once per new pid, netstat when due', async () => {
  const time = new ManualTime();
  let tasks = fixture('windows/tasklist.txt');
  const run = fakeRunner((file) => {
    if (file === 'tasklist') return { stdout: tasks };
    if (file === 'powershell.exe') return { stdout: fixture('windows/cim-ps51.json') };
    if (file === 'netstat') return { stdout: fixture('windows/netstat-ano.txt') };
    return new Error(`unexpected ${file}`);
  });
  const scanner = new WindowsProcessScanner({ run, user: 'DEV\\dev', now: time.now });
  const found = await scanner.scan();
  assert.deepEqual(
    found.map((p) => ({ pid: p.pid, ppid: p.ppid, kind: p.kind, ports: p.ports, startTime: p.startTime })),
    [
      { pid: 15832, ppid: 9100, kind: 'serve', ports: [4096], startTime: 1763456578123 },
      { pid: 17200, ppid: 16004, kind: 'tui', ports: [51544], startTime: 1763456601456 },
    ],
  );
  assert.deepEqual(found[1]?.args, ['C:\\Users\\dev\\.opencode\\bin\\opencode.exe', '--port', '0', 'C:\\work\\my project']);
  assert.deepEqual(run.calls.map((c) => c.file), ['tasklist', 'powershell.exe', 'netstat']);

  run.calls.length = 0;
  time.advance(1_000);
  await scanner.scan();
  assert.deepEqual(run.calls.map((c) => c.file), ['tasklist']);

  // One process exits: it leaves without any other tool run.
  tasks = tasks.split('\n').filter((l) => !l.includes('17200')).join('\n');
  run.calls.length = 0;
  time.advance(1_000);
  assert.deepEqual((await scanner.scan()).map((p) => p.pid), [15832]);
  assert.deepEqual(run.calls.map((c) => c.file), ['tasklist']);
});

test('scanner: without PowerShell the processes are still reported, kind unknown', async () => {
  const run = fakeRunner((file) => {
    if (file === 'tasklist') return { stdout: fixture('windows/tasklist.txt') };
    if (file === 'netstat') return { stdout: fixture('windows/netstat-ano.txt') };
    return Object.assign(new Error('spawn powershell.exe ENOENT'), { code: 'ENOENT' });
  });
  const found = await new WindowsProcessScanner({ run, user: 'dev' }).scan();
  assert.deepEqual(found.map((p) => [p.pid, p.kind, p.ports]), [
    [15832, 'unknown', [4096]],
    [17200, 'unknown', [51544]],
    [18004, 'unknown', []],
  ]);
});
