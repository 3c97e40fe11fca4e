import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { PresentedTree } from '../../../src/core/present/tree';
import { diffTrees, emptyTree, nodeId, presentTree } from '../../../src/core/present/tree';
import { makeInstance, makeSession, makeSnapshot, makeTodos } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000; // one minute after the builders' timestamps

function node(tree: PresentedTree, id: string) {
  const n = tree.nodes.get(id);
  assert.ok(n, `no row ${id}`);
  return n;
}

describe('instance rows', () => {
  test('label is the folder and port, description: busy count first (top-level sessions)', () => {
    const tree = presentTree(
      makeSnapshot(
        [makeInstance({ cwd: '/Users/me/src/api' })],
        [makeSession({ id: 'ses_a' }), makeSession({ id: 'ses_b', status: 'idle' })],
      ),
      NOW,
    );
    assert.deepEqual(tree.rootIds, ['instance:pid:4242']);
    const row = node(tree, 'instance:pid:4242');
    assert.equal(row.label, 'api:52341');
    assert.equal(row.description, '1 busy');
    assert.equal(row.contextValue, 'instance+connected+term');
    assert.deepEqual(row.icon, { id: 'vm-running', color: 'charts.green' });
    assert.equal(row.collapsible, 'expanded');
  });

  test('no port, needs-you count and a notice row for limited instances', () => {
    const instance = makeInstance({
      port: undefined,
      url: undefined,
      cwd: '/w/web',
      kind: 'tui',
      connection: 'limited',
      error: 'limited (no port)',
      hint: 'Start OpenCode with `--port 0` for live monitoring.',
    });
    const tree = presentTree(makeSnapshot([instance], [makeSession({ needsAttention: true, attentionReason: 'heuristic', waitingSince: NOW - 240_000 })]), NOW);
    const row = node(tree, 'instance:pid:4242');
    assert.equal(row.label, 'web (no port)');
    assert.equal(row.description, '1 waiting · no port');
    assert.equal(row.contextValue, 'instance+limited+term');
    assert.equal(row.icon.id, 'vm-outline');
    assert.equal(row.childIds[0], 'notice:pid:4242');
    const notice = node(tree, 'notice:pid:4242');
    assert.equal(notice.label, 'limited (no port)');
    assert.equal(notice.description, 'Start OpenCode with --port 0 for live monitoring.');
    assert.equal(notice.contextValue, 'notice');
  });

  test('down with a password error: notice runs Set Server Password', () => {
    const tree = presentTree(makeSnapshot([makeInstance({ connection: 'down', problem: { kind: 'auth', text: 'password required' }, error: 'password required', hint: 'Set the server password to monitor it.' })], []), NOW);
    const row = node(tree, 'instance:pid:4242');
    assert.equal(row.description, 'down');
    assert.deepEqual(row.icon, { id: 'debug-disconnect', color: 'problemsErrorIcon.foreground' });
    const notice = node(tree, 'notice:pid:4242');
    assert.equal(notice.contextValue, 'notice+password');
    assert.equal(notice.command?.id, 'opencodeMonitor.setServerPassword');
    assert.equal(notice.ref.url, 'http://127.0.0.1:52341');
  });

  test('tooltip lists pid, tty, url, version, folder and error, escaped', () => {
    const tree = presentTree(makeSnapshot([makeInstance({ version: '1.18.33', cwd: '/w/a_b', error: 'x*y', connection: 'down', ppid: 7 })], []), NOW);
    const tip = node(tree, 'instance:pid:4242').tooltip;
    for (const part of ['**PID:** 4242', '**Parent PID:** 7', '`ttys003`', '`http://127.0.0.1:52341`', '1\\.18\\.33', '`/w/a_b`', 'x\\*y']) {
      assert.ok(tip.includes(part), `${part} in ${tip}`);
    }
  });

  test('an instance without sessions says so (and stays expanded)', () => {
    const tree = presentTree(makeSnapshot([makeInstance()], []), NOW);
    assert.deepEqual(node(tree, 'instance:pid:4242').childIds, ['empty:pid:4242']);
    assert.equal(node(tree, 'instance:pid:4242').collapsible, 'expanded');
    assert.equal(node(tree, 'empty:pid:4242').label, 'No recent sessions');
    const connecting = presentTree(makeSnapshot([makeInstance({ connection: 'connecting' })], []), NOW);
    assert.equal(node(connecting, 'empty:pid:4242').label, 'Connecting…');
    assert.equal(node(connecting, 'instance:pid:4242').description, 'connecting…');
  });

  test('endpoint instances show no port suffix', () => {
    const tree = presentTree(makeSnapshot([makeInstance({ id: 'url:https://dev/oc', kind: 'endpoint', pid: undefined, cwd: undefined, url: 'https://dev/oc' })], []), NOW);
    assert.equal(node(tree, 'instance:url:https://dev/oc').label, 'dev/oc');
  });
});

