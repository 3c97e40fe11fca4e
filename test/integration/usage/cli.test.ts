/**
 * The CLI end to end against a fake usage server and a temporary HOME holding a Claude Code
 * credentials file: `status --json` shows usage, processes share one poller through the cache,
 * and the daemon writes the legacy usage file with integer utilization. Build first (npm run build).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CredentialStore } from '../../../src/core/usage/credentials';
import { usageShareDir, usageShareKey, usageSharePaths } from '../../../src/core/usage/sharedUsage';
import { BASE_URL_ENV } from '../../../src/core/usage/usageClient';
import { sendJson, startServer, waitFor } from '../../unit/support/localServer';
import type { LocalServer } from '../../unit/support/localServer';
import { claudeCredentials, readTree, secretToken } from '../../unit/usage/support';

const cli = path.resolve(__dirname, '../../../../dist/cli.js');
const BODY = {
  five_hour: { utilization: 45.7, resets_at: '2026-09-01T15:00:00.288792+00:00' },
  seven_day: { utilization: 62.2, resets_at: '2026-09-05T09:00:00.288804+00:00' },
  seven_day_opus: { utilization: 12.5, resets_at: '2026-09-05T09:00:00.288804+00:00' },
  seven_day_sonnet: null,
  extra_usage: { is_enabled: false, monthly_limit: null, used_credits: null, utilization: null },
};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`opencode-monitor ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('opencode-monitor with Claude usage', { timeout: 120_000 }, () => {
  let server: LocalServer;
  let root: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let token: string;
  let shareFiles: { lock: string; cache: string; request: string };
  const respond: (res: import('node:http').ServerResponse) => void = (res) => sendJson(res, BODY);

  before(async () => {
    assert.ok(fs.existsSync(cli), `build the CLI first (npm run build): ${cli}`);
    server = await startServer((_req, res) => respond(res));
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-usage-cli-'));
    home = path.join(root, 'home');
    token = secretToken();
    fs.mkdirSync(path.join(home, '.claude'), { recursive: true });
    fs.writeFileSync(path.join(home, '.claude/.credentials.json'), JSON.stringify(claudeCredentials(token, Date.now() + 8 * 3600_000)), { mode: 0o600 });
    // Nothing from the developer's environment: no real credential can be picked up.
    env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_DATA_HOME: path.join(home, '.local/share'), [BASE_URL_ENV]: server.url };
    const files = new CredentialStore({ env }).files();
    shareFiles = usageSharePaths(usageShareDir(), usageShareKey([server.url, ...files]));
  });

  after(async () => {
    await server?.close();
    for (const file of Object.values(shareFiles ?? {})) fs.rmSync(file, { force: true });
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  it('shows usage in `status --json`, polling once for all processes', async () => {
    const first = await run(['status', '--json', '--no-discovery'], env);
    assert.equal(first.code, 0, first.stderr);
    const usage = (JSON.parse(first.stdout) as { usage: Record<string, unknown> }).usage;
    assert.deepEqual(usage.fiveHour, { percent: 45.7, resetsAt: '2026-09-01T15:00:00.288792+00:00' });
    assert.deepEqual(usage.sevenDay, { percent: 62.2, resetsAt: '2026-09-05T09:00:00.288804+00:00' });
    assert.deepEqual(usage.modelWeeks, { opus: { percent: 12.5, resetsAt: '2026-09-05T09:00:00.288804+00:00' } });
    assert.equal(usage.source, 'claude-code');
    assert.equal(usage.stale, false);
    assert.equal(typeof usage.fetchedAt, 'number');
    assert.equal(server.requests.length, 1);
    const req = server.requests[0]!;
    assert.equal(req.path, '/api/oauth/usage');
    assert.equal(req.headers.authorization, `Bearer ${token}`);
    assert.equal(req.headers['anthropic-beta'], 'oauth-2025-04-20');
    assert.match(String(req.headers['user-agent']), /^opencode-monitor\/\d+\.\d+\.\d+/);

    // A second process within the interval reads the shared result: no request.
    const second = await run(['status', '--json', '--no-discovery'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.deepEqual((JSON.parse(second.stdout) as { usage: unknown }).usage, usage);
    assert.equal(server.requests.length, 1, 'the cache answered');
    for (const out of [first, second]) assert.equal((out.stdout + out.stderr).includes(token), false);
    assert.equal(fs.readFileSync(shareFiles.cache, 'utf8').includes(token), false, 'cache without token');
    assert.equal(fs.statSync(shareFiles.cache).mode & 0o777, 0o600);
  });

  it('writes the legacy usage file with integer utilization from the daemon', async () => {
    const files = { state: path.join(root, 'state.json'), usage: path.join(root, 'usage.json'), lock: path.join(root, 'writer.lock'), log: path.join(root, 'monitor.log') };
    const child = spawn(
      process.execPath,
      [cli, 'daemon', '--no-discovery', '--state-file', files.state, '--usage-file', files.usage, '--lock-file', files.lock, '--log-file', files.log],
      { env, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => fs.existsSync(files.usage), 'the legacy usage file', 15_000);
      const legacy = JSON.parse(fs.readFileSync(files.usage, 'utf8')) as Record<string, unknown>;
      assert.deepEqual(Object.keys(legacy).sort(), ['error', 'five_hour', 'seven_day', 'updated']);
      assert.deepEqual(legacy.five_hour, { utilization: 45, resets_at: '2026-09-01T15:00:00.288792+00:00' });
      assert.deepEqual(legacy.seven_day, { utilization: 62, resets_at: '2026-09-05T09:00:00.288804+00:00' });
      assert.equal(legacy.error, null);
      assert.ok(Number.isInteger(legacy.updated));
      assert.equal(fs.statSync(files.usage).mode & 0o777, 0o600);

      // While the daemon polls, `status` only reads its result.
      const before = server.requests.length;
      const status = await run(['status', '--json', '--no-discovery'], env);
      assert.equal((JSON.parse(status.stdout) as { usage: { fiveHour: { percent: number } } }).usage.fiveHour.percent, 45.7);
      assert.equal(server.requests.length, before);
    } finally {
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    }
    for (const f of readTree(root).filter((f) => !f.file.endsWith('.credentials.json'))) {
      assert.equal(f.content.includes(token), false, `${f.file} holds the token`);
    }
    assert.equal(fs.readFileSync(shareFiles.cache, 'utf8').includes(token), false);
  });

  it('reports an expired token without calling the API', async () => {
    const expiredHome = path.join(root, 'expired');
    fs.mkdirSync(path.join(expiredHome, '.claude'), { recursive: true });
    fs.writeFileSync(path.join(expiredHome, '.claude/.credentials.json'), JSON.stringify(claudeCredentials(secretToken(), Date.now() - 60_000)));
    const expiredEnv = { ...env, HOME: expiredHome, XDG_DATA_HOME: path.join(expiredHome, '.local/share') };
    const before = server.requests.length;
    const out = await run(['status', '--json', '--no-discovery'], expiredEnv);
    const usage = (JSON.parse(out.stdout) as { usage: Record<string, unknown> }).usage;
    assert.equal(usage.error, 'token_expired');
    assert.equal(usage.source, 'claude-code');
    assert.equal(server.requests.length, before);
    const key = usageShareKey([server.url, ...new CredentialStore({ env: expiredEnv }).files()]);
    for (const file of Object.values(usageSharePaths(usageShareDir(), key))) fs.rmSync(file, { force: true });
  });

  it('shows no usage without a sign-in, or with --no-usage', async () => {
    const emptyHome = path.join(root, 'empty');
    fs.mkdirSync(emptyHome, { recursive: true });
    const emptyEnv = { ...env, HOME: emptyHome, XDG_DATA_HOME: path.join(emptyHome, '.local/share') };
    const before = server.requests.length;
    const none = await run(['status', '--json', '--no-discovery'], emptyEnv);
    assert.equal((JSON.parse(none.stdout) as { usage: unknown }).usage, null);
    const off = await run(['status', '--json', '--no-discovery', '--no-usage'], env);
    assert.equal((JSON.parse(off.stdout) as { usage: unknown }).usage, null);
    assert.equal(server.requests.length, before);
    const key = usageShareKey([server.url, ...new CredentialStore({ env: emptyEnv }).files()]);
    for (const file of Object.values(usageSharePaths(usageShareDir(), key))) fs.rmSync(file, { force: true });
  });
});
