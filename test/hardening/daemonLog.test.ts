/**
 * Issue 11, finding 6: the daemon's log file must not follow a symlink planted at its path
 * (default /tmp/opencode-monitor.log is in a folder every local user can write). Driven through
 * the built CLI; the victim file must keep its content and the lines go to stderr instead.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve(__dirname, '../../../dist/cli.js');

describe('finding 6: the daemon log', { timeout: 30_000 }, () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ocm-daemonlog-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a symlink planted at --log-file is refused with a clear message, not followed', async () => {
    const target = join(dir, 'victim');
    writeFileSync(target, 'precious\n');
    const log = join(dir, 'daemon.log');
    symlinkSync(target, log);
    const child = spawn(
      process.execPath,
      [cli, 'daemon', '--no-discovery', '--no-usage', '--log-file', log, '--state-file', join(dir, 's.json'), '--usage-file', join(dir, 'u.json'), '--lock-file', join(dir, 'w.lock')],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise((done) => child.once('exit', done));
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const deadline = Date.now() + 20_000;
      while (!stderr.includes('daemon started') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.match(stderr, /daemon\.log is a symbolic link: refusing to follow it .*; logging to stderr/);
      assert.match(stderr, /daemon started/, 'the lines go to stderr instead');
      assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
