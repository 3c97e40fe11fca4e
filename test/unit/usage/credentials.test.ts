/** Credential sources, their order, expiry, read-only access, change detection and redaction. */
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { CredentialStore, credentialPaths, isExpired } from '../../../src/core/usage/credentials';
import type { CredentialStoreOptions } from '../../../src/core/usage/credentials';
import { keychainServices, securityKeychainReader } from '../../../src/core/usage/keychain';
import type { KeychainReader } from '../../../src/core/usage/keychain';
import { normalizeEpochMs } from '../../../src/core/usage/tokenFormats';
import { UsageCredential } from '../../../src/core/usage/usageCredential';
import type { CredentialLookup } from '../../../src/core/usage/usageCredential';
import type { SqliteLoad } from '../../../src/core/db/sqlite';
import { claudeCredentials, readTree, secretToken, tempDir, writeJson } from './support';

const NOW = Date.UTC(2026, 8, 1, 12, 0, 0);
const HOUR = 3600_000;
const dirs: string[] = [];

function home(): string {
  const dir = tempDir('ocm-cred-');
  dirs.push(dir);
  return dir;
}

function store(env: NodeJS.ProcessEnv, options: Partial<CredentialStoreOptions> = {}): CredentialStore {
  return new CredentialStore({ env, platform: 'linux', now: () => NOW, ...options });
}

function token(lookup: CredentialLookup): string | undefined {
  return lookup.ok ? lookup.credential.bearer() : undefined;
}

