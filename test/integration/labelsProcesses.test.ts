/**
 * Labels across real processes: several processes write the one labels file at the same moment
 * (read-modify-write under the file mutex) and no label is lost; a process watching the file
 * sees a label another process set.
 */
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { parseLabels } from '../../src/core/labels/labelsFile';
import { LabelStore } from '../../src/core/labels/labelStore';
import { nullLogger } from '../../src/core/log';

const storeModule = path.resolve(__dirname, '../../src/core/labels/labelStore.js');
const logModule = path.resolve(__dirname, '../../src/core/log.js');

/** A writer process: waits for the start time, then sets `count` labels one after the other. */
const WRITER = `
const { LabelStore } = require(${JSON.stringify(storeModule)});
const { nullLogger } = require(${JSON.stringify(logModule)});
const [file, name, count, startAt] = process.argv.slice(1);
const store = new LabelStore({ file, logger: nullLogger, watch: false }).start();
setTimeout(async () => {
  for (let i = 0; i < Number(count); i++) await store.set('ses_' + name + '_' + i, 'label ' + name + ' ' + i);
  await store.set('ses_shared', 'written by ' + name);
  store.dispose();
}, Math.max(0, Number(startAt) - Date.now()));
`;

function run(args: string[]): Promise<{ code: number | null; stderr: string; pid: number }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', WRITER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('exit', (code) => resolve({ code, stderr, pid: child.pid ?? 0 }));
  });
}

describe('labels file shared by processes', { timeout: 120_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-labels-procs-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('8 processes × 25 labels written at once: none lost, file valid, no lock left', async () => {
    const file = path.join(dir, 'labels.json');
    const watcher = new LabelStore({ file, logger: nullLogger, pollMs: 60_000 }).start();
    let changes = 0;
    watcher.onDidChange(() => changes++);
    const processes = 8;
    const perProcess = 25;
    const startAt = Date.now() + 1_500; // every process loaded and waiting: they start together
    const t0 = Date.now();
    const results = await Promise.all(Array.from({ length: processes }, (_, p) => run([file, `p${p}`, String(perProcess), String(startAt)])));
    const elapsed = Date.now() - startAt;
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const labels = parseLabels(fs.readFileSync(file, 'utf8'));
    assert.equal(labels.size, processes * perProcess + 1, 'every label of every process is there');
    for (let p = 0; p < processes; p++) for (let i = 0; i < perProcess; i++) assert.equal(labels.get(`ses_p${p}_${i}`)?.text, `label p${p} ${i}`);
    assert.match(labels.get('ses_shared')?.text ?? '', /^written by p\d$/);
    assert.equal(fs.existsSync(`${file}.lock`), false, 'no lock left behind');
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp') || n.endsWith('.new') || n.endsWith('.stale')), [], 'no temp files left');
    console.log(`# ${processes * perProcess + processes} read-modify-writes by ${processes} processes at once: ${elapsed} ms (${(elapsed / (processes * perProcess + processes)).toFixed(1)} ms each), spawn to done ${Date.now() - t0} ms`);
    // The watching store (this process) followed: it has every label.
    const deadline = Date.now() + 5_000;
    while (watcher.all().size !== labels.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(watcher.all().size, labels.size, 'the watching process sees them all');
    assert.ok(changes > 0);
    watcher.dispose();
  });

  it('a writer killed while holding the lock does not block the others', async () => {
    const file = path.join(dir, 'killed.json');
    // A lock file of a process that no longer exists, as SIGKILL would leave it.
    const dead = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => dead.once('exit', r));
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: dead.pid, hostname: os.hostname(), owner: 'killed', heartbeat: Date.now(), token: 'x', acquiredAt: Date.now() }) + '\n');
    const t0 = Date.now();
    const r = await run([file, 'after', '3', String(Date.now())]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(parseLabels(fs.readFileSync(file, 'utf8')).size, 4);
    console.log(`# stale lock of a dead writer taken over: ${Date.now() - t0} ms for 4 writes`);
  });
});
