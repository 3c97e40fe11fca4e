/** The local API protocol and the session query, on model snapshots (no socket). */
import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApiBackend, FocusResult } from '../../../src/core/api/protocol';
import { handleRequestLine, listSessions } from '../../../src/core/api/protocol';
import type { MonitorSnapshot, SessionModel } from '../../../src/core/model/model';
import { findSession, findSessionById } from '../../../src/core/present/sessionQuery';
import { focusTerminalOf } from '../../../src/core/platform/headlessFocus';
import { idTime, requestAskedAt } from '../../../src/core/opencode/ids';
import type { CommandRunner } from '../../../src/core/os/exec';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

function snapshot(): MonitorSnapshot {
  return makeSnapshot(
    [makeInstance({ tty: 'pts/7' })],
    [
      makeSession({ id: 'ses_aaa111', title: 'Refactor parser', label: 'review MR', directory: '/src/api', status: 'idle' }),
      makeSession({ id: 'ses_aaa222', title: 'Fix flaky test', directory: '/src/web', needsAttention: true, attentionReason: 'permission', waitingSince: NOW - 240_000 }),
      makeSession({ id: 'ses_bbb333', title: 'Fix flaky build', directory: '/src/ci' }),
    ],
  );
}

function backend(over: Partial<ApiBackend> = {}): ApiBackend & { labels: Map<string, string>; stopped: string[]; focused: string[] } {
  const labels = new Map<string, string>();
  const stopped: string[] = [];
  const focused: string[] = [];
  return {
    labels,
    stopped,
    focused,
    snapshot,
    setLabel: async (id, text) => {
      if (text) labels.set(id, text);
      else labels.delete(id);
      return text || undefined;
    },
    focus: async (session): Promise<FocusResult> => {
      focused.push(session.id);
      return { where: 'tmux', target: 'main:1.0' };
    },
    stop: async (id) => void stopped.push(id),
    ...over,
  };
}

const ask = async (b: ApiBackend, request: unknown) => handleRequestLine(typeof request === 'string' ? request : JSON.stringify(request), b);

describe('session query', () => {
  const sessions = snapshot().sessions;
  test('id, unique prefix, ambiguous prefix', () => {
    assert.equal((findSessionById(sessions, 'ses_aaa111') as { session: SessionModel }).session.id, 'ses_aaa111');
    assert.equal((findSessionById(sessions, 'ses_b') as { session: SessionModel }).session.id, 'ses_bbb333');
    assert.equal(findSessionById(sessions, 'ses_aaa').kind, 'ambiguous');
    assert.equal(findSessionById(sessions, 'nope').kind, 'none');
  });
  test('fuzzy: label beats title beats folder; ties are ambiguous', () => {
    const found = (q: string) => {
      const m = findSession(sessions, q);
      return m.kind === 'found' ? m.session.id : m.kind === 'ambiguous' ? m.candidates.map((c) => c.id) : undefined;
    };
    assert.equal(found('review'), 'ses_aaa111');
    assert.equal(found('REVIEW mr'), 'ses_aaa111');
    assert.equal(found('parser'), 'ses_aaa111');
    assert.equal(found('web'), 'ses_aaa222');
    assert.deepEqual(found('fix flaky'), ['ses_aaa222', 'ses_bbb333'], 'the waiting one first');
    assert.equal(found('flaky test'), 'ses_aaa222');
    assert.equal(found('rvw'), 'ses_aaa111', 'letters in order');
    assert.equal(found('zzz'), undefined);
  });
});