after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('CredentialStore', () => {
  it('reads Claude Code’s credentials file', async () => {
    const h = home();
    const t = secretToken();
    writeJson(path.join(h, '.claude/.credentials.json'), claudeCredentials(t, NOW + HOUR));
    const lookup = await store({ HOME: h }).resolve();
    assert.equal(token(lookup), t);
    assert.ok(lookup.ok);
    assert.equal(lookup.credential.source, 'claude-code');
    assert.equal(lookup.credential.expiresAt, NOW + HOUR);
  });

  it('honours CLAUDE_CONFIG_DIR and XDG_DATA_HOME', async () => {
    const h = home();
    const claudeDir = path.join(h, 'elsewhere/claude');
    const t = secretToken();
    writeJson(path.join(claudeDir, '.credentials.json'), claudeCredentials(t, NOW + HOUR));
    writeJson(path.join(h, '.claude/.credentials.json'), claudeCredentials(secretToken(), NOW + HOUR));
    assert.equal(token(await store({ HOME: h, CLAUDE_CONFIG_DIR: claudeDir }).resolve()), t);

    const data = path.join(h, 'xdg');
    const t2 = secretToken();
    writeJson(path.join(data, 'opencode/auth.json'), { anthropic: { type: 'oauth', access: t2, refresh: 'r', expires: NOW + HOUR } });
    const paths = credentialPaths({ HOME: h, XDG_DATA_HOME: data });
    assert.equal(paths.opencodeAuth, path.join(data, 'opencode/auth.json'));
    assert.equal(token(await store({ HOME: path.join(h, 'nobody'), XDG_DATA_HOME: data }).resolve()), t2);
  });

  it('reports an expired token without handing it out', async () => {
    const h = home();
    const t = secretToken();
    writeJson(path.join(h, '.claude/.credentials.json'), claudeCredentials(t, NOW - 1000));
    const lookup = await store({ HOME: h }).resolve();
    assert.equal(lookup.ok, false);
    assert.ok(!lookup.ok);
    assert.equal(lookup.reason, 'token_expired');
    assert.equal(lookup.source, 'claude-code');
    assert.equal(lookup.expiresAt, NOW - 1000);
    assert.equal(JSON.stringify(lookup).includes(t), false);
    // Within the skew counts as expired too: it would expire in flight.
    writeJson(path.join(h, '.claude/.credentials.json'), claudeCredentials(t, NOW + 30_000));
    assert.equal((await store({ HOME: h }).resolve()).ok, false);
  });

  it('says why nothing usable was found', async () => {
    const h = home();
    assert.deepEqual(await store({ HOME: h }).resolve(), { ok: false, reason: 'auth_not_found', detail: 'no Claude sign-in found (Claude Code or OpenCode)' });

    const file = path.join(h, '.claude/.credentials.json');
    writeJson(file, { mcpOAuth: { something: {} } });
    assert.equal(((await store({ HOME: h }).resolve()) as { reason: string }).reason, 'auth_not_found', 'no Claude.ai sign-in in the file');

    writeJson(file, { claudeAiOauth: { accessToken: '', expiresAt: NOW + HOUR } });
    assert.equal(((await store({ HOME: h }).resolve()) as { reason: string }).reason, 'token_not_found');

    const t = secretToken();
    fs.writeFileSync(file, `{"claudeAiOauth": {"accessToken": "${t}", `);
    const broken = await store({ HOME: h }).resolve();
    assert.equal((broken as { reason: string }).reason, 'token_not_found');
    assert.equal(JSON.stringify(broken).includes(t), false, 'a broken file is not quoted');

    writeJson(file, claudeCredentials(t, NOW + HOUR, { scopes: ['user:inference'] }));
    const scope = await store({ HOME: h }).resolve();
    assert.equal((scope as { reason: string }).reason, 'missing_scope', 'an inference-only token is not even tried');
    assert.equal(JSON.stringify(scope).includes(t), false);
  });

  it('reads the anthropic OAuth entry of OpenCode’s auth.json, and ignores API keys', async () => {
    const h = home();
    const file = path.join(h, '.local/share/opencode/auth.json');
    writeJson(file, { openai: { type: 'oauth', access: 'x', refresh: 'y', expires: NOW + HOUR }, anthropic: { type: 'api', key: 'sk-ant-api03-key' } });
    assert.equal(((await store({ HOME: h }).resolve()) as { reason: string }).reason, 'auth_not_found');
    const t = secretToken();
    writeJson(file, { anthropic: { type: 'oauth', access: t, refresh: 'sk-ant-ort01-r', expires: Math.floor((NOW + HOUR) / 1000) } });
    const lookup = await store({ HOME: h }).resolve();
    assert.equal(token(lookup), t);
    assert.ok(lookup.ok);
    assert.equal(lookup.credential.source, 'opencode-auth');
    assert.equal(lookup.credential.expiresAt, NOW + HOUR, 'seconds are read as seconds');
  });

  it('takes the first source with a live token: Claude Code, then OpenCode', async () => {
    const h = home();
    const claude = secretToken();
    const opencode = secretToken();
    const claudeFile = path.join(h, '.claude/.credentials.json');
    writeJson(claudeFile, claudeCredentials(claude, NOW + HOUR));
    writeJson(path.join(h, '.local/share/opencode/auth.json'), { anthropic: { type: 'oauth', access: opencode, refresh: 'r', expires: NOW + HOUR } });
    assert.equal(token(await store({ HOME: h }).resolve()), claude);
    writeJson(claudeFile, claudeCredentials(claude, NOW - HOUR));
    assert.equal(token(await store({ HOME: h }).resolve()), opencode, 'an expired first source falls through');
  });

  it('asks the macOS Keychain with an argument array, after the file and only on macOS', async () => {
    const h = home();
    const t = secretToken();
    const asked: Array<[string, string | undefined]> = [];
    const keychain: KeychainReader = (service, account) => {
      asked.push([service, account]);
      return Promise.resolve(service === 'Claude Code-credentials' ? JSON.stringify(claudeCredentials(t, NOW + HOUR)) : undefined);
    };
    const lookup = await store({ HOME: h, USER: 'me' }, { platform: 'darwin', keychain }).resolve();
    assert.equal(token(lookup), t);
    assert.ok(lookup.ok);
    assert.equal(lookup.credential.source, 'claude-code-keychain');
    assert.deepEqual(asked, [['Claude Code-credentials', 'me']]);

    asked.length = 0;
    await store({ HOME: h, USER: 'me', CLAUDE_CONFIG_DIR: '/cfg/claude' }, { platform: 'darwin', keychain }).resolve();
    assert.deepEqual(
      asked.map((a) => a[0]),
      [...keychainServices('/cfg/claude')],
    );
    assert.match(asked[0]![0], /^Claude Code-credentials-[0-9a-f]{8}$/);

    asked.length = 0;
    await store({ HOME: h, USER: 'me' }, { platform: 'linux', keychain }).resolve();
    assert.equal(asked.length, 0, 'never outside macOS');

    // Hex output (`security -w` prints non-printable secrets as hex).
    const hex = Buffer.from(JSON.stringify(claudeCredentials(t, NOW + HOUR))).toString('hex');
    assert.equal(token(await store({ HOME: h }, { platform: 'darwin', keychain: () => Promise.resolve(hex) }).resolve()), t);
  });

  it('stops asking the Keychain for an hour after a denial', async () => {
    const h = home();
    let calls = 0;
    const s = store({ HOME: h }, { platform: 'darwin', keychain: () => (calls++, Promise.reject(new Error('security exited with 128'))) });
    assert.equal(((await s.resolve()) as { reason: string }).reason, 'auth_not_found');
    await s.resolve();
    assert.equal(calls, 1);
  });

  it('runs `security find-generic-password` without a shell and maps "not found"', async () => {
    const seen: Array<{ file: string; args: string[] }> = [];
    const reader = securityKeychainReader((file, args) => {
      seen.push({ file, args });
      return Promise.resolve('{"claudeAiOauth":{}}\n');
    });
    assert.equal(await reader('Claude Code-credentials', 'me'), '{"claudeAiOauth":{}}\n');
    assert.deepEqual(seen, [{ file: 'security', args: ['find-generic-password', '-s', 'Claude Code-credentials', '-a', 'me', '-w'] }]);
    const notFound = securityKeychainReader(() => Promise.reject(Object.assign(new Error('The specified item could not be found'), { code: 44 })));
    assert.equal(await notFound('x', undefined), undefined);
    const secret = secretToken();
    const denied = securityKeychainReader(() => Promise.reject(Object.assign(new Error(`Command failed: ${secret}`), { code: 128 })));
    await assert.rejects(denied('x', 'me'), (error: Error) => error.message === 'security exited with 128');
  });

  it('reads OpenCode 2.x credential rows through node:sqlite, active row first', async () => {
    const h = home();
    const dbFile = path.join(h, '.local/share/opencode/opencode.db');
    fs.mkdirSync(path.dirname(dbFile), { recursive: true });
    fs.writeFileSync(dbFile, 'not really sqlite, the module is fake');
    const active = secretToken();
    const queries: string[] = [];
    const fake: SqliteLoad = {
      sqlite: {
        DatabaseSync: class {
          constructor(
            readonly file: string,
            readonly options?: { readOnly?: boolean },
          ) {
            assert.equal(options?.readOnly, true, 'opened read-only');
          }
          prepare(sql: string) {
            queries.push(sql);
            return {
              get: () => ({ name: 'credential' }),
              all: () => [{ value: 'not json' }, { value: JSON.stringify({ type: 'oauth', methodID: 'x', refresh: 'r', access: active, expires: NOW + HOUR }) }],
            };
          }
          exec() {}
          close() {}
        },
      },
    };
    const lookup = await store({ HOME: h }, { loadSqlite: () => fake }).resolve();
    assert.equal(token(lookup), active);
    assert.ok(lookup.ok);
    assert.equal(lookup.credential.source, 'opencode-db');
    assert.match(queries[1]!, /integration_id = 'anthropic' ORDER BY CASE WHEN active THEN 0 ELSE 1 END, time_updated DESC/);

    // Without node:sqlite the source is skipped quietly.
    const none = await store({ HOME: h }, { loadSqlite: () => ({ reason: 'node:sqlite needs Node ≥ 22.13' }) }).resolve();
    assert.equal((none as { reason: string }).reason, 'auth_not_found');
  });

  it('only reads: no file is changed or created', async () => {
    const h = home();
    writeJson(path.join(h, '.claude/.credentials.json'), claudeCredentials(secretToken(), NOW - HOUR));
    writeJson(path.join(h, '.local/share/opencode/auth.json'), { anthropic: { type: 'oauth', access: secretToken(), refresh: 'r', expires: NOW - HOUR } });
    const before = readTree(h).map((f) => ({ ...f, mtime: fs.statSync(f.file).mtimeMs }));
    await store({ HOME: h }).resolve();
    const afterFiles = readTree(h).map((f) => ({ ...f, mtime: fs.statSync(f.file).mtimeMs }));
    assert.deepEqual(afterFiles, before);
  });

  it('notices when a credential file is replaced, created or removed', async () => {
    const h = home();
    const file = path.join(h, '.claude/.credentials.json');
    const s = store({ HOME: h }, { watchIntervalMs: 20 });
    let changes = 0;
    s.onDidChange(() => changes++);
    s.start();
    const waitChange = async (expected: number) => {
      const start = Date.now();
      while (changes < expected && Date.now() - start < 2_000) await new Promise((r) => setTimeout(r, 10));
      assert.equal(changes, expected);
    };
    writeJson(file, claudeCredentials(secretToken(), NOW + HOUR));
    await waitChange(1);
    // Replaced by rename, as careful writers do.
    writeJson(file + '.tmp', claudeCredentials(secretToken(), NOW + 2 * HOUR));
    fs.renameSync(file + '.tmp', file);
    await waitChange(2);
    fs.rmSync(file);
    await waitChange(3);
    s.dispose();
  });
});

