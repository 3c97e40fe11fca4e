/**
 * The Claude Code source on real files in a temp folder: incremental, bounded transcript reads;
 * stale registry files (dead or reused pid); malformed files; the session model it makes; the
 * views of it (tree, notification text) with hostile text; hiding an agent kind in the monitor.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { ClaudeSource } from '../../../src/core/claude/claudeSource';
import type { ProcessCheck } from '../../../src/core/claude/processCheck';
import { checkProcess } from '../../../src/core/claude/processCheck';
import { TranscriptReader } from '../../../src/core/claude/transcriptReader';
import { MemoryLogger } from '../../../src/core/log';
import { Monitor } from '../../../src/core/monitor/monitor';
import { IncidentTracker, incidentMessage } from '../../../src/core/present/attention';
import { presentTree } from '../../../src/core/present/tree';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-claude-unit-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
let n = 0;
const tempDir = () => {
  const dir = path.join(root, String(++n));
  fs.mkdirSync(dir, { recursive: true });
  return dir;
};

describe('transcript reader', () => {
  test('reads only what was appended, across a line split between two writes', async () => {
    const file = path.join(tempDir(), 't.jsonl');
    const logger = new MemoryLogger();
    fs.writeFileSync(file, JSON.stringify({ type: 'last-prompt', lastPrompt: 'one' }) + '\n{"type":"last-pro');
    const reader = new TranscriptReader({ file, logger });
    assert.equal(await reader.readNew(), true);
    assert.equal(reader.state.lastPrompt, 'one');
    assert.equal(reader.state.lines, 1);
    fs.appendFileSync(file, 'mpt","lastPrompt":"two"}\n');
    assert.equal(await reader.readNew(), true);
    assert.equal(reader.state.lastPrompt, 'two');
    assert.equal(reader.state.lines, 2);
    assert.equal(reader.offset, fs.statSync(file).size);
    assert.equal(await reader.readNew(), false, 'nothing new: nothing read');
    assert.equal(reader.state.lines, 2);
  });

  test('malformed lines are skipped with a clear log line; over-long lines skipped unparsed, memory bounded', async () => {
    const file = path.join(tempDir(), 't.jsonl');
    const logger = new MemoryLogger();
    const reader = new TranscriptReader({ file, logger, maxLineBytes: 1024, chunkBytes: 64 });
    fs.writeFileSync(file, '{"type":"last-prompt","lastPrompt":"a"}\n{not json}\n' + `{"type":"last-prompt","lastPrompt":"${'x'.repeat(5000)}"}\n` + '{"type":"last-prompt","lastPrompt":"b"}\n');
    await reader.readNew();
    assert.equal(reader.state.lastPrompt, 'b');
    assert.equal(reader.state.skipped, 2);
    const warnings = logger.records.filter((r) => r.level === 'warn').map((r) => r.message);
    assert.ok(warnings.some((m) => m.includes('malformed JSON line skipped') && m.includes(file)), warnings.join('\n'));
    assert.ok(warnings.some((m) => m.includes('line longer than 1024 bytes skipped')), warnings.join('\n'));
    // A line that never ends does not grow memory past the bound.
    fs.appendFileSync(file, 'y'.repeat(100_000));
    await reader.readNew();
    assert.ok((reader as unknown as { partialBytes: number }).partialBytes <= 1024);
    fs.appendFileSync(file, '\n{"type":"last-prompt","lastPrompt":"c"}\n');
    await reader.readNew();
    assert.equal(reader.state.lastPrompt, 'c');
  });

  test('a long existing file is read from its tail; a truncated or replaced file is read again', async () => {
    const file = path.join(tempDir(), 't.jsonl');
    const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ type: 'last-prompt', lastPrompt: `p${i}` })).join('\n') + '\n';
    fs.writeFileSync(file, lines);
    const reader = new TranscriptReader({ file, logger: new MemoryLogger(), initialTailBytes: 500 });
    await reader.readNew();
    assert.equal(reader.state.lastPrompt, 'p199');
    assert.ok(reader.state.lines < 20, `read ${reader.state.lines} lines of 200`);
    fs.writeFileSync(file, JSON.stringify({ type: 'last-prompt', lastPrompt: 'new' }) + '\n');
    await reader.readNew();
    assert.equal(reader.state.lastPrompt, 'new');
    assert.equal(reader.state.lines, 1);
  });

  test('a missing file is not an error', async () => {
    const reader = new TranscriptReader({ file: path.join(tempDir(), 'none.jsonl'), logger: new MemoryLogger() });
    assert.equal(await reader.readNew(), false);
  });
});

describe('process check (pid + start time)', () => {
  const proc = tempDir();
  fs.mkdirSync(path.join(proc, 'self'));
  const stat = (pid: number, state: string, start: number) => {
    fs.mkdirSync(path.join(proc, String(pid)), { recursive: true });
    const fields = [state, 1, 2, 3, 34816, ...Array(14).fill(0), start].join(' ');
    fs.writeFileSync(path.join(proc, String(pid), 'stat'), `${pid} (claude) ${fields} 0 0\n`);
  };
  stat(100, 'S', 339780);
  stat(101, 'Z', 5);
  test('alive with matching start time, its ppid and tty', () => {
    assert.deepEqual(checkProcess(100, '339780', proc), { state: 'alive', ppid: 1, tty: 'pts/0', verified: true });
  });
  test('another start time: the pid was reused', () => {
    assert.deepEqual(checkProcess(100, '12', proc), { state: 'reused' });
  });
  test('no process, or a zombie: gone', () => {
    assert.deepEqual(checkProcess(999, '1', proc), { state: 'gone' });
    assert.deepEqual(checkProcess(101, '5', proc), { state: 'gone' });
  });
});

function registry(home: string, entry: Record<string, unknown>): string {
  const dir = path.join(home, 'sessions');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${String(entry.pid)}.json`);
  fs.writeFileSync(file, JSON.stringify(entry));
  return file;
}

function transcript(home: string, cwd: string, sessionId: string, lines: unknown[]): string {
  const dir = path.join(home, 'projects', cwd.replace(/\//g, '-'));
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${sessionId}.jsonl`);
  fs.writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return file;
}

describe('Claude Code source', () => {
  const alive: ProcessCheck = { state: 'alive', ppid: 1, tty: 'pts/7', verified: true };

  test('a waiting session: needs you, its permission with the pending tool, waiting since the registry says', async () => {
    const home = tempDir();
    registry(home, { pid: 10807, sessionId: 'sess-1', cwd: '/home/dev/project', startedAt: 1000, procStart: '353120', version: '2.1.332', tmux: 'cc:@0.%0', status: 'waiting', waitingFor: 'permission prompt', updatedAt: 5000, statusUpdatedAt: 5000 });
    transcript(home, '/home/dev/project', 'sess-1', [
      { type: 'user', message: { role: 'user', content: 'make a [file](command:evil) **now**' }, timestamp: '2026-12-05T09:00:00.000Z', gitBranch: 'main' },
      { type: 'assistant', message: { id: 'm', model: 'claude-x', content: [{ type: 'tool_use', id: 't', name: 'Bash', input: { command: 'touch probe.txt' } }] }, timestamp: '2026-12-05T09:00:01.000Z' },
    ]);
    const checks: Array<[number, string | undefined]> = [];
    const source = new ClaudeSource({ logger: new MemoryLogger(), home, check: (pid, start) => (checks.push([pid, start]), alive) });
    await source.scanNow();
    assert.deepEqual(checks[0], [10807, '353120']);
    const { instances, sessions } = source.current();
    assert.equal(instances.length, 1);
    assert.deepEqual(
      { id: instances[0]!.id, agent: instances[0]!.agent, pid: instances[0]!.pid, tty: instances[0]!.tty, tmuxPane: instances[0]!.tmuxPane, cwd: instances[0]!.cwd },
      { id: 'claude:10807', agent: 'claude', pid: 10807, tty: 'pts/7', tmuxPane: 'cc:@0.%0', cwd: '/home/dev/project' },
    );
    const s = sessions[0]!;
    assert.equal(s.id, 'sess-1');
    assert.equal(s.needsAttention, true);
    assert.equal(s.attentionReason, 'permission');
    assert.equal(s.waitingSince, 5000);
    assert.equal(s.gitBranch, 'main');
    assert.equal(s.modelId, 'claude-x');
    assert.deepEqual(s.permissions.map((p) => [p.permission, p.command, p.askedAt, p.callID]), [['Bash', 'touch probe.txt', 5000, 't']]);
    source.dispose();

    // The views: escaped tooltip, answered in the terminal, one notification naming Claude Code.
    const snapshot = { instances, sessions, updatedAt: 0 };
    const tree = presentTree(snapshot, 65_000);
    const row = tree.nodes.get('session:sess-1')!;
    assert.equal(row.label, 'make a [file](command:evil) **now**', 'a label is plain text');
    assert.ok(!row.tooltip.includes('](command:'), row.tooltip);
    assert.equal(row.contextValue, 'session+needsYou+claude+term');
    assert.equal(row.description, 'waiting 1m · permission');
    const instanceRow = tree.nodes.get('instance:claude:10807')!;
    assert.equal(instanceRow.label, 'project');
    assert.equal(instanceRow.contextValue, 'instance+claude+term');
    assert.deepEqual(instanceRow.icon, { id: 'sparkle', color: 'charts.orange' });
    assert.match(instanceRow.description ?? '', /^1 waiting · Claude Code$/);
    assert.equal(tree.nodes.get('permission:sess-1:5000')!.contextValue, 'permission+terminal');
    const tracker = new IncidentTracker();
    const incidents = tracker.update(snapshot);
    assert.deepEqual(incidents.map(incidentMessage), ['Claude Code session “make a [file] (command :evil) **now**” asks permission to run Bash: touch probe.txt']);
    assert.deepEqual(tracker.update(snapshot), [], 'one notification per incident');
  });

  test('a permission wait whose tool is not in the transcript yet is held back a moment, then shown anyway', async () => {
    const home = tempDir();
    registry(home, { pid: 11, sessionId: 's11', cwd: '/q', status: 'waiting', waitingFor: 'permission prompt', statusUpdatedAt: Date.now() });
    const source = new ClaudeSource({ logger: new MemoryLogger(), home, pollMs: 60_000, check: () => alive });
    let changes = 0;
    source.onChange(() => changes++);
    source.start();
    await source.scanNow();
    const first = source.current().sessions[0]!;
    assert.equal(first.needsAttention, false);
    assert.equal(first.status, 'busy');
    const until = Date.now() + 5_000;
    while (!source.current().sessions[0]?.needsAttention) {
      assert.ok(Date.now() < until, 'never shown');
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(source.current().sessions[0]!.permissions.map((p) => p.permission), ['a tool']);
    // The event follows the rescan the hold's end starts (the model may already show it).
    while (changes < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    assert.ok(changes >= 2, 'a change event when the hold ends');
    source.dispose();
  });

  test('stale registry files (process gone, pid reused) are not sessions; malformed ones are logged once, never crash', async () => {
    const home = tempDir();
    registry(home, { pid: 1, sessionId: 'dead', cwd: '/a', procStart: '1', status: 'busy' });
    registry(home, { pid: 2, sessionId: 'reused', cwd: '/b', procStart: '2', status: 'busy' });
    registry(home, { pid: 3, sessionId: 'ok', cwd: '/c', procStart: '3', status: 'idle' });
    fs.writeFileSync(path.join(home, 'sessions', '4.json'), '{"pid": 4, "sessionId": ');
    fs.writeFileSync(path.join(home, 'sessions', '5.json'), 'x'.repeat(100_000));
    fs.writeFileSync(path.join(home, 'sessions', '6.json'), JSON.stringify({ pid: 6, sessionId: '../../etc/passwd', cwd: '/d', status: 'busy' }));
    const logger = new MemoryLogger();
    const states: Record<number, ProcessCheck> = { 1: { state: 'gone' }, 2: { state: 'reused' }, 3: alive, 4: alive, 5: alive, 6: alive };
    const source = new ClaudeSource({ logger, home, check: (pid) => states[pid]! });
    await source.scanNow();
    await source.scanNow();
    assert.deepEqual(source.current().sessions.map((s) => s.id).sort(), ['../../etc/passwd', 'ok'], 'no transcript is looked up for a path-like id');
    const warnings = logger.records.filter((r) => r.level === 'warn').map((r) => r.message);
    assert.equal(warnings.filter((m) => m.includes('4.json')).length, 1, warnings.join('\n'));
    assert.ok(warnings.some((m) => m.includes('5.json') && m.includes('larger than')));
    source.dispose();
  });

  test('a `sessions` symlink whose target appears later is still read (the watch on the parent sees nothing)', async () => {
    const home = tempDir();
    const target = path.join(tempDir(), 'real-sessions');
    fs.symlinkSync(target, path.join(home, 'sessions')); // dangling for now
    const source = new ClaudeSource({ logger: new MemoryLogger(), home, pollMs: 50, check: () => alive });
    source.start();
    await source.scanNow();
    assert.equal(source.current().sessions.length, 0);
    fs.mkdirSync(target);
    fs.writeFileSync(path.join(target, '78.json'), JSON.stringify({ pid: 78, sessionId: 's78', cwd: '/w', status: 'busy', updatedAt: 1 }));
    const until = Date.now() + 5_000;
    while (source.current().sessions.length !== 1) {
      if (Date.now() > until) assert.fail('the session behind the symlink never showed');
      await new Promise((r) => setTimeout(r, 20));
    }
    source.dispose();
  });

  test('watches the folder: a new file shows, a removed one goes, a changed one updates', async () => {
    const home = tempDir();
    fs.mkdirSync(path.join(home, 'sessions'));
    const source = new ClaudeSource({ logger: new MemoryLogger(), home, pollMs: 60_000, check: () => alive });
    let changes = 0;
    source.onChange(() => changes++);
    source.start();
    await source.scanNow();
    const wait = async (what: string, ok: () => boolean) => {
      const until = Date.now() + 5_000;
      while (!ok()) {
        if (Date.now() > until) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const file = registry(home, { pid: 77, sessionId: 's77', cwd: '/w', status: 'idle', updatedAt: 1 });
    await wait('shown by fs.watch (the poll is 60 s here)', () => source.current().sessions.length === 1);
    registry(home, { pid: 77, sessionId: 's77', cwd: '/w', status: 'busy', updatedAt: 2 });
    await wait('busy', () => source.current().sessions[0]?.status === 'busy');
    fs.rmSync(file);
    await wait('gone', () => source.current().sessions.length === 0);
    assert.ok(changes >= 3);
    source.dispose();
  });

  test('the monitor shows it beside OpenCode, and hides an agent kind on request', async () => {
    const home = tempDir();
    registry(home, { pid: 9, sessionId: 's9', cwd: '/x', status: 'busy', updatedAt: Date.now() });
    const source = new ClaudeSource({ logger: new MemoryLogger(), home, check: () => alive });
    const monitor = new Monitor({ logger: new MemoryLogger(), agents: [source] }).start();
    await monitor.settle(2_000);
    assert.deepEqual(monitor.snapshot().instances.map((i) => [i.id, i.agent, i.sessionIds]), [['claude:9', 'claude', ['s9']]]);
    monitor.setHiddenAgents(['claude']);
    assert.equal(monitor.snapshot().instances.length, 0);
    assert.equal(monitor.snapshot().sessions.length, 0);
    monitor.setHiddenAgents([]);
    assert.equal(monitor.snapshot().sessions[0]?.status, 'busy');
    await assert.rejects(monitor.replyPermission('s9', 'p', 'once'), /Claude Code offers no safe way/);
    await monitor.dispose();
  });
});
