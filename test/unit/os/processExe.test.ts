/** The executable of a running process (issue 18: Attach in Terminal runs the server's own binary). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { processExecutable } from '../../../src/core/os/processExe';

const linux = process.platform === 'linux';

describe('processExecutable', () => {
  it('a running program: its real path', { skip: !linux && 'reads /proc' }, async () => {
    const which = spawnSync('sh', ['-c', 'command -v sleep'], { encoding: 'utf8' }).stdout.trim();
    const child = spawn(which, ['30'], { stdio: 'ignore' });
    try {
      await new Promise((r) => child.once('spawn', r));
      assert.equal(processExecutable(child.pid!), realpathSync(which));
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('an interpreter (node) is not the program it runs: undefined', { skip: !linux && 'reads /proc' }, () => {
    assert.equal(processExecutable(process.pid), undefined);
  });

  it('gone, invalid, or not Linux: undefined; an upgraded binary: the file now at its path', () => {
    assert.equal(processExecutable(2 ** 22 + 12345), undefined);
    assert.equal(processExecutable(-1), undefined);
    const probe = (target: string, ok = true) => ({ readlink: () => target, access: () => { if (!ok) throw new Error('EACCES'); } });
    assert.equal(processExecutable(42, 'darwin', probe('/usr/local/bin/opencode')), undefined);
    assert.equal(processExecutable(42, 'linux', probe('/home/me/.opencode/bin/opencode (deleted)')), '/home/me/.opencode/bin/opencode');
    assert.equal(processExecutable(42, 'linux', probe('/home/me/.opencode/bin/opencode', false)), undefined);
    assert.equal(processExecutable(42, 'linux', probe('/usr/bin/bun')), undefined);
    assert.equal(processExecutable(42, 'linux', probe('relative/opencode')), undefined);
  });
});
