/**
 * Finding 4 (issue 11): the CLI printed server text raw, so a server could retitle the terminal
 * (`ESC]0;`), write the clipboard (`ESC]52;`), or send C1 CSI. The real built CLI (dist/cli.js,
 * `npm run build`) against the hostile server: no output path lets a control character through.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toolArg } from '../../src/core/model/toolArg';
import { renderTable } from '../../src/cli/table';
import { HOSTILE_TEXT, startHostileOpencode } from '../fixtures/hostileOpencode';
import type { HostileOpencode } from '../fixtures/hostileOpencode';
import { makeInstance, makeSession, makeSnapshot } from '../fixtures/legacy/snapshots';

const cli = path.resolve(__dirname, '../../../dist/cli.js');

/** C0 except tab and newline, DEL, C1, bidi overrides/isolates. */
 
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

function unsafeAt(text: string): string | undefined {
  const m = UNSAFE.exec(text);
  return m ? `U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} in …${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 20))}` : undefined;
}

/** Runs the CLI; stops it (by PID) after `stopAfterMs` for the commands that run until interrupted. */
function run(args: string[], stopAfterMs?: number): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { env: { ...process.env, OPENCODE_SERVER_PASSWORD: '', HOME: '/nonexistent' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr += d));
    const timer = stopAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGINT'), stopAfterMs);
    const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(killer);
      // latin1 keeps raw bytes visible (a C1 byte 0x9b of UTF-8 `\u009b` is `\xc2\x9b`).
      resolve({ stdout: Buffer.from(stdout, 'latin1').toString('utf8'), stderr: Buffer.from(stderr, 'latin1').toString('utf8'), code });
    });
  });
}

describe('finding 4: the CLI never prints server text raw', { timeout: 120_000 }, () => {
  let server: HostileOpencode;
  before(async () => {
    server = await startHostileOpencode();
  });
  after(() => server.close());

  test('finding 4: status (human) output has no control characters', async () => {
    const r = await run(['status', '--no-discovery', '--no-usage', '--endpoint', server.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pwn/, 'the hostile title is shown (cleaned)');
    assert.equal(unsafeAt(r.stdout), undefined);
    assert.equal(unsafeAt(r.stderr), undefined);
  });

  test('finding 4: status --json has no raw control characters', async () => {
    const r = await run(['status', '--json', '--no-discovery', '--no-usage', '--endpoint', server.url]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(unsafeAt(r.stdout), undefined);
    JSON.parse(r.stdout);
  });

  test('finding 4: watch table has no control characters but its own colours', async () => {
    const r = await run(['watch', '--no-discovery', '--no-usage', '--endpoint', server.url], 2_500);
    assert.match(r.stdout, /pwn/);
    assert.equal(unsafeAt(r.stdout), undefined);
    assert.equal(unsafeAt(r.stderr), undefined);
  });

  test('finding 4: probe (human and --json) has no control characters', async () => {
    for (const extra of [[], ['--json']]) {
      const r = await run(['probe', server.url, ...extra]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /pwn/);
      assert.equal(unsafeAt(r.stdout), undefined, `probe ${extra.join(' ')}`);
    }
  });

  test('finding 4: events has no control characters', async () => {
    const r = await run(['events', server.url], 2_000);
    assert.match(r.stdout, /evil\.type/);
    assert.equal(unsafeAt(r.stdout), undefined);
    assert.equal(unsafeAt(r.stderr), undefined);
  });

  test('finding 4: the table lets only its own colour codes through, and toolArg drops C1', () => {
    const snapshot = makeSnapshot([makeInstance({ version: HOSTILE_TEXT, error: HOSTILE_TEXT } as never)], [makeSession({ title: HOSTILE_TEXT, lastError: HOSTILE_TEXT })]);
    for (const width of [10, 40, 200]) {
      const text = renderTable(snapshot, { now: Date.now(), width, color: true });
      const withoutSgr = text.replace(/\x1b\[[0-9;]*m/g, '');
      assert.equal(unsafeAt(withoutSgr), undefined, `width ${width}`);
    }
    assert.equal(unsafeAt(toolArg('bash', { command: `ls \x9b31m \u202eevil` })), undefined);
  });
});
