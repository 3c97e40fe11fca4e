import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inferSession, isOpenAssistantMessage, INTERRUPTED, type InferenceContext } from '../../../src/core/db/inference';
import type { DbMessageRow, DbSessionRecord, DbToolRow } from '../../../src/core/db/types';

const T0 = 1_795_290_421_000;
const DIR = '/home/dev/lab/projects/alpha';

function record(over: Partial<DbSessionRecord> = {}, message: Partial<DbMessageRow> | null = {}): DbSessionRecord {
  return {
    session: {
      id: 'ses_a',
      title: 'Lab TUI task',
      directory: DIR,
      cost: 0.25,
      tokens: { input: 1200, output: 42, reasoning: 0, cacheRead: 3, cacheWrite: 4 },
      agent: 'build',
      modelId: 'lab/fake-model',
      createdAt: T0,
      updatedAt: T0 + 100,
    },
    ...(message === null ? {} : { lastMessage: { id: 'msg_2', role: 'assistant', createdAt: T0 + 200, updatedAt: T0 + 300, ...message } }),
    tools: [],
    todos: [],
    ...over,
  };
}

function ctx(over: Partial<InferenceContext> = {}): InferenceContext {
  return { now: T0 + 10_000, bashWaiting: () => false, heuristicThresholdMs: 5_000, ...over };
}

const bash = (over: Partial<DbToolRow> = {}): DbToolRow => ({
  partId: 'prt_bash',
  messageId: 'msg_2',
  tool: 'bash',
  callID: 'call_bash_1',
  status: 'running',
  input: { command: 'sleep 90', description: 'Sleep for 90 seconds' },
  startedAt: T0 + 1_000,
  ...over,
});

describe('db inference: busy rule', () => {
  it('matches the inferred column of the captured TUI DB (samples/tui/db-inference.txt)', () => {
    const text = readFileSync(resolve(__dirname, '../../../../test/fixtures/samples/opencode-1.18.33/tui/db-inference.txt'), 'utf8');
    const section = text.split('## busy inference')[1]!.split('## running tools')[0]!;
    const rows = section.trim().split('\n').slice(1).map((l) => l.split('|'));
    assert.ok(rows.length > 30);
    let busy = 0;
    for (const row of rows) {
      const [, , , , role, completed, error, inferred] = row;
      const message: DbMessageRow = {
        id: 'm',
        role: role!,
        createdAt: 0,
        updatedAt: 0,
        ...(completed ? { completedAt: Number(completed) } : {}),
        ...(error ? { errorName: error } : {}),
      };
      assert.equal(isOpenAssistantMessage(message), inferred === 'busy?', row.join('|'));
      if (inferred === 'busy?') busy++;
    }
    assert.equal(busy, 2);
  });

  it('busy: open assistant message, with its running tools, todos, cost and tokens', () => {
    const model = inferSession(
      record({ tools: [bash()], todos: [{ content: 'Read', status: 'completed', priority: 'high' }, { content: 'Implement', status: 'in_progress' }, { content: 'Test', status: 'pending' }] }),
      'pid:42',
      ctx(),
    );
    assert.equal(model.status, 'busy');
    assert.equal(model.source, 'db');
    assert.equal(model.instanceId, 'pid:42');
    assert.deepEqual(model.runningTools, [{ callID: 'call_bash_1', name: 'bash', arg: 'sleep 90', startedAt: T0 + 1_000 }]);
    assert.equal(model.todos.total, 3);
    assert.equal(model.todos.currentLabel, 'Implement');
    assert.equal(model.todos.nextLabel, 'Test');
    assert.equal(model.cost, 0.25);
    assert.deepEqual(model.tokens, { input: 1200, output: 42, reasoning: 0, cacheRead: 3, cacheWrite: 4 });
    assert.equal(model.modelId, 'lab/fake-model');
    assert.equal(model.agentName, 'build');
    assert.equal(model.needsAttention, false);
    assert.equal(model.updatedAt, T0 + 300, 'newest message time wins over session.time_updated');
  });

  it('idle: completed, failed, or the newest message is the user’s', () => {
    assert.equal(inferSession(record({}, { completedAt: T0 + 500 }), 'i', ctx()).status, 'idle');
    const failed = inferSession(record({}, { completedAt: T0 + 500, errorName: 'APIError', errorMessage: 'boom' }), 'i', ctx());
    assert.equal(failed.status, 'idle');
    assert.equal(failed.lastError, 'APIError: boom');
    assert.equal(inferSession(record({}, { errorName: 'MessageAbortedError' }), 'i', ctx()).lastError, 'aborted');
    assert.equal(inferSession(record({}, { role: 'user' }), 'i', ctx()).status, 'idle');
    assert.equal(inferSession(record({}, null), 'i', ctx()).status, 'idle');
  });

  it('tools are ignored unless busy', () => {
    const model = inferSession(record({ tools: [bash()] }, { completedAt: T0 + 500 }), 'i', ctx({ bashWaiting: () => true }));
    assert.deepEqual(model.runningTools, []);
    assert.deepEqual(model.permissions, []);
  });

  it('an open message older than the owning process is stale (left by a killed process)', () => {
    const model = inferSession(record({ tools: [bash()] }), 'i', ctx({ ownerStartedAt: T0 + 60_000 }));
    assert.equal(model.status, 'idle');
    assert.deepEqual(model.runningTools, []);
    assert.equal(model.lastError, INTERRUPTED);
    // Within the clock slack it is still trusted.
    assert.equal(inferSession(record(), 'i', ctx({ ownerStartedAt: T0 + 1_000 })).status, 'busy');
  });
});

