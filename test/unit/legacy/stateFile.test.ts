import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { contentKey, toLegacyState, toLegacyUsage } from '../../../src/core/legacy/stateFile';
import type { UsageModel } from '../../../src/core/model/model';
import { makeInstance, makeSession, makeSnapshot, makeTodos, v23Session } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_000;

// The examples of legacy-contract.md §1.2 and §2 (what the plugin revisions were written against).
const V10_EXAMPLE = {
  instances: [
    {
      port: 52341,
      tty: 'ttys003',
      agents: [{ id: 'ses_4b2f', title: 'Refactor parser', dir: 'api', full_dir: '/Users/me/src/api', status: 'busy', permission_pending: false }],
      agent_count: 1,
      busy_count: 1,
    },
  ],
  instance_count: 1,
  agent_count: 1,
  busy_count: 1,
  todos: { pending: 3, in_progress: 1 },
  permissions_pending: 0,
  tools_running: ['bash'],
  updated: 1766768000,
  connected: true,
};
const V23_EXAMPLE = {
  instances: [
    {
      port: 52341,
      tty: 'ttys003',
      agents: [
        {
          id: 'ses_4b2f',
          title: 'Refactor parser',
          dir: 'api',
          full_dir: '/Users/me/src/api',
          status: 'busy',
          permission_pending: true,
          tools: [{ name: 'bash', arg: 'npm test' }],
          todos: { pending: 3, in_progress: 1, current_label: 'Fix lexer', next_label: 'Add tests' },
        },
      ],
      agent_count: 1,
      busy_count: 1,
    },
  ],
  instance_count: 1,
  agent_count: 1,
  busy_count: 1,
  todos: { pending: 3, in_progress: 1 },
  permissions_pending: 1,
  updated: 1766900000,
  connected: true,
};
const USAGE_EXAMPLE = {
  five_hour: { utilization: 45, resets_at: '2025-12-26T23:00:00.000000+00:00' },
  seven_day: { utilization: 62, resets_at: '2025-12-29T00:00:00.000000+00:00' },
  updated: 1766768000,
  error: null,
};

/** Type tree with key order: 'int' | 'float' | 'string' | 'bool' | 'null' | [elem] | {…}. */
function shape(v: unknown): unknown {
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, shape(x)]));
}

/** Every path of `expected` exists in `actual` with the same type (integers stay integers). */
function assertCovers(actual: unknown, expected: unknown, at = '$'): void {
  const a = shape(actual);
  const e = shape(expected);
  const walk = (x: unknown, y: unknown, p: string): void => {
    if (Array.isArray(y)) {
      assert.ok(Array.isArray(x), `${p}: expected an array`);
      // An empty array fits any element type.
      if (y.length && (x as unknown[]).length) walk((x as unknown[])[0], y[0], `${p}[0]`);
      return;
    }
    if (y && typeof y === 'object') {
      assert.ok(x && typeof x === 'object' && !Array.isArray(x), `${p}: expected an object`);
      for (const k of Object.keys(y)) {
        assert.ok(k in (x as object), `${p}.${k} is missing`);
        walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], `${p}.${k}`);
      }
      return;
    }
    assert.equal(x, y, `${p}: type`);
  };
  walk(a, e, at);
}

function allIntegers(v: unknown, p = '$'): void {
  if (typeof v === 'number') assert.ok(Number.isInteger(v), `${p} = ${v} is not an integer`);
  else if (Array.isArray(v)) v.forEach((x, i) => allIntegers(x, `${p}[${i}]`));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) allIntegers(x, `${p}.${k}`);
}

