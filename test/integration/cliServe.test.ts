/**
 * `opencode-monitor serve` with the real OpenCode: it starts a server in the folder, reports it
 * running (stderr lines when stdout is not a terminal), shows it in `status --json`-shaped data
 * through its own table, and stops it — and everything it started — on SIGTERM.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createLab, getJson, waitFor } from '../harness/opencodeLab';
import type { Lab } from '../harness/opencodeLab';
import { isAlive, listProcesses } from '../harness/processes';

const cli = resolve(__dirname, '../../../dist/cli.js');
const FAKE = resolve(__dirname, '../fixtures/fakeOpencode.js');

describe('opencode-monitor serve', { timeout: 120_000 }, () => {
  let lab: Lab;
  let logDir: string;

  before(async () => {
    assert.ok(existsSync(cli), `build the CLI first (npm run build): ${cli}`);
    logDir = mkdtempSync(join(tmpdir(), 'ocm-serve-logs-'));
    lab = await createLab();
  });

  after(async () => {
    await lab?.stopAll();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('starts opencode serve in the folder, reports it, and stops it on SIGTERM', async () => {
    const dir = lab.projectDir('cli-serve');
    const child = spawn(process.execPath, [cli, 'serve', dir, '--opencode', lab.bin, '--log-dir', logDir, '--no-discovery', '--no-usage'], {
      env: lab.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    let serverPid: number | undefined;
    try {
      const url = await waitFor(() => /running (http:\/\/127\.0\.0\.1:\d+) pid (\d+)/.exec(stderr)?.slice(1), 45_000, `"running <url> pid <n>" on stderr; got:\n${stderr}`);
      serverPid = Number(url[1]);
      lab.track(serverPid);
      const health = await getJson<{ healthy: boolean }>({ url: url[0]! }, '/global/health');
      assert.equal(health.healthy, true);
      // The table on stdout lists it as managed.
      await waitFor(() => (/managed running/.test(stdout) ? true : undefined), 15_000, `"managed running" in the table; got:\n${stdout.slice(-2000)}`);
      const logs = readdirSync(logDir);
      assert.equal(logs.length, 1, logs.join(', '));
      assert.match(readFileSync(join(logDir, logs[0]!), 'utf8'), /listening on http:\/\/127\.0\.0\.1:\d+/);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(serverPid !== undefined && !isAlive(serverPid), `server pid ${serverPid} survived the CLI`);
    const left = listProcesses({ env: true }).filter((p) => p.state !== 'Z' && p.env?.HOME === lab.env.HOME);
    assert.deepEqual(left.map((p) => `${p.pid} ${p.args.join(' ')}`), []);
  });

  // The servers lead their own process groups: a signal to the CLI never reaches them, so the CLI
  // must stop them whatever the moment (here: a server that never prints its port, so still starting).
  for (const signal of ['SIGINT', 'SIGHUP'] as const) {
    it(`${signal} while a server is still starting stops it`, async () => {
      const bin = join(logDir, 'fake-opencode');
      writeFileSync(bin, `#!/bin/sh\nexec '${process.execPath}' '${FAKE}' "$@"\n`, { mode: 0o755 });
      const child = spawn(process.execPath, [cli, 'serve', lab.projectDir('cli-serve-signal'), '--opencode', bin, '--log-dir', logDir, '--no-discovery', '--no-usage'], {
        env: { ...lab.env, FAKE_MODE: 'silent' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      const fake = await waitFor(
        () => listProcesses().find((p) => p.ppid === child.pid && p.args.includes(FAKE))?.pid,
        15_000,
        'the fake server spawned by the CLI',
      );
      lab.track(fake);
      child.kill(signal);
      assert.equal(await exited, 0, stderr);
      assert.ok(!isAlive(fake), `the starting server ${fake} survived ${signal} of the CLI`);
    });
  }
});