describe('db inference: attention', () => {
  it('a running bash without its child process = permission with the command', () => {
    const model = inferSession(record({ tools: [bash({ input: { command: 'rm -f lab-permission-probe.txt' } })] }), 'i', ctx({ bashWaiting: () => true }));
    assert.equal(model.needsAttention, true);
    assert.equal(model.attentionReason, 'permission');
    assert.equal(model.waitingSince, T0 + 1_000);
    assert.deepEqual(model.permissions, [
      {
        id: 'prt_bash',
        sessionId: 'ses_a',
        permission: 'bash',
        patterns: ['rm -f lab-permission-probe.txt'],
        command: 'rm -f lab-permission-probe.txt',
        always: [],
        callID: 'call_bash_1',
        askedAt: T0 + 1_000,
      },
    ]);
  });

  it('a pending call (input still streaming) is neither a permission nor a question yet', () => {
    const pendingBash = bash({ status: 'pending', startedAt: undefined });
    const pendingQuestion: DbToolRow = { partId: 'q', messageId: 'm', tool: 'question', status: 'pending', input: { questions: [{ question: 'Q?', options: [] }] } };
    const model = inferSession(record({ tools: [pendingBash, pendingQuestion] }), 'i', ctx({ now: T0 + 600_000, bashWaiting: () => true }));
    assert.equal(model.needsAttention, false);
    assert.equal(model.runningTools.length, 2);
  });

  it('a running bash with its child is just running, however long', () => {
    const model = inferSession(record({ tools: [bash()] }), 'i', ctx({ now: T0 + 600_000 }));
    assert.equal(model.needsAttention, false);
    assert.equal(model.runningTools.length, 1);
  });

  it('when processes cannot be checked, long-running tools fall back to the heuristic', () => {
    const young = inferSession(record({ tools: [bash()] }), 'i', ctx({ now: T0 + 3_000, bashWaiting: () => undefined }));
    assert.equal(young.needsAttention, false);
    const old = inferSession(record({ tools: [bash()] }), 'i', ctx({ now: T0 + 7_000, bashWaiting: () => undefined }));
    assert.equal(old.attentionReason, 'heuristic');
    assert.equal(old.waitingSince, T0 + 1_000);
    assert.deepEqual(old.permissions, []);
    // Non-bash tools (edit, webfetch…) spawn nothing: only the heuristic applies.
    const edit = bash({ tool: 'edit', input: { filePath: '/x/a.ts' } });
    assert.equal(inferSession(record({ tools: [edit] }), 'i', ctx({ now: T0 + 7_000 })).attentionReason, 'heuristic');
  });

  it('a running question part = pending question built from its input', () => {
    const question: DbToolRow = {
      partId: 'prt_q',
      messageId: 'msg_2',
      tool: 'question',
      callID: 'call_question_6',
      status: 'running',
      startedAt: T0 + 2_000,
      input: {
        questions: [
          {
            question: 'Which database should the lab use?',
            header: 'Database',
            options: [
              { label: 'SQLite', description: 'Embedded, zero setup' },
              { label: 'Postgres', description: 'Server based' },
              { label: 'Flat files' },
              'junk',
            ],
          },
          { nonsense: true },
        ],
      },
    };
    const model = inferSession(record({ tools: [question] }), 'i', ctx({ now: T0 + 60_000 }));
    assert.equal(model.attentionReason, 'question');
    assert.equal(model.waitingSince, T0 + 2_000);
    assert.deepEqual(model.questions, [
      {
        id: 'prt_q',
        sessionId: 'ses_a',
        askedAt: T0 + 2_000,
        questions: [
          {
            question: 'Which database should the lab use?',
            header: 'Database',
            options: [{ label: 'SQLite', description: 'Embedded, zero setup' }, { label: 'Postgres', description: 'Server based' }, { label: 'Flat files' }],
          },
        ],
      },
    ]);
  });

  it('a running task links its sub-agent session and never asks for attention itself', () => {
    const task = bash({ partId: 'prt_t', tool: 'task', input: { description: 'Lab subagent work', prompt: 'x' }, childSessionId: 'ses_child', startedAt: T0 });
    const model = inferSession(record({ tools: [task] }), 'i', ctx({ now: T0 + 600_000, bashWaiting: () => undefined }));
    assert.equal(model.needsAttention, false);
    assert.deepEqual(model.runningTools, [{ callID: 'call_bash_1', name: 'task', arg: 'Lab subagent work', startedAt: T0, childSessionId: 'ses_child' }]);
  });

  it('permission wins over question for the reason; waitingSince is the earliest', () => {
    const question: DbToolRow = { partId: 'q', messageId: 'm', tool: 'question', status: 'running', startedAt: T0 + 500, input: { questions: [{ question: 'Q?', options: [] }] } };
    const model = inferSession(record({ tools: [bash(), question] }), 'i', ctx({ bashWaiting: () => true }));
    assert.equal(model.attentionReason, 'permission');
    assert.equal(model.waitingSince, T0 + 500);
    assert.equal(model.runningTools.length, 2);
    assert.equal(model.runningTools[0]!.name, 'question', 'sorted by start');
  });
});