describe('toLegacyState', () => {
  test('reproduces the v2.3 example exactly, plus tools_running (union shape, key order)', () => {
    const state = toLegacyState(makeSnapshot([makeInstance()], [v23Session()]), NOW);
    const expected = { ...V23_EXAMPLE } as Record<string, unknown>;
    delete expected.updated;
    delete expected.connected;
    Object.assign(expected, { tools_running: ['bash'], updated: NOW, connected: true });
    assert.equal(JSON.stringify(state), JSON.stringify(expected));
  });

  test('covers both the v1.0 and the v2.3 shapes field by field (types, integers, keys)', () => {
    const snapshots = {
      busy: makeSnapshot([makeInstance()], [v23Session()]),
      idle: makeSnapshot([makeInstance()], [makeSession({ status: 'idle' })]),
    };
    for (const [name, snap] of Object.entries(snapshots)) {
      const state = toLegacyState(snap, NOW);
      assertCovers(state, V10_EXAMPLE, name);
      assertCovers(state, V23_EXAMPLE, name);
      allIntegers(state);
      // Nothing beyond the union of the two shapes.
      const union = shape({ ...V23_EXAMPLE, tools_running: ['bash'] }) as Record<string, unknown>;
      assert.deepEqual(Object.keys(state).sort(), Object.keys(union).sort());
      const agent = state.instances[0]?.agents[0];
      assert.ok(agent);
      assert.deepEqual(Object.keys(agent), ['id', 'title', 'dir', 'full_dir', 'status', 'permission_pending', 'tools', 'todos']);
      assert.deepEqual(Object.keys(agent.todos), ['pending', 'in_progress', 'current_label', 'next_label']);
      assert.deepEqual(Object.keys(state.instances[0] ?? {}), ['port', 'tty', 'agents', 'agent_count', 'busy_count']);
    }
  });

  test('idle session: idle status, no tools, zero todos with empty labels, not counted as busy', () => {
    const state = toLegacyState(makeSnapshot([makeInstance()], [makeSession({ status: 'idle', title: '' })]), NOW);
    assert.deepEqual(state, {
      instances: [
        {
          port: 52341,
          tty: 'ttys003',
          agents: [
            {
              id: 'ses_4b2f',
              title: 'Sans titre',
              dir: 'api',
              full_dir: '/Users/me/src/api',
              status: 'idle',
              permission_pending: false,
              tools: [],
              todos: { pending: 0, in_progress: 0, current_label: '', next_label: '' },
            },
          ],
          agent_count: 1,
          busy_count: 0,
        },
      ],
      instance_count: 1,
      agent_count: 1,
      busy_count: 0,
      todos: { pending: 0, in_progress: 0 },
      permissions_pending: 0,
      tools_running: [],
      updated: NOW,
      connected: true,
    });
  });

  test('retry counts as busy (the session is still inside its turn)', () => {
    const state = toLegacyState(makeSnapshot([makeInstance()], [makeSession({ status: 'retry', retry: { attempt: 2, message: '500' } })]), NOW);
    assert.equal(state.instances[0]?.agents[0]?.status, 'busy');
    assert.equal(state.busy_count, 1);
    assert.equal(state.instances[0]?.busy_count, 1);
  });

  test('permission_pending follows needsAttention (permission, question, heuristic); permissions_pending counts sessions', () => {
    const sessions = [
      makeSession({ id: 'ses_a', needsAttention: true, attentionReason: 'permission', createdAt: 3 }),
      makeSession({ id: 'ses_b', needsAttention: true, attentionReason: 'question', createdAt: 2 }),
      makeSession({ id: 'ses_c', needsAttention: true, attentionReason: 'heuristic', createdAt: 1 }),
      makeSession({ id: 'ses_d', createdAt: 0 }),
    ];
    const state = toLegacyState(makeSnapshot([makeInstance()], sessions), NOW);
    assert.deepEqual(
      state.instances[0]?.agents.map((a) => [a.id, a.permission_pending]),
      [
        ['ses_a', true],
        ['ses_b', true],
        ['ses_c', true],
        ['ses_d', false],
      ],
    );
    assert.equal(state.permissions_pending, 3);
  });

  test('todos: integer counts, labels from the summary or else the items, global sum over busy sessions only', () => {
    const sessions = [
      makeSession({ id: 'ses_a', createdAt: 2, todos: makeTodos({ pending: 2, inProgress: 1, currentLabel: 'Now', nextLabel: 'Next' }) }),
      makeSession({
        id: 'ses_b',
        createdAt: 1,
        todos: makeTodos({
          pending: 1,
          inProgress: 1,
          items: [
            { content: 'done', status: 'completed' },
            { content: 'Doing | this\nnow', status: 'in_progress' },
            { content: 'Then that', status: 'pending' },
          ],
        }),
      }),
      // Idle with leftovers: shown on its line, not in the menu-bar ⏳ count.
      makeSession({ id: 'ses_c', status: 'idle', createdAt: 0, todos: makeTodos({ pending: 5, inProgress: 0, nextLabel: 'Later' }) }),
    ];
    const state = toLegacyState(makeSnapshot([makeInstance()], sessions), NOW);
    const todos = state.instances[0]?.agents.map((a) => a.todos);
    assert.deepEqual(todos, [
      { pending: 2, in_progress: 1, current_label: 'Now', next_label: 'Next' },
      { pending: 1, in_progress: 1, current_label: 'Doing ¦ this now', next_label: 'Then that' },
      { pending: 5, in_progress: 0, current_label: '', next_label: 'Later' },
    ]);
    assert.deepEqual(state.todos, { pending: 3, in_progress: 2 });
  });

  test('tools: per agent {name, arg}, one-line and pipe-free for SwiftBar; tools_running unique names', () => {
    const sessions = [
      makeSession({
        id: 'ses_a',
        createdAt: 2,
        runningTools: [
          { callID: '1', name: 'bash', arg: 'npm test | tail -5' },
          { callID: '2', name: 'read', arg: '/src/a.ts' },
        ],
      }),
      makeSession({ id: 'ses_b', createdAt: 1, runningTools: [{ callID: '3', name: 'bash', arg: 'cat <<EOF\nx\nEOF' }] }),
    ];
    const state = toLegacyState(makeSnapshot([makeInstance()], sessions), NOW);
    assert.deepEqual(
      state.instances[0]?.agents.map((a) => a.tools),
      [
        [
          { name: 'bash', arg: 'npm test ¦ tail -5' },
          { name: 'read', arg: '/src/a.ts' },
        ],
        [{ name: 'bash', arg: 'cat <<EOF x EOF' }],
      ],
    );
    assert.deepEqual(state.tools_running, ['bash', 'read']);
  });

  test('disconnected form: no instance, or none answering', () => {
    const disconnected = {
      instances: [],
      instance_count: 0,
      agent_count: 0,
      busy_count: 0,
      todos: { pending: 0, in_progress: 0 },
      permissions_pending: 0,
      tools_running: [],
      updated: NOW,
      connected: false,
    };
    assert.equal(JSON.stringify(toLegacyState(makeSnapshot([], []), NOW)), JSON.stringify(disconnected));
    const down = makeSnapshot([makeInstance({ connection: 'down', error: 'ECONNREFUSED' })], [v23Session()]);
    assert.equal(JSON.stringify(toLegacyState(down, NOW)), JSON.stringify(disconnected));
  });

  test('instances: port-less TUI listed as port 0 with its tty, endpoints by URL port, unknown tty as ""', () => {
    const instances = [
      makeInstance({ id: 'pid:1', kind: 'tui', port: undefined, url: undefined, tty: 'pts/3', connection: 'limited' }),
      makeInstance({ id: 'url:https://box.example', kind: 'endpoint', pid: undefined, port: undefined, url: 'https://box.example', tty: undefined }),
      makeInstance({ id: 'pid:2', port: 4096, tty: '??', connection: 'connecting' }),
      makeInstance({ id: 'pid:3', port: 4097, tty: '/dev/ttys009' }),
    ];
    const sessions = [makeSession({ id: 'ses_tui', instanceId: 'pid:1', source: 'db' })];
    const state = toLegacyState(makeSnapshot(instances, sessions), NOW);
    assert.deepEqual(
      state.instances.map((i) => [i.port, i.tty, i.agent_count]),
      [
        [0, 'pts/3', 1],
        [443, '', 0],
        [4096, '', 0],
        [4097, 'ttys009', 0],
      ],
    );
    assert.equal(state.instance_count, 4);
    assert.equal(state.connected, true);
  });

  test('sessions: root sessions plus active or waiting sub-agents, each under its owner, in a stable order', () => {
    const sessions = [
      makeSession({ id: 'ses_root_old', status: 'idle', createdAt: 10 }),
      makeSession({ id: 'ses_root_new', createdAt: 20 }),
      makeSession({ id: 'ses_child_busy', parentId: 'ses_root_new', createdAt: 21 }),
      makeSession({ id: 'ses_child_idle', parentId: 'ses_root_new', status: 'idle', createdAt: 22 }),
      makeSession({ id: 'ses_child_asks', parentId: 'ses_root_new', status: 'idle', needsAttention: true, createdAt: 23 }),
      makeSession({ id: 'ses_other', instanceId: 'pid:9', createdAt: 30 }),
      // Owner known only through the instance's sessionIds.
      makeSession({ id: 'ses_adopted', instanceId: 'gone', createdAt: 5 }),
      // Owner unknown: dropped.
      makeSession({ id: 'ses_orphan', instanceId: 'nowhere', createdAt: 6 }),
    ];
    const instances = [
      makeInstance({ sessionIds: ['ses_root_old', 'ses_root_new', 'ses_adopted'] }),
      makeInstance({ id: 'pid:9', port: 60000, sessionIds: ['ses_other'] }),
    ];
    const snap = { instances, sessions, updatedAt: 0 };
    const state = toLegacyState(snap, NOW);
    const ids = state.instances.map((i) => i.agents.map((a) => a.id));
    assert.deepEqual(ids, [['ses_root_new', 'ses_child_busy', 'ses_child_asks', 'ses_root_old', 'ses_adopted'], ['ses_other']]);
    assert.equal(state.agent_count, 6);
    assert.equal(state.permissions_pending, 1);
    // The monitor reorders sessions by updatedAt; the file must not change for that.
    const shuffled = toLegacyState({ ...snap, sessions: [...sessions].reverse() }, NOW + 60);
    assert.equal(contentKey(shuffled), contentKey(state));
  });

  test('dir is the basename of the directory, "global" without one; title defaults to "Sans titre"', () => {
    const cases: Array<[string, string]> = [
      ['/Users/me/src/api', 'api'],
      ['/Users/me/src/api/', 'api'],
      ['', 'global'],
      ['/', 'global'],
      ['C:\\work\\proj', 'proj'],
      ['C:\\', 'global'],
    ];
    for (const [directory, dir] of cases) {
      const state = toLegacyState(makeSnapshot([makeInstance()], [makeSession({ directory, title: '  \n ' })]), NOW);
      assert.equal(state.instances[0]?.agents[0]?.dir, dir, directory);
      assert.equal(state.instances[0]?.agents[0]?.full_dir, directory);
      assert.equal(state.instances[0]?.agents[0]?.title, 'Sans titre');
    }
  });

  test('never carries URLs, passwords, permission details or usage error messages', () => {
    const instance = makeInstance({ url: 'http://opencode:hunter2@127.0.0.1:52341', error: 'password required', hint: 'set OPENCODE_SERVER_PASSWORD=hunter2' });
    const session = makeSession({
      needsAttention: true,
      permissions: [{ id: 'per_1', sessionId: 'ses_4b2f', permission: 'bash', patterns: ['*'], command: 'cat ~/.secret', always: [], askedAt: 1 }],
      lastError: 'token sk-ant-oat01-XXXX rejected',
    });
    const text = JSON.stringify(toLegacyState(makeSnapshot([instance], [session]), NOW));
    for (const secret of ['hunter2', '.secret', 'sk-ant', '127.0.0.1']) assert.ok(!text.includes(secret), secret);
    const usage: UsageModel = { stale: false, error: 'token_expired', errorMessage: 'Bearer sk-ant-oat01-XXXX expired', source: 'claude-code' };
    const usageText = JSON.stringify(toLegacyUsage(usage, NOW));
    assert.ok(!usageText.includes('sk-ant') && !usageText.includes('claude-code'));
  });
});