describe('UsageCredential', () => {
  it('never shows its token through JSON or inspect', () => {
    const t = secretToken();
    const c = new UsageCredential(t, 'opencode-auth', 123);
    assert.equal(JSON.stringify({ c }).includes(t), false);
    assert.equal(inspect(c, { showHidden: true, depth: 5 }).includes(t), false);
    assert.equal(String(Object.values(c)).includes(t), false);
    assert.equal(c.bearer(), t);
    assert.ok(c.sameToken(new UsageCredential(t, 'claude-code')));
    assert.ok(!c.sameToken(new UsageCredential(secretToken(), 'opencode-auth')));
  });
});

describe('credential helpers', () => {
  it('normalizes expiry values', () => {
    assert.equal(normalizeEpochMs(1790000000000), 1790000000000);
    assert.equal(normalizeEpochMs(1790000000), 1790000000000);
    assert.equal(normalizeEpochMs('1790000000000'), 1790000000000);
    assert.equal(normalizeEpochMs('2026-09-01T00:00:00Z'), Date.UTC(2026, 8, 1));
    assert.equal(normalizeEpochMs(0), undefined, 'Copilot-style 0: unknown');
    assert.equal(normalizeEpochMs(null), undefined);
    assert.equal(isExpired(undefined, NOW), false, 'unknown expiry: let the API decide');
    assert.equal(isExpired(NOW + 61_000, NOW), false);
    assert.equal(isExpired(NOW + 59_000, NOW), true);
  });
});
