/**
 * Finding 7 (issue 11): Attach in Terminal typed `opencode attach … --session <id>` into a shell
 * with POSIX quoting; a server-chosen id like `a';calc;'` escaped PowerShell. Now the terminal
 * runs opencode itself (shellPath/shellArgs, no shell line) and ids are checked first.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { attachLaunch, isOpencodeSessionId } from '../../src/core/platform/attachLaunch';

const HOSTILE_IDS = ["a';calc;'", 'ses_x";calc;"', 'ses_ok&calc', 'ses_$(calc)', 'ses_`calc`', 'ses_a b', 'ses_\u202eexe', 'ses_x\r\ncalc', '--help', ''];

test('finding 7: session ids OpenCode never issues are refused before any use', () => {
  assert.ok(isOpencodeSessionId('ses_e005cd66affeKHKFGJ0NwvUH8Y'), 'a real id from the 1.18.33 samples');
  for (const id of HOSTILE_IDS) {
    assert.equal(isOpencodeSessionId(id), false, id);
    for (const platform of ['linux', 'win32', 'darwin'] as const) {
      assert.throws(() => attachLaunch('opencode', 'http://127.0.0.1:4096', id, platform), /not an OpenCode session id/, `${platform} ${id}`);
    }
  }
});

test('finding 7: the terminal runs opencode itself with an argument array', () => {
  const launch = attachLaunch('/usr/bin/opencode', 'http://127.0.0.1:4096', 'ses_e005cd66affeKHKFGJ0NwvUH8Y', 'win32');
  assert.deepEqual(launch, { shellPath: '/usr/bin/opencode', shellArgs: ['attach', 'http://127.0.0.1:4096', '--session', 'ses_e005cd66affeKHKFGJ0NwvUH8Y'] });
  // Through a .cmd shim cmd.exe parses the line: anything it would read is refused.
  assert.throws(() => attachLaunch('C:\\npm\\opencode.cmd', 'http://h:1/&calc', undefined, 'win32', 'cmd.exe'), /cmd\.exe/);
  const cmd = attachLaunch('C:\\npm\\opencode.cmd', 'http://127.0.0.1:4096', 'ses_abc', 'win32', 'cmd.exe');
  assert.equal(cmd.shellPath, 'cmd.exe');
  // The command is never typed into a shell.
  const source = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'src', 'vscode', 'commands', 'sessions.ts'), 'utf8');
  assert.doesNotMatch(source, /sendText\(/);
  assert.match(source, /attachLaunch\(/);
});
