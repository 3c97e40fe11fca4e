/**
 * Finding 2 (issue 11): a repository's settings could point the legacy state file at the user's
 * files (~/.bashrc) and the writer replaced them. Now the settings are machine-scoped, and the
 * writer replaces only a monitor file of this user, never a symlink, never creating folders.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { MemoryLogger } from '../../src/core/log';
import { LegacyWriter } from '../../src/core/legacy/legacyWriter';
import type { LegacyWriterLock } from '../../src/core/legacy/legacyWriter';
import { Emitter } from '../../src/core/util/events';
import { makeInstance, makeSession, makeSnapshot } from '../fixtures/legacy/snapshots';
import { contributedSettings } from '../harness/manifestSettings';

const holder: LegacyWriterLock = { isHolder: () => true, onChange: new Emitter<boolean>().event };

function writerFor(t: TestContext, statePath: string, usagePath: string) {
  const logger = new MemoryLogger();
  const writer = new LegacyWriter({ statePath, usagePath, lock: holder, logger, refresher: { notify: () => undefined }, legacyDaemonLocks: [] });
  t.after(() => writer.dispose());
  const usage = { fiveHour: { percent: 10, resetsAt: null }, fetchedAt: Date.now(), stale: false, source: 'claude-code' } as never;
  writer.update(makeSnapshot([makeInstance()], [makeSession({ title: 'x' })], usage));
  return { writer, logger };
}

function temp(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-trust-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('finding 2: the legacy file settings are machine-scoped', () => {
  const settings = contributedSettings();
  for (const key of ['enabled', 'statePath', 'usagePath']) {
    assert.equal(settings[`opencodeMonitor.legacyFiles.${key}`]?.scope, 'machine', key);
  }
});

test('finding 2: the writer does not replace a file that is not a monitor file (a ~/.bashrc)', (t) => {
  const dir = temp(t);
  const bashrc = path.join(dir, '.bashrc');
  const usage = path.join(dir, 'notes.json');
  fs.writeFileSync(bashrc, 'export PATH=$HOME/bin:$PATH\n', { mode: 0o644 });
  fs.writeFileSync(usage, '{"my":"notes"}\n', { mode: 0o644 });
  const { logger } = writerFor(t, bashrc, usage);
  assert.equal(fs.readFileSync(bashrc, 'utf8'), 'export PATH=$HOME/bin:$PATH\n');
  assert.equal(fs.statSync(bashrc).mode & 0o777, 0o644, 'mode unchanged');
  assert.equal(fs.readFileSync(usage, 'utf8'), '{"my":"notes"}\n');
  assert.match(logger.text(), /legacy state file: not writing .*\.bashrc: it is not a monitor state file/);
  assert.match(logger.text(), /legacy usage file: not writing .*notes\.json/);
});

test('finding 2: the writer never creates folders for the file', (t) => {
  const dir = temp(t);
  const state = path.join(dir, 'a', 'b', 'state.json');
  const { logger } = writerFor(t, state, path.join(dir, 'usage.json'));
  assert.equal(fs.existsSync(path.join(dir, 'a')), false, 'folder created');
  assert.match(logger.text(), /does not exist \(folders are never created/);
  assert.ok(fs.existsSync(path.join(dir, 'usage.json')), 'the other file keeps working');
});

test('finding 2: the writer refuses a symlink, and replaces its own file', (t) => {
  const dir = temp(t);
  const target = path.join(dir, 'victim');
  fs.writeFileSync(target, '{"updated":1,"instances":[],"connected":false}');
  const link = path.join(dir, 'state.json');
  fs.symlinkSync(target, link);
  const usagePath = path.join(dir, 'usage.json');
  fs.writeFileSync(usagePath, '{"error":"api_error","updated":1}\n');
  const { logger } = writerFor(t, link, usagePath);
  assert.ok(fs.lstatSync(link).isSymbolicLink(), 'symlink replaced');
  assert.match(logger.text(), /symbolic link/);
  assert.equal(JSON.parse(fs.readFileSync(usagePath, 'utf8')).five_hour.utilization, 10, 'our own usage file is replaced');
});
