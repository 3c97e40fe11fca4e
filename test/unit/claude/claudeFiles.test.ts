/**
 * Claude Code's files, parsed: the registry entries and the transcript (samples measured on
 * 2.1.332), with hostile and malformed input.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parseRegistry, registryPid, transcriptFolderNames } from '../../../src/core/claude/registry';
import { applyTranscriptLine, emptyTranscript } from '../../../src/core/claude/transcript';
import { plainText } from '../../../src/core/claude/plainText';
import { paneFromRegistry, tmuxFocusCommands } from '../../../src/core/platform/tmux';

const SAMPLES = path.resolve(__dirname, '../../../../test/fixtures/samples/claude-code-2.1.332');
const sample = (name: string) => fs.readFileSync(path.join(SAMPLES, name), 'utf8');

describe('registry', () => {
  test('the measured busy, idle and waiting entries', () => {
    const busy = parseRegistry(sample('registry-busy.json'));
    assert.ok(busy.ok);
    assert.equal(busy.entry.pid, 1709);
    assert.equal(busy.entry.sessionId, '23ca2e10-e32a-4eca-a9f6-1ba02fd715e3');
    assert.equal(busy.entry.status, 'busy');
    assert.equal(busy.entry.procStart, '339780');
    assert.equal(busy.entry.tmux, 'cc:@0.%0');
    const waiting = parseRegistry(sample('registry-waiting.json'));
    assert.ok(waiting.ok);
    assert.equal(waiting.entry.status, 'waiting');
    assert.equal(waiting.entry.waitingFor, 'permission prompt');
    assert.equal(waiting.entry.statusUpdatedAt, 1796463114679);
  });

  test('malformed JSON and wrong shapes are errors, never throws', () => {
    assert.match((parseRegistry('{"pid": 12,') as { error: string }).error, /not JSON/);
    assert.match((parseRegistry('[]') as { error: string }).error, /unexpected shape/);
    assert.match((parseRegistry('{"pid":-1,"sessionId":"a","cwd":"/"}') as { error: string }).error, /pid/);
    assert.equal(parseRegistry('null').ok, false);
  });

  test('hostile text loses its control characters and is bounded; unknown fields are ignored', () => {
    const parsed = parseRegistry(JSON.stringify({ pid: 5, sessionId: 's', cwd: '/p', name: '\u001b[31mred\u001b[0m\u202e', status: 'busy', waitingFor: 'x'.repeat(10_000), extra: { a: 1 } }));
    assert.ok(parsed.ok);
    assert.equal(parsed.entry.name, '[31mred [0m');
    assert.ok(parsed.entry.waitingFor!.length <= 500);
    assert.ok(!('extra' in parsed.entry));
  });

  test('file names and transcript folders', () => {
    assert.equal(registryPid('1709.json'), 1709);
    assert.equal(registryPid('1709.e003f0.key'), undefined);
    assert.equal(registryPid('../1709.json'), undefined);
    assert.deepEqual(transcriptFolderNames('/home/dev/project'), ['-home-dev-project']);
    assert.deepEqual(transcriptFolderNames('/home/dev/my.project'), ['-home-dev-my.project', '-home-dev-my-project']);
  });
});

describe('transcript', () => {
  test('the measured transcript: prompt, model, tokens and cost, nothing running at the end', () => {
    const state = emptyTranscript();
    for (const line of sample('transcript.jsonl').split('\n').filter(Boolean)) applyTranscriptLine(state, JSON.parse(line));
    assert.equal(state.firstPrompt, 'say hello please');
    assert.equal(state.lastPrompt, 'scenario:sleep 6');
    assert.equal(state.modelId, 'claude-opus-5-5');
    assert.equal(state.gitBranch, 'HEAD');
    assert.deepEqual(state.runningTools, []);
    assert.equal(state.cost, 0.0005600000000000001);
    assert.deepEqual(state.tokens, { input: 40, output: 20, reasoning: 0, cacheRead: 0, cacheWrite: 0 });
  });

  test('a tool runs from its tool_use until its tool_result, with its argument', () => {
    const state = emptyTranscript();
    const at = '2026-12-05T09:16:13.821Z';
    applyTranscriptLine(state, { type: 'assistant', timestamp: at, message: { id: 'm1', model: 'm', content: [{ type: 'tool_use', id: 't1', name: 'Bash', input: { command: 'sleep 6' } }], usage: { input_tokens: 3, output_tokens: 2 } } });
    // Claude Code writes one line per content block, repeating the message's usage.
    applyTranscriptLine(state, { type: 'assistant', timestamp: at, message: { id: 'm1', model: 'm', content: [{ type: 'tool_use', id: 't2', name: 'Read', input: { file_path: '/a/b.ts' } }], usage: { input_tokens: 3, output_tokens: 2 } } });
    assert.deepEqual(state.runningTools.map((t) => [t.name, t.arg, t.startedAt]), [['Bash', 'sleep 6', Date.parse(at)], ['Read', '/a/b.ts', Date.parse(at)]]);
    assert.equal(state.tokens.input, 3, 'one message counted once');
    applyTranscriptLine(state, { type: 'user', message: { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'ok' }] }, toolUseResult: {} });
    assert.deepEqual(state.runningTools.map((t) => t.callID), ['t2']);
    assert.equal(state.lastPrompt, undefined, 'a tool result is not a prompt');
    applyTranscriptLine(state, { type: 'system', subtype: 'turn_duration', durationMs: 5 });
    assert.deepEqual(state.runningTools, [], 'the turn ended');
  });

  test('sub-agent (sidechain) tools are not the session’s own; tools are bounded', () => {
    const state = emptyTranscript();
    applyTranscriptLine(state, { type: 'assistant', isSidechain: true, message: { id: 's', content: [{ type: 'tool_use', id: 'x', name: 'Bash', input: {} }] } });
    assert.equal(state.runningTools.length, 0);
    const content = Array.from({ length: 100 }, (_, i) => ({ type: 'tool_use', id: `t${i}`, name: 'Grep', input: { pattern: `p${i}` } }));
    applyTranscriptLine(state, { type: 'assistant', message: { id: 'big', content } });
    assert.equal(state.runningTools.length, 32);
    assert.equal(state.runningTools[31]!.arg, 'p99');
  });

  test('hostile prompts and tool arguments: one line, no terminal escapes or bidi overrides, bounded', () => {
    const state = emptyTranscript();
    applyTranscriptLine(state, { type: 'user', message: { role: 'user', content: 'fix\u001b]0;pwned\u0007 it\n\u202eevil [x](command:workbench.action.quit)' + 'y'.repeat(5000) } });
    assert.ok(!/[\u0000-\u001f\u202e]/.test(state.lastPrompt!));
    assert.ok(state.lastPrompt!.length <= 300);
    assert.ok(state.lastPrompt!.startsWith('fix ]0;pwned it evil [x](command:'), state.lastPrompt);
    applyTranscriptLine(state, { type: 'assistant', message: { id: 'h', content: [{ type: 'tool_use', id: 'h1', name: 'Bash\u001b[2J', input: { command: 'rm -rf /\u001b[2J\r\nclear' } }] } });
    assert.equal(state.runningTools[0]!.name, 'Bash [2J');
    assert.equal(state.runningTools[0]!.arg, 'rm -rf / [2J clear');
  });

  test('unknown and odd shapes are ignored', () => {
    const state = emptyTranscript();
    for (const line of [null, 42, 'text', [], { type: 'assistant' }, { type: 'assistant', message: { content: 'x' } }, { type: 'user', message: 5 }, { type: 'cost-state', totalCostUSD: 'lots', modelUsage: [1] }, { type: 'future-kind', x: 1 }]) {
      applyTranscriptLine(state, line);
    }
    assert.equal(state.cost, 0);
    assert.deepEqual(state.runningTools, []);
    assert.equal(state.lines, 9);
  });

  test('plainText', () => {
    assert.equal(plainText('a\u0085b\u2028c\u2066d', 100), 'a b c d');
    assert.equal(plainText('abcdef', 4), 'abc…');
  });
});

describe('tmux pane from the registry', () => {
  test('`session:@window.%pane` → focus targets; anything else → none', () => {
    const pane = paneFromRegistry('cc:@0.%3')!;
    assert.deepEqual(tmuxFocusCommands(pane), [
      ['select-window', '-t', 'cc:@0'],
      ['select-pane', '-t', '%3'],
      ['switch-client', '-t', 'cc'],
    ]);
    assert.equal(paneFromRegistry('cc:0.1; rm -rf /'), undefined);
    assert.equal(paneFromRegistry(''), undefined);
  });
});