describe('session rows', () => {
  test('busy: spinning icon, current tool and for how long', () => {
    const session = makeSession({ runningTools: [{ callID: 'c1', name: 'bash', arg: 'npm test', startedAt: NOW - 12_000 }] });
    const tree = presentTree(makeSnapshot([makeInstance()], [session]), NOW);
    const row = node(tree, 'session:ses_4b2f');
    assert.equal(row.label, 'Refactor parser');
    assert.equal(row.description, 'bash 12s');
    assert.deepEqual(row.icon, { id: 'loading~spin' });
    assert.equal(row.contextValue, 'session+busy+term');
    assert.equal(row.parentId, 'instance:pid:4242');
    const tool = node(tree, 'tool:ses_4b2f:c1');
    assert.equal(tool.label, 'bash: npm test');
    assert.equal(tool.description, '12s');
    assert.equal(tool.icon.id, 'terminal');
    assert.equal(tool.contextValue, 'tool');
  });

  test('idle and retry icons', () => {
    const tree = presentTree(
      makeSnapshot(
        [makeInstance()],
        [makeSession({ id: 'ses_i', status: 'idle' }), makeSession({ id: 'ses_r', status: 'retry', retry: { attempt: 2, message: 'overloaded' } })],
      ),
      NOW,
    );
    assert.deepEqual(node(tree, 'session:ses_i').icon, { id: 'circle-outline' });
    assert.equal(node(tree, 'session:ses_i').contextValue, 'session+idle+term');
    assert.equal(node(tree, 'session:ses_i').description, 'idle');
    assert.deepEqual(node(tree, 'session:ses_r').icon, { id: 'warning', color: 'problemsWarningIcon.foreground' });
    assert.equal(node(tree, 'session:ses_r').contextValue, 'session+busy+term');
    assert.match(node(tree, 'session:ses_r').description ?? '', /^retry #2/);
  });

  test('needs you: bell, warning colour, "waiting 4 min", expanded, permission row with its command', () => {
    const session = makeSession({
      needsAttention: true,
      attentionReason: 'permission',
      waitingSince: NOW - 4 * 60_000,
      runningTools: [{ callID: 'c9', name: 'bash', arg: 'rm -rf build', startedAt: NOW - 4 * 60_000 }],
      permissions: [{ id: 'per_1', sessionId: 'ses_4b2f', permission: 'bash', patterns: ['rm -rf build'], command: 'rm -rf build', always: ['rm *'], callID: 'c9', askedAt: NOW - 4 * 60_000 }],
    });
    const tree = presentTree(makeSnapshot([makeInstance()], [session]), NOW);
    const row = node(tree, 'session:ses_4b2f');
    assert.deepEqual(row.icon, { id: 'bell', color: 'problemsWarningIcon.foreground' });
    assert.equal(row.description, 'waiting 4m · permission');
    assert.equal(row.contextValue, 'session+needsYou+term');
    assert.equal(row.collapsible, 'expanded');
    // The tool waiting for this permission is shown once, as the permission.
    assert.deepEqual(row.childIds, ['permission:per_1']);
    const permission = node(tree, 'permission:per_1');
    assert.equal(permission.label, 'bash: rm -rf build');
    assert.equal(permission.description, 'needs approval · 4m');
    assert.equal(permission.contextValue, 'permission+term');
    assert.deepEqual(permission.ref, { instanceId: 'pid:4242', sessionId: 'ses_4b2f', permissionId: 'per_1' });
    assert.ok(permission.tooltip.includes('rm -rf build'));
    assert.ok(permission.tooltip.includes('`rm *`'));
  });

  test('question row answers on click and hides the running question tool', () => {
    const session = makeSession({
      needsAttention: true,
      attentionReason: 'question',
      runningTools: [{ callID: 'q', name: 'question', arg: '' }],
      questions: [
        {
          id: 'que_1',
          sessionId: 'ses_4b2f',
          askedAt: NOW - 5_000,
          questions: [
            { question: 'Which database?', header: 'Database', options: [{ label: 'SQLite' }, { label: 'Postgres', description: 'Server' }] },
            { question: 'Which port?', options: [] },
          ],
        },
      ],
    });
    const tree = presentTree(makeSnapshot([makeInstance()], [session]), NOW);
    assert.deepEqual(node(tree, 'session:ses_4b2f').childIds, ['question:que_1']);
    const q = node(tree, 'question:que_1');
    assert.equal(q.label, 'Which database? (+1 more)');
    assert.equal(q.description, 'question · 5s');
    assert.equal(q.contextValue, 'question+term');
    assert.equal(q.command?.id, 'opencodeMonitor.answerQuestion');
    assert.ok(q.tooltip.includes('- Postgres — Server'));
  });

  test('sub-agents nest under their parent, and the task tool that runs them is not repeated', () => {
    const parent = makeSession({ id: 'ses_p', runningTools: [{ callID: 't1', name: 'task', arg: 'explore', childSessionId: 'ses_c' }] });
    const child = makeSession({ id: 'ses_c', parentId: 'ses_p', title: 'Explore code' });
    const tree = presentTree(makeSnapshot([makeInstance()], [parent, child]), NOW);
    assert.deepEqual(node(tree, 'instance:pid:4242').childIds, ['session:ses_p']);
    assert.deepEqual(node(tree, 'session:ses_p').childIds, ['session:ses_c']);
    assert.equal(node(tree, 'instance:pid:4242').description, '1 busy');
    assert.equal(node(tree, 'session:ses_c').parentId, 'session:ses_p');
    assert.ok(!tree.nodes.has('tool:ses_p:t1'));
  });

  test('a sub-agent whose parent is not shown is a root session', () => {
    const tree = presentTree(makeSnapshot([makeInstance()], [makeSession({ id: 'ses_c', parentId: 'ses_gone' })]), NOW);
    assert.deepEqual(node(tree, 'instance:pid:4242').childIds, ['session:ses_c']);
  });

  test('todos: current and next, expandable to the list', () => {
    const todos = makeTodos({
      pending: 1,
      inProgress: 1,
      completed: 1,
      total: 3,
      currentLabel: 'Fix lexer',
      nextLabel: 'Add tests',
      items: [
        { content: 'Read code', status: 'completed' },
        { content: 'Fix lexer', status: 'in_progress' },
        { content: 'Add tests', status: 'pending' },
      ],
    });
    const tree = presentTree(makeSnapshot([makeInstance()], [makeSession({ todos })]), NOW);
    const row = node(tree, 'todos:ses_4b2f');
    assert.equal(row.label, 'Todo: Fix lexer');
    assert.equal(row.description, 'next: Add tests · 1/3 done');
    assert.equal(row.collapsible, 'collapsed');
    assert.deepEqual(row.childIds, ['todo:ses_4b2f:0', 'todo:ses_4b2f:1', 'todo:ses_4b2f:2']);
    assert.equal(node(tree, 'todo:ses_4b2f:0').icon.id, 'pass');
    assert.equal(node(tree, 'todo:ses_4b2f:1').description, 'in progress');
  });

  test('newest first, whatever their state (rows do not jump when a session changes state)', () => {
    const tree = presentTree(
      makeSnapshot(
        [makeInstance()],
        [
          makeSession({ id: 'old_idle', status: 'idle', createdAt: 1 }),
          makeSession({ id: 'new_idle', status: 'idle', createdAt: 3 }),
          makeSession({ id: 'busy', createdAt: 2 }),
          makeSession({ id: 'waiting', status: 'busy', needsAttention: true, createdAt: 0 }),
        ],
      ),
      NOW,
    );
    assert.deepEqual(node(tree, 'instance:pid:4242').childIds, ['session:new_idle', 'session:busy', 'session:old_idle', 'session:waiting']);
  });

  test('ids are stable across state changes', () => {
    const a = presentTree(makeSnapshot([makeInstance()], [makeSession({ status: 'idle' })]), NOW);
    const b = presentTree(makeSnapshot([makeInstance()], [makeSession({ status: 'busy', needsAttention: true })]), NOW);
    assert.deepEqual([...a.nodes.keys()], [...b.nodes.keys()]);
    assert.equal(nodeId.session('ses_4b2f'), 'session:ses_4b2f');
  });
});

describe('diffTrees', () => {
  const instance = makeInstance();

  test('a changed instance set refreshes everything', () => {
    const a = presentTree(makeSnapshot([instance], []), NOW);
    const b = presentTree(makeSnapshot([instance, makeInstance({ id: 'pid:1', pid: 1 })], []), NOW);
    assert.equal(diffTrees(a, b), 'all');
    assert.equal(diffTrees(emptyTree(), a), 'all');
  });

  test('nothing changed: nothing to refresh', () => {
    const s = makeSnapshot([instance], [makeSession()]);
    assert.deepEqual(diffTrees(presentTree(s, NOW), presentTree(s, NOW)), []);
  });

  test('only the session whose text changed (its instance keeps busy/total)', () => {
    const tool = { callID: 'c1', name: 'bash', arg: 'npm test', startedAt: NOW - 1000 };
    const a = presentTree(makeSnapshot([instance], [makeSession({ id: 's1' }), makeSession({ id: 's2' })]), NOW);
    const b = presentTree(makeSnapshot([instance], [makeSession({ id: 's1' }), makeSession({ id: 's2', runningTools: [tool] })]), NOW);
    assert.deepEqual(diffTrees(a, b), ['session:s2']);
  });

  test('a session going idle refreshes its instance row (busy/total) only', () => {
    const a = presentTree(makeSnapshot([instance], [makeSession({ id: 's1' })]), NOW);
    const b = presentTree(makeSnapshot([instance], [makeSession({ id: 's1', status: 'idle' })]), NOW);
    assert.deepEqual(diffTrees(a, b), ['instance:pid:4242']);
  });

  test('time passing refreshes the rows that show elapsed time', () => {
    const s = makeSnapshot([instance], [makeSession({ id: 's1', runningTools: [{ callID: 'c', name: 'bash', arg: 'x', startedAt: NOW - 5000 }] }), makeSession({ id: 's2', status: 'idle' })]);
    assert.deepEqual(diffTrees(presentTree(s, NOW), presentTree(s, NOW + 1000)), ['session:s1']);
  });

  test('a new request refreshes its session, not the whole tree', () => {
    const permission = { id: 'per_1', sessionId: 's1', permission: 'edit', patterns: ['a.ts'], always: [], askedAt: NOW };
    const a = presentTree(makeSnapshot([instance], [makeSession({ id: 's1' }), makeSession({ id: 's2', status: 'idle' })]), NOW);
    const b = presentTree(makeSnapshot([instance], [makeSession({ id: 's1', permissions: [permission] }), makeSession({ id: 's2', status: 'idle' })]), NOW);
    assert.deepEqual(diffTrees(a, b), ['session:s1']);
  });
});

describe('port-less TUI sessions (from the DB)', () => {
  test('offer no answer buttons: only the terminal can answer', () => {
    const now = 1_795_290_000_000;
    const permission = { id: 'prt_1', sessionId: 'ses_db', permission: 'bash', patterns: [], command: 'rm -f x', always: [], askedAt: now - 5_000 };
    const question = { id: 'prt_2', sessionId: 'ses_db', questions: [{ question: 'Which?', options: [{ label: 'A' }] }], askedAt: now - 5_000 };
    const session = { ...makeSession({ id: 'ses_db', instanceId: 'pid:7' }), source: 'db' as const, permissions: [permission], questions: [question], needsAttention: true };
    const tree = presentTree(makeSnapshot([makeInstance({ id: 'pid:7', connection: 'limited', port: undefined, url: undefined })], [session]), now);
    const rows = [...tree.nodes.values()];
    const p = rows.find((n) => n.kind === 'permission')!;
    const q = rows.find((n) => n.kind === 'question')!;
    assert.equal(p.contextValue, 'permission+terminal');
    assert.match(p.description ?? '', /answer in its terminal/);
    assert.equal(q.contextValue, 'question+terminal');
    assert.equal(q.command?.id, 'opencodeMonitor.focusTerminal');
  });
});

describe('labels and waiting order (issue 16)', () => {
  test('a label names the session; the title goes to the description and the tooltip', () => {
    const tree = presentTree(makeSnapshot([makeInstance()], [makeSession({ id: 'ses_l', label: 'review MR', title: 'Refactor parser', status: 'idle' })]), NOW);
    const row = node(tree, 'session:ses_l');
    assert.equal(row.label, 'review MR');
    assert.equal(row.description, 'idle · Refactor parser');
    assert.match(row.tooltip, /\*\*review MR\*\*/);
    assert.match(row.tooltip, /\*\*Title:\*\* Refactor parser/);
  });
  test('hostile label text stays plain in the tooltip (no links, no icons)', () => {
    const tree = presentTree(makeSnapshot([makeInstance()], [makeSession({ id: 'ses_h', label: '[x](command:evil) $(zap)' })]), NOW);
    const tooltip = node(tree, 'session:ses_h').tooltip;
    assert.ok(!tooltip.includes('](command:'), tooltip);
    assert.ok(!tooltip.includes('$(zap)'), tooltip);
  });
  test('"longest waiting first" puts waiting sessions (oldest wait first) and their instances on top', () => {
    const a = makeInstance({ id: 'pid:1', pid: 1, port: 1 });
    const b = makeInstance({ id: 'pid:2', pid: 2, port: 2 });
    const sessions = [
      makeSession({ id: 'ses_new', instanceId: 'pid:1', createdAt: NOW - 1_000 }),
      makeSession({ id: 'ses_w1', instanceId: 'pid:2', createdAt: NOW - 9_000, needsAttention: true, waitingSince: NOW - 60_000 }),
      makeSession({ id: 'ses_w2', instanceId: 'pid:2', createdAt: NOW - 2_000, needsAttention: true, waitingSince: NOW - 300_000 }),
      makeSession({ id: 'ses_idle', instanceId: 'pid:2', createdAt: NOW - 500, status: 'idle' }),
    ];
    const newest = presentTree(makeSnapshot([a, b], sessions), NOW);
    assert.deepEqual(newest.rootIds, ['instance:pid:1', 'instance:pid:2']);
    assert.deepEqual(node(newest, 'instance:pid:2').childIds, ['session:ses_idle', 'session:ses_w2', 'session:ses_w1']);
    const waiting = presentTree(makeSnapshot([a, b], sessions), NOW, { sort: 'longestWaiting' });
    assert.deepEqual(waiting.rootIds, ['instance:pid:2', 'instance:pid:1']);
    assert.deepEqual(node(waiting, 'instance:pid:2').childIds, ['session:ses_w2', 'session:ses_w1', 'session:ses_idle']);
    assert.equal(node(waiting, 'session:ses_w2').description, 'waiting 5m · permission');
  });
});

describe('what the tree shows is true, and only working actions are offered (issue 18)', () => {
  test('finished sub-agents fold into one collapsed row; those at work stay rows of their own', () => {
    const sessions = [
      makeSession({ id: 'ses_p', status: 'busy' }),
      makeSession({ id: 'ses_c1', parentId: 'ses_p', status: 'idle', createdAt: 1_766_900_000_001 }),
      makeSession({ id: 'ses_c2', parentId: 'ses_p', status: 'idle', createdAt: 1_766_900_000_002 }),
      makeSession({ id: 'ses_c3', parentId: 'ses_p', status: 'busy', createdAt: 1_766_900_000_003 }),
    ];
    const tree = presentTree(makeSnapshot([makeInstance()], sessions), NOW);
    assert.deepEqual(node(tree, 'session:ses_p').childIds, ['session:ses_c3', 'finished:ses_p']);
    const fold = node(tree, 'finished:ses_p');
    assert.equal(fold.label, '2 finished sub-agents');
    assert.equal(fold.collapsible, 'collapsed');
    assert.equal(fold.kind, 'finished');
    assert.deepEqual(fold.childIds, ['session:ses_c1', 'session:ses_c2']);
    assert.equal(node(tree, 'session:ses_c1').parentId, 'finished:ses_p');
    // A sub-agent waiting for the user is not finished.
    const waiting = presentTree(makeSnapshot([makeInstance()], [sessions[0]!, makeSession({ id: 'ses_c1', parentId: 'ses_p', status: 'idle', needsAttention: true })]), NOW);
    assert.deepEqual(node(waiting, 'session:ses_p').childIds, ['session:ses_c1']);
  });

  test('a stale session (server not answering) says "unknown", offers no abort, counts nowhere', () => {
    const instance = makeInstance({ connection: 'down', problem: { kind: 'unreachable', text: 'unreachable: ECONNREFUSED' }, error: 'unreachable: ECONNREFUSED' });
    const tree = presentTree(makeSnapshot([instance], [makeSession({ id: 'ses_s', status: 'idle', stale: true })]), NOW);
    const row = node(tree, 'session:ses_s');
    assert.match(row.description ?? '', /^unknown/);
    assert.equal(row.contextValue, 'session+stale+term');
    assert.equal(row.icon.id, 'question');
    assert.match(row.tooltip, /unknown: its server is not answering/);
    assert.equal(node(tree, 'instance:pid:4242').description, 'down');
  });

  test('"Focus Terminal" (+term) only where a terminal can be found', () => {
    const headless = makeInstance({ id: 'pid:1', tty: undefined, kind: 'serve' });
    const inTerminal = makeInstance({ id: 'pid:2', tty: 'pts/3', kind: 'serve' });
    const endpoint = makeInstance({ id: 'url:x', pid: undefined, tty: undefined, kind: 'endpoint' });
    const managed = makeInstance({ id: 'managed:m', tty: 'pts/4', managed: { serverId: 'm', state: 'running', folder: '/w', restarts: 0, passwordProtected: false } });
    const permission = { id: 'per_1', sessionId: 'ses_1', permission: 'bash', patterns: [], command: 'rm x', always: [], askedAt: NOW };
    const tree = presentTree(
      makeSnapshot(
        [headless, inTerminal, endpoint, managed],
        [
          makeSession({ id: 'ses_1', instanceId: 'pid:1', needsAttention: true, permissions: [permission] }),
          makeSession({ id: 'ses_2', instanceId: 'pid:2' }),
          makeSession({ id: 'ses_3', instanceId: 'url:x' }),
        ],
      ),
      NOW,
    );
    assert.equal(node(tree, 'instance:pid:1').contextValue, 'instance+connected');
    assert.equal(node(tree, 'session:ses_1').contextValue, 'session+needsYou');
    assert.equal(node(tree, 'permission:per_1').contextValue, 'permission');
    assert.equal(node(tree, 'instance:pid:2').contextValue, 'instance+connected+term');
    assert.equal(node(tree, 'session:ses_2').contextValue, 'session+busy+term');
    assert.equal(node(tree, 'instance:url:x').contextValue, 'instance+connected');
    assert.equal(node(tree, 'session:ses_3').contextValue, 'session+busy');
    assert.equal(node(tree, 'instance:managed:m').contextValue, 'instance+connected+managed');
  });

  test('the menus offer Focus Terminal only on +term rows, and keep every other action on them', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../../package.json'), 'utf8')) as {
      contributes: { menus: Record<string, Array<{ command: string; when?: string }>> };
    };
    const items = pkg.contributes.menus['view/item/context']!;
    /** Evaluates the `viewItem` part of a when clause (`== x` or `=~ /re/`). */
    const offers = (command: string, contextValue: string) =>
      items.some((i) => {
        if (i.command !== command) return false;
        const m = /viewItem (==|=~) (\S+)/.exec(i.when ?? '');
        if (!m) return false;
        return m[1] === '==' ? m[2] === contextValue : new RegExp(m[2]!.slice(1, -1)).test(contextValue);
      });
    const focus = 'opencodeMonitor.focusTerminal';
    for (const cv of ['session+busy', 'session+needsYou', 'instance+connected', 'permission', 'question', 'instance+connected+managed']) assert.ok(!offers(focus, cv), `Focus Terminal on ${cv}`);
    for (const cv of ['session+busy+term', 'session+idle+term', 'instance+connected+term', 'instance+limited+term', 'permission+term', 'question+term', 'permission+terminal']) assert.ok(offers(focus, cv), `no Focus Terminal on ${cv}`);
    assert.ok(offers('opencodeMonitor.approveOnce', 'permission+term'));
    assert.ok(offers('opencodeMonitor.answerQuestion', 'question+term'));
    assert.ok(offers('opencodeMonitor.abortSession', 'session+busy+term'));
    assert.ok(!offers('opencodeMonitor.abortSession', 'session+stale+term'));
    assert.ok(offers('opencodeMonitor.attachInTerminal', 'session+busy'));
    assert.ok(offers('opencodeMonitor.attachInTerminal', 'instance+connected+term'));
    assert.ok(offers('opencodeMonitor.stopServer', 'instance+connected+managed'));
  });

  test('an empty instance says what would show there instead of "0/0 busy"', () => {
    const tree = presentTree(makeSnapshot([makeInstance({ kind: 'tui' })], []), NOW);
    const row = node(tree, 'instance:pid:4242');
    assert.equal(row.description, 'no sessions');
    const empty = node(tree, 'empty:pid:4242');
    assert.equal(empty.label, 'No recent sessions');
    assert.equal(empty.description, 'start one in its terminal');
  });

  test('narrow sidebar: short descriptions, most important word first, long titles cut (the tooltip has them)', () => {
    const title = 'A very long session title that a narrow sidebar would cut anyway';
    const tool = { callID: 'c', name: 'bash', arg: 'npm run test -- --grep something-long', startedAt: NOW - 12_000 };
    const tree = presentTree(makeSnapshot([makeInstance()], [makeSession({ id: 'ses_l', title, runningTools: [tool] })]), NOW);
    const row = node(tree, 'session:ses_l');
    assert.ok(row.label.length <= 36, row.label);
    assert.equal(row.description, 'bash 12s');
    assert.match(row.tooltip, new RegExp(title));
    assert.match(row.tooltip, /npm run test/);
  });
});
