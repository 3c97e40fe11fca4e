/** The labels file: format, cleaning, pruning, and the store (malformed files kept, watching). */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { nullLogger } from '../../../src/core/log';
import type { Logger } from '../../../src/core/log';
import { cleanLabel, displayName, MAX_LABEL_LENGTH } from '../../../src/core/model/labelText';
import { MAX_LABELS_FILE_BYTES, PRUNE_AFTER_MS, defaultLabelsPath, parseLabels, pruneLabels, serializeLabels } from '../../../src/core/labels/labelsFile';
import type { Labels } from '../../../src/core/labels/labelsFile';
import { LabelStore } from '../../../src/core/labels/labelStore';
import { withFileMutex } from '../../../src/core/os/fileMutex';

const roots: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-labels-'));
  roots.push(dir);
  return dir;
}
after(() => {
  for (const r of roots) fs.rmSync(r, { recursive: true, force: true });
});

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const push = (level: string) => (m: unknown) => void lines.push(`${level} ${String(m)}`);
  return { lines, trace: push('trace'), debug: push('debug'), info: push('info'), warn: push('warn'), error: push('error') };
}

function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (check()) return resolve();
      if (Date.now() - start > timeoutMs) return reject(new Error('timed out'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

describe('label text', () => {
  test('strips terminal escapes, control and bidi characters, collapses whitespace', () => {
    assert.equal(cleanLabel('  review\x1b[31m red\x1b[0m\n\tMR\u202e\u0007 '), 'review red MR');
    assert.equal(cleanLabel('\x1b]8;;http://x\x07link'), ']8;;http://x link');
  });
  test('breaks Markdown links and $(icon) references', () => {
    assert.equal(cleanLabel('[click](command:workbench.action.terminal.sendSequence)'), '[click] (command:workbench.action.terminal.sendSequence)');
    assert.equal(cleanLabel('$(zap) fast'), '$ (zap) fast');
  });
  test('bounded length', () => {
    const long = cleanLabel('x'.repeat(500));
    assert.equal([...long].length, MAX_LABEL_LENGTH);
    assert.ok(long.endsWith('…'));
    assert.equal(cleanLabel(''), '');
    assert.equal(cleanLabel(' \n '), '');
  });
  test('display name: label, else title, else the id', () => {
    assert.equal(displayName({ id: 'ses_1', title: 'T', label: 'L' }), 'L');
    assert.equal(displayName({ id: 'ses_1', title: ' T ' }), 'T');
    assert.equal(displayName({ id: 'ses_1', title: '' }), 'Untitled session ses_1');
  });
});

describe('labels file format', () => {
  test('default path per platform', () => {
    assert.equal(defaultLabelsPath({ XDG_STATE_HOME: '/s' }, 'linux', '/h'), '/s/opencode-monitor/labels.json');
    assert.equal(defaultLabelsPath({}, 'linux', '/h'), '/h/.local/state/opencode-monitor/labels.json');
    assert.equal(defaultLabelsPath({}, 'darwin', '/h'), '/h/Library/Application Support/opencode-monitor/labels.json');
  });
  test('round trip, unknown fields tolerated, labels cleaned on read', () => {
    const labels: Labels = new Map([['ses_a', { text: 'one', setAt: 1, seenAt: 2 }]]);
    assert.deepEqual(parseLabels(serializeLabels(labels)), labels);
    const parsed = parseLabels(JSON.stringify({ version: 1, extra: true, labels: { ses_b: { text: 'x\x1b[2Jy', setAt: 5, more: 1 }, ses_c: { text: '  ' } } }));
    assert.deepEqual([...parsed], [['ses_b', { text: 'x y', setAt: 5, seenAt: 5 }]]);
  });
  test('malformed: says what is wrong', () => {
    assert.throws(() => parseLabels('{'), /not JSON/);
    assert.throws(() => parseLabels('[]'), /not a JSON object/);
    assert.throws(() => parseLabels('{"version":2,"labels":{}}'), /unknown version/);
    assert.throws(() => parseLabels('{"version":1,"labels":{"a b":{"text":"x"}}}'), /bad session id/);
    assert.throws(() => parseLabels('{"version":1,"labels":{"ses":{"text":1}}}'), /bad entry/);
  });
  test('prune: unseen for 30 days go, then the oldest past the bound', () => {
    const now = 100 * 24 * 3600_000;
    const labels: Labels = new Map([
      ['old', { text: 'a', setAt: 0, seenAt: now - PRUNE_AFTER_MS - 1 }],
      ['seen', { text: 'b', setAt: 0, seenAt: now - PRUNE_AFTER_MS + 1 }],
      ['new', { text: 'c', setAt: now, seenAt: now }],
    ]);
    assert.equal(pruneLabels(labels, now), 1);
    assert.deepEqual([...labels.keys()], ['seen', 'new']);
    assert.equal(pruneLabels(labels, now, 1), 1);
    assert.deepEqual([...labels.keys()], ['new']);
  });
});

describe('label store', () => {
  test('set, change, remove; file 0600 and read back by another store', async () => {
    const file = path.join(tempDir(), 'state', 'labels.json');
    const store = new LabelStore({ file, logger: nullLogger, watch: false }).start();
    assert.equal(await store.set('ses_a', '  review  MR '), 'review MR');
    assert.equal(store.get('ses_a'), 'review MR');
    assert.equal((fs.statSync(file).mode & 0o777).toString(8), '600');
    const other = new LabelStore({ file, logger: nullLogger, watch: false }).start();
    assert.equal(other.get('ses_a'), 'review MR');
    assert.equal(await other.set('ses_a', ''), undefined);
    store.reload();
    assert.equal(store.get('ses_a'), undefined);
    await assert.rejects(store.set('bad id', 'x'), /not a session id/);
    store.dispose();
    other.dispose();
  });

  test('a label set by one store shows in a watching one', async () => {
    const file = path.join(tempDir(), 'labels.json');
    const watching = new LabelStore({ file, logger: nullLogger, pollMs: 5_000 }).start();
    let fired = 0;
    watching.onDidChange(() => fired++);
    const writer = new LabelStore({ file, logger: nullLogger, watch: false }).start();
    const t0 = Date.now();
    await writer.set('ses_w', 'watched');
    await until(() => watching.get('ses_w') === 'watched');
    console.log(`# label seen by a watching store after ${Date.now() - t0} ms`);
    assert.equal(fired, 1);
    watching.dispose();
    writer.dispose();
  });

  test('malformed file: clear error, nothing lost (kept as .bad when replaced)', async () => {
    const file = path.join(tempDir(), 'labels.json');
    fs.writeFileSync(file, '{"version":1,"labels":{"ses_a":');
    const log = capture();
    const store = new LabelStore({ file, logger: log, watch: false }).start();
    assert.match(store.error ?? '', /malformed: not JSON/);
    assert.ok(log.lines.some((l) => l.startsWith('error') && l.includes('malformed')));
    assert.equal(fs.readFileSync(file, 'utf8'), '{"version":1,"labels":{"ses_a":', 'reading never changes it');
    await store.set('ses_b', 'new');
    assert.equal(fs.readFileSync(`${file}.bad`, 'utf8'), '{"version":1,"labels":{"ses_a":');
    assert.equal(store.error, undefined);
    assert.ok(log.lines.some((l) => l.includes('kept as') && l.includes('.bad')));
    assert.equal(parseLabels(fs.readFileSync(file, 'utf8')).get('ses_b')?.text, 'new');
    store.dispose();
  });

  test('too large a file is not read into memory', () => {
    const file = path.join(tempDir(), 'labels.json');
    fs.writeFileSync(file, ' '.repeat(MAX_LABELS_FILE_BYTES + 1));
    const store = new LabelStore({ file, logger: nullLogger, watch: false }).start();
    assert.match(store.error ?? '', /too large/);
    store.dispose();
  });

  test('a symlink at the labels path is not followed', async () => {
    const dir = tempDir();
    const target = path.join(dir, 'elsewhere.json');
    fs.writeFileSync(target, JSON.stringify({ version: 1, labels: { ses_x: { text: 'secret' } } }));
    const file = path.join(dir, 'labels.json');
    fs.symlinkSync(target, file);
    const store = new LabelStore({ file, logger: nullLogger, watch: false }).start();
    assert.match(store.error ?? '', /symbolic link/);
    assert.equal(store.get('ses_x'), undefined);
    await store.set('ses_y', 'mine');
    assert.ok(fs.lstatSync(`${file}.bad`).isSymbolicLink(), 'the link itself is kept aside');
    assert.ok(fs.lstatSync(file).isFile());
    assert.equal(JSON.parse(fs.readFileSync(target, 'utf8')).labels.ses_x.text, 'secret', 'the target is untouched');
    store.dispose();
  });

  test('seen sessions refresh their time; unseen ones are pruned on the next write', async () => {
    const file = path.join(tempDir(), 'labels.json');
    const day = 24 * 3600_000;
    let now = 1_000 * day;
    const store = new LabelStore({ file, logger: nullLogger, watch: false, now: () => now }).start();
    await store.set('ses_kept', 'kept');
    await store.set('ses_gone', 'gone');
    now += 20 * day;
    store.noteSeen(['ses_kept']);
    await new Promise((r) => setTimeout(r, 2_200));
    await store.flushed();
    now += 20 * day;
    await store.set('ses_other', 'x');
    assert.equal(store.get('ses_kept'), 'kept');
    assert.equal(store.get('ses_gone'), undefined, 'unseen for 40 days');
    store.dispose();
  });

  test('the mutex serialises writers and a lock left by a dead process is taken over', async () => {
    const file = path.join(tempDir(), 'labels.json');
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: 2 ** 22 + 12345, hostname: os.hostname(), owner: 'dead', heartbeat: Date.now(), token: 't', acquiredAt: Date.now() }));
    let inside = 0;
    let overlap = false;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        withFileMutex(file, async () => {
          inside++;
          if (inside > 1) overlap = true;
          await new Promise((r) => setTimeout(r, 2));
          inside--;
        }),
      ),
    );
    assert.equal(overlap, false);
    assert.equal(fs.existsSync(`${file}.lock`), false);
  });
});