describe('toLegacyUsage', () => {
  const fresh = (over: Partial<UsageModel> = {}): UsageModel => ({
    fiveHour: { percent: 45.9, resetsAt: '2025-12-26T23:00:00.000000+00:00' },
    sevenDay: { percent: 62.0, resetsAt: '2025-12-29T00:00:00.000000+00:00' },
    fetchedAt: NOW * 1000,
    stale: false,
    ...over,
  });

  test('success form matches the §2 example: integer utilization, resets_at as returned, error null', () => {
    const usage = toLegacyUsage(fresh(), 1766768000);
    assert.equal(JSON.stringify(usage), JSON.stringify(USAGE_EXAMPLE));
    assertCovers(usage, USAGE_EXAMPLE);
    allIntegers(usage);
  });

  test('utilization is truncated and clamped to 0–100; missing window is 0 % with no reset', () => {
    const cases: Array<[number, number]> = [
      [99.99, 99],
      [100.4, 100],
      [250, 100],
      [-3, 0],
      [Number.NaN, 0],
      [0.5, 0],
    ];
    for (const [percent, utilization] of cases) {
      const usage = toLegacyUsage(fresh({ fiveHour: { percent } }), NOW);
      assert.deepEqual(usage && 'five_hour' in usage ? usage.five_hour : undefined, { utilization, resets_at: null }, String(percent));
    }
    const noWeek = toLegacyUsage(fresh({ sevenDay: undefined }), NOW);
    assert.deepEqual(noWeek && 'seven_day' in noWeek ? noWeek.seven_day : undefined, { utilization: 0, resets_at: null });
  });

  test('resets_at: UTC strings kept verbatim, other offsets converted to UTC (the plugin parses UTC only)', () => {
    const at = (resetsAt: string) => {
      const u = toLegacyUsage(fresh({ fiveHour: { percent: 1, resetsAt } }), NOW);
      return u && 'five_hour' in u ? u.five_hour.resets_at : undefined;
    };
    assert.equal(at('2026-09-01T15:00:00Z'), '2026-09-01T15:00:00Z');
    assert.equal(at('2026-09-01T15:00:00.288792+00:00'), '2026-09-01T15:00:00.288792+00:00');
    assert.equal(at('2026-09-01T17:00:00+02:00'), '2026-09-01T15:00:00.000Z');
    assert.equal(at('garbage'), null);
  });

  test('error form: {error, updated} only, codes of the legacy daemon', () => {
    const cases: Array<[UsageModel['error'], string]> = [
      ['auth_not_found', 'auth_not_found'],
      ['token_not_found', 'token_not_found'],
      ['token_expired', 'token_expired'],
      ['api_error', 'api_error'],
      ['missing_scope', 'api_error'],
      ['rate_limited', 'api_error'],
    ];
    for (const [error, code] of cases) {
      const usage = toLegacyUsage({ stale: false, error, errorMessage: 'x' }, NOW);
      assert.equal(JSON.stringify(usage), `{"error":"${code}","updated":${NOW}}`);
    }
  });

  test('transient failure with recent last-good values keeps the values; auth errors, old values or a passed reset do not', () => {
    const resetLater = { percent: 71.2, resetsAt: new Date((NOW + 3600) * 1000).toISOString() };
    const staleOk = fresh({ fiveHour: resetLater, stale: true, error: 'rate_limited', fetchedAt: (NOW - 600) * 1000 });
    const kept = toLegacyUsage(staleOk, NOW);
    assert.ok(kept && 'five_hour' in kept);
    assert.equal(kept.error, null);
    assert.equal(kept.five_hour.utilization, 71);

    assert.deepEqual(toLegacyUsage({ ...staleOk, error: 'api_error' }, NOW), kept);
    assert.deepEqual(toLegacyUsage({ ...staleOk, error: 'token_expired' }, NOW), { error: 'token_expired', updated: NOW });
    assert.deepEqual(toLegacyUsage({ ...staleOk, error: 'missing_scope' }, NOW), { error: 'api_error', updated: NOW });
    assert.deepEqual(toLegacyUsage({ ...staleOk, fetchedAt: (NOW - 7200) * 1000 }, NOW), { error: 'api_error', updated: NOW });
    assert.deepEqual(toLegacyUsage({ ...staleOk, fetchedAt: (NOW - 7200) * 1000 }, NOW, { keepStaleValuesSec: 3 * 3600 }), kept);
    assert.deepEqual(toLegacyUsage({ ...staleOk, fetchedAt: undefined }, NOW), { error: 'api_error', updated: NOW });
    const afterReset = { ...staleOk, fiveHour: { ...resetLater, resetsAt: new Date((NOW - 1) * 1000).toISOString() } };
    assert.deepEqual(toLegacyUsage(afterReset, NOW), { error: 'api_error', updated: NOW });
  });

  test('nothing to write without usage, or before any value or error', () => {
    assert.equal(toLegacyUsage(undefined, NOW), undefined);
    assert.equal(toLegacyUsage({ stale: false }, NOW), undefined);
  });

  test('contentKey ignores only `updated`', () => {
    const a = toLegacyUsage(fresh(), NOW);
    const b = toLegacyUsage(fresh(), NOW + 500);
    assert.ok(a && b);
    assert.equal(contentKey(a), contentKey(b));
    assert.notEqual(JSON.stringify(a), JSON.stringify(b));
  });
});

describe('labels in the legacy state file (issue 16)', () => {
  test('the label is the title SwiftBar shows; the shape is unchanged', () => {
    const plain = toLegacyState(makeSnapshot([makeInstance()], [makeSession()]), NOW);
    const labelled = toLegacyState(makeSnapshot([makeInstance()], [makeSession({ label: 'review MR' })]), NOW);
    const agent = labelled.instances[0]!.agents[0]!;
    assert.equal(agent.title, 'review MR');
    assert.deepEqual(Object.keys(agent), Object.keys(plain.instances[0]!.agents[0]!), 'same fields as without a label');
  });
});
