/**
 * Finding 8 (issue 11, LOW): the writer lock in a per-user place; the usage token redacted in
 * encoded forms; numeric options and settings bounded; nesting depth bounded in session keys;
 * `watch` lines per session capped.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { parseArgs } from '../../src/cli/args';
import { renderTable } from '../../src/cli/table';
import type { PermissionModel } from '../../src/core/model/model';
import { InstanceState } from '../../src/core/monitor/instanceState';
import { userLockPath } from '../../src/core/os/userLockPath';
import { redactSecrets, safeExcerpt } from '../../src/core/usage/redact';
import { makeInstance, makeSession, makeSnapshot } from '../fixtures/legacy/snapshots';
import { contributedSettings } from '../harness/manifestSettings';

test('finding 8: the legacy writer lock is in a 0700 folder of this user, the same for every host', () => {
  const lock = userLockPath();
  assert.notEqual(lock, '/tmp/opencode-monitor-writer.lock');
  const dir = path.dirname(lock);
  const st = fs.lstatSync(dir);
  assert.ok(st.isDirectory() && !st.isSymbolicLink());
  assert.equal(st.uid, process.getuid?.());
  assert.equal(st.mode & 0o077, 0, `mode ${(st.mode & 0o777).toString(8)}`);
  assert.equal(userLockPath(), lock, 'stable');
  // Both hosts use startLegacyFiles, whose default is this path.
  const source = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'src', 'core', 'legacy', 'legacyFiles.ts'), 'utf8');
  assert.match(source, /lockPath \?\? userLockPath\(\)/);
});

test('finding 8: the usage token is redacted in base64, \\u002d-escaped and JSON-escaped forms', () => {
  const token = 'sk-ant-oat01-AbCdEfGhIjKlMnOpQrStUvWxYz_0123456789-zyx';
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const bodies = [
    `{"error":"bad token ${token}"}`,
    `{"error":"bad token ${token.replace(/-/g, '\\u002d')}"}`,
    `{"error":"bad token ${token.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}"}`,
    `{"echo":"${b64(token)}"}`,
    `{"echo":"${b64(`Bearer ${token}`)}"}`,
    `{"echo":"${b64(`x:${token}`)}"}`,
    `{"echo":"${Buffer.from(`ab${token}`).toString('base64url')}"}`,
  ];
  const opaque = 'Zq9vLk2mPx7wRt4yBn8cVd3sFh6jGa1u'; // a token not shaped like an Anthropic key
  bodies.push(`{"echo":"${b64(opaque)}"}`, `{"echo":"${b64('..' + opaque)}"}`);
  for (const body of bodies) {
    const out = safeExcerpt(redactSecrets(body, [token, opaque]), [token, opaque], 10_000);
    for (const t of [token, opaque]) {
      // No 12-character run of the token, nor of its base64 at any alignment, survives.
      for (const probe of [t, b64(t), b64('.' + t), b64('..' + t)]) {
        for (let i = 2; i + 14 <= probe.length - 3; i += 7) assert.ok(!out.includes(probe.slice(i, i + 12)), `${JSON.stringify(body.slice(0, 60))} → ${out}`);
      }
    }
  }
});

test('finding 8: --interval above 2^31-1 ms is a clear error, not a 1 ms timer', () => {
  assert.throws(() => parseArgs(['watch', '--interval', String(2 ** 31)]), /--interval must be a number of milliseconds from 100 to 2147483647/);
  assert.throws(() => parseArgs(['watch', '--interval', '1e400']), /--interval/);
  assert.equal(parseArgs(['watch', '--interval', '2147483647']).interval, 2147483647);
});

test('finding 8: every numeric setting has a minimum and a maximum', () => {
  const settings = contributedSettings();
  for (const [key, p] of Object.entries(settings)) {
    if (p.type !== 'number' && p.type !== 'integer') continue;
    assert.ok(typeof p.minimum === 'number' && typeof p.maximum === 'number' && p.maximum <= 2 ** 31 - 1, key);
  }
});

test('finding 8: a 20 000-deep nested session field does not overflow the stack', () => {
  let deep: unknown = 1;
  for (let i = 0; i < 20_000; i++) deep = { a: deep };
  const state = new InstanceState();
  const info = { id: 'ses_deep', slug: 's', projectID: 'p', directory: '/d', title: 't', version: '1', time: { created: 1, updated: 2 }, tokens: deep } as never;
  state.apply({ type: 'session.updated', properties: { info } } as never);
  assert.doesNotThrow(() => state.apply({ type: 'session.updated', properties: { info } } as never));
  assert.doesNotThrow(() => state.apply({ type: 'session.status', properties: { sessionID: 'ses_deep', status: { type: 'busy', extra: deep } } } as never));
  assert.doesNotThrow(() => state.apply({ type: 'session.status', properties: { sessionID: 'ses_deep', status: { type: 'busy', extra: deep } } } as never));
});

test('finding 8: watch prints at most a few permission lines per session, then "… and K more"', () => {
  const permissions: PermissionModel[] = Array.from({ length: 500 }, (_, i) => ({ id: `per_${i}`, sessionId: 'ses_1', permission: 'bash', patterns: [`cmd ${i}`], command: `cmd ${i}`, always: [], askedAt: 1 }));
  const text = renderTable(makeSnapshot([makeInstance()], [makeSession({ id: 'ses_1', needsAttention: true, permissions })]), { now: 2, width: 200, color: false });
  const lines = text.split('\n').filter((l) => l.includes('🔐'));
  assert.ok(lines.length <= 10, `${lines.length} permission lines`);
  assert.match(text, /… and 49\d more/);
});