describe('API protocol', () => {
  test('list: every session with agent, state, label, waitingSince, terminal, folder, instance', async () => {
    const r = await ask(backend(), { id: 7, cmd: 'list' });
    assert.equal(r.ok, true);
    assert.equal(r.id, 7);
    const list = r.sessions as ReturnType<typeof listSessions>;
    assert.equal(list.length, 3);
    const waiting = list.find((s) => s.id === 'ses_aaa222')!;
    assert.equal(waiting.state, 'waiting');
    assert.equal(waiting.waitingFor, 'permission');
    assert.equal(waiting.waitingSince, NOW - 240_000);
    assert.equal(waiting.agent, 'opencode');
    assert.deepEqual(waiting.terminal, { tty: 'pts/7' });
    assert.equal(waiting.folder, '/src/web');
    assert.equal(waiting.instance.id, 'pid:4242');
    assert.equal(list.find((s) => s.id === 'ses_aaa111')!.label, 'review MR');
    assert.equal(list.find((s) => s.id === 'ses_bbb333')!.state, 'busy');
  });

  test('label by unique prefix; ambiguous and unknown prefixes are errors with candidates', async () => {
    const b = backend();
    assert.deepEqual(await ask(b, { id: 'x', cmd: 'label', session: 'ses_b', text: 'ci' }), { id: 'x', ok: true, session: 'ses_bbb333', label: 'ci' });
    assert.equal(b.labels.get('ses_bbb333'), 'ci');
    const amb = await ask(b, { cmd: 'label', session: 'ses_aaa', text: 'x' });
    assert.equal(amb.ok, false);
    assert.equal((amb as { error: { code: string } }).error.code, 'ambiguous');
    assert.equal((amb.candidates as unknown[]).length, 2);
    const none = await ask(b, { cmd: 'label', session: 'ses_zzz', text: 'x' });
    assert.equal((none as { error: { code: string } }).error.code, 'not_found');
    assert.deepEqual(await ask(b, { cmd: 'label', session: 'ses_bbb333', text: '' }), { ok: true, session: 'ses_bbb333' });
    assert.equal(b.labels.has('ses_bbb333'), false);
  });

  test('focus: by query, ambiguous answers the candidates', async () => {
    const b = backend();
    const r = await ask(b, { cmd: 'focus', query: 'review' });
    assert.equal(r.ok, true);
    assert.deepEqual(r.focus, { where: 'tmux', target: 'main:1.0' });
    assert.equal((r.session as { id: string }).id, 'ses_aaa111');
    const amb = await ask(b, { cmd: 'focus', query: 'fix flaky' });
    assert.equal((amb as { error: { code: string } }).error.code, 'ambiguous');
    assert.deepEqual((amb.candidates as Array<{ id: string }>).map((c) => c.id), ['ses_aaa222', 'ses_bbb333']);
    assert.deepEqual(b.focused, ['ses_aaa111']);
  });

  test('stop: through the backend; a refusal becomes "cannot"', async () => {
    const b = backend();
    assert.deepEqual(await ask(b, { cmd: 'stop', session: 'ses_bbb333' }), { ok: true, session: 'ses_bbb333', stopped: true });
    const refusing = backend({ stop: async () => Promise.reject(new Error('no live server runs session ses_bbb333')) });
    const r = await ask(refusing, { cmd: 'stop', session: 'ses_bbb333' });
    assert.equal((r as { error: { code: string; message: string } }).error.code, 'cannot');
    assert.match((r as { error: { message: string } }).error.message, /cannot stop session ses_bbb333: no live server/);
  });

  test('bad requests: JSON error, never a throw', async () => {
    const b = backend();
    const code = async (req: unknown) => ((await ask(b, req)) as { error?: { code: string } }).error?.code;
    assert.equal(await code('not json'), 'bad_json');
    assert.equal(await code('[1,2]'), 'bad_request');
    assert.equal(await code('null'), 'bad_request');
    assert.equal(await code({}), 'bad_request');
    assert.equal(await code({ cmd: 'rm -rf' }), 'unknown_cmd');
    assert.equal(await code({ cmd: 'label' }), 'bad_request');
    assert.equal(await code({ cmd: 'label', session: 'ses_b', text: 5 }), 'bad_request');
    assert.equal(await code({ cmd: 'label', session: 'ses_b', text: 'x'.repeat(10_000) }), 'bad_request');
    assert.equal(await code({ cmd: 'focus' }), 'bad_request');
    assert.equal(await code({ cmd: 'stop', session: {} }), 'bad_request');
    const failing = backend({ snapshot: () => { throw new Error('boom'); } });
    assert.deepEqual(await ask(failing, { id: 1, cmd: 'list' }), { id: 1, ok: false, error: { code: 'failed', message: 'boom' } });
    // Ids are echoed only when small and plain.
    assert.equal((await ask(b, { id: { big: 1 }, cmd: 'list' })).id, undefined);
  });
});

describe('headless focus', () => {
  const runner = (panes: string, calls: string[][]): CommandRunner => async (_file, args) => {
    calls.push([...args]);
    return args[0] === 'list-panes' ? { code: 0, stdout: panes, stderr: '' } : { code: 0, stdout: '', stderr: '' };
  };
  test('a tmux pane: select window, pane, switch client', async () => {
    const calls: string[][] = [];
    const r = await focusTerminalOf('pts/7', runner('/dev/pts/3 other:0.0\n/dev/pts/7 work space:2.1\n', calls));
    assert.deepEqual(r, { where: 'tmux', target: 'work space:2.1' });
    assert.deepEqual(calls.slice(1), [['select-window', '-t', 'work space:2'], ['select-pane', '-t', 'work space:2.1'], ['switch-client', '-t', 'work space']]);
  });
  test('not a tmux pane, no tmux, no terminal: says which terminal', async () => {
    assert.deepEqual(await focusTerminalOf('pts/9', runner('/dev/pts/3 other:0.0\n', [])), { where: 'none', reason: 'it runs in terminal pts/9, which is not a tmux pane: switch to it there', tty: 'pts/9' });
    const noTmux: CommandRunner = async () => Promise.reject(new Error('ENOENT'));
    assert.equal((await focusTerminalOf('pts/9', noTmux)).where, 'none');
    assert.match((await focusTerminalOf(undefined, noTmux) as { reason: string }).reason, /not known/);
  });
});

describe('asked time from an OpenCode id', () => {
  // Captured on 1.18.33: bash tool started at 1795290245327, permission id per_1ffa32afc001….
  const TOOL = 1795290245327;
  test('decodes the id time, the latest not after now', () => {
    assert.equal(idTime('per_1ffa32afc001HTM9LuI3A4swhf', TOOL + 60_000), TOOL + 557);
    assert.equal(idTime('per_1ffa32afc001HTM9LuI3A4swhf', TOOL + 300 * 24 * 3600_000), TOOL + 557);
    assert.equal(idTime('not-an-id', TOOL), undefined);
    assert.equal(requestAskedAt('per_1ffa32afc001HTM9LuI3A4swhf', TOOL + 60_000, TOOL), TOOL + 557);
    // Before its tool started, or more than a day old without a tool: not believed.
    assert.equal(requestAskedAt('per_1ffa32afc001HTM9LuI3A4swhf', TOOL + 60_000, TOOL + 1_000), TOOL + 1_000);
    assert.equal(requestAskedAt('per_1ffa32afc001HTM9LuI3A4swhf', TOOL + 2 * 24 * 3600_000, undefined), undefined);
    assert.equal(requestAskedAt('que_zz', TOOL, undefined), undefined);
  });
});
