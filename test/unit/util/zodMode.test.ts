/**
 * Issue 18, item 7: VS Code's extension host traps `globalThis.navigator` and logs
 * `PendingMigrationError` at error level when an extension reads it; zod read it on the first
 * object parse. With `zodMode` imported first (both hosts do) nothing reads it.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const samples = resolve(__dirname, '../../../../test/fixtures/samples/opencode-1.18.33');
const schemasModule = resolve(__dirname, '../../../src/core/opencode/schemas.js');
const modeModule = resolve(__dirname, '../../../src/core/util/zodMode.js');

/** Parses a real server's answers in a fresh process whose `navigator` getter counts reads. */
function readsOfNavigator(configure: boolean): number {
  const script = `
    let reads = 0;
    Object.defineProperty(globalThis, 'navigator', { configurable: true, get() { reads++; return undefined; } });
    ${configure ? `require(${JSON.stringify(modeModule)});` : ''}
    const s = require(${JSON.stringify(schemasModule)});
    const raw = JSON.parse(require('node:fs').readFileSync(${JSON.stringify(resolve(samples, 'busy/server-1.json'))}, 'utf8'));
    for (const x of raw['GET /session']) s.sessionSchema.parse(x);
    for (const x of raw['GET /permission']) s.permissionRequestSchema.parse(x);
    s.statusMapSchema.parse(raw['GET /session/status']);
    process.stdout.write(String(reads));
  `;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, run.stderr);
  return Number(run.stdout);
}

describe('zod without eval', () => {
  it('parsing real server answers never reads globalThis.navigator', () => {
    assert.ok(readFileSync(resolve(samples, 'busy/server-1.json')).length > 0);
    assert.equal(readsOfNavigator(true), 0);
  });

  const bundle = resolve(__dirname, '../../../../dist/extension.js');
  it('loading the extension bundle reads navigator 0 times: its schemas are built after the mode is set', { skip: existsSync(bundle) ? false : 'no dist/extension.js (npm test builds it first)' }, () => {
    const stubHost = resolve(__dirname, '../../../bench/stubHost.js');
    const entry = bundle;
    const script = `
      let reads = 0;
      Object.defineProperty(globalThis, 'navigator', { configurable: true, get() { reads++; return undefined; } });
      require(${JSON.stringify(stubHost)}).installStubHost();
      require(${JSON.stringify(entry)});
      process.stdout.write(String(reads));
    `;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(run.status, 0, run.stderr);
    assert.equal(Number(run.stdout), 0);
  });

  it('(control) without it, zod reads navigator on the first object parse: the trap works', () => {
    assert.ok(readsOfNavigator(false) > 0);
  });
});
