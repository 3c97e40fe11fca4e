/**
 * DbSessionSource against a real port-less OpenCode TUI (no port: the DB is all there is),
 * driven by typing prompts into it; the scripted model makes it run tools, ask for a permission
 * and ask a question. Needs node:sqlite (Node ≥ 22.13) and tmux; without node:sqlite it checks
 * the "unavailable" answer instead.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DbSessionSource } from '../../../src/core/db/dbSessionSource';
import { OpencodeDb } from '../../../src/core/db/opencodeDb';
import { loadNodeSqlite } from '../../../src/core/db/sqlite';
import { MemoryLogger } from '../../../src/core/log';
import type { InstanceModel, SessionModel } from '../../../src/core/model/model';
import { PERMISSION_PROBE_COMMAND, QUESTION_OPTIONS } from '../../fixtures/fakeModel';
import { createLab, waitFor, type Lab } from '../../harness/opencodeLab';
import { assertNoLeftovers, isAlive, toolChildrenOf } from '../../harness/processes';
import { hasTmux, opencodeBinary, TuiSession } from './tui';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const sqlite = loadNodeSqlite();
const STEP_MS = 60_000;

function limitedInstance(pid: number, cwd: string, dataDir: string): InstanceModel {
  return { id: `pid:${pid}`, agent: 'opencode', kind: 'tui', pid, cwd, dataDir, connection: 'limited', sessionIds: [], firstSeen: Date.now() };
}

describe('DB sessions of a real port-less TUI', { timeout: 300_000 }, () => {
  if (!sqlite.sqlite) {
    it('without node:sqlite: reports why and answers nothing', () => {
      const logger = new MemoryLogger();
      const source = new DbSessionSource({ logger });
      assert.match(source.unavailableReason ?? '', /^node:sqlite needs Node ≥ 22\.13; this is Node /);
      assert.deepEqual(source.sessionsFor(limitedInstance(process.pid, process.cwd(), '/tmp')), []);
      assert.equal(logger.records.filter((r) => r.level === 'warn').length, 1);
      source.dispose();
    });
    it('busy / permission / question / kill -9 against a real TUI', (t) => t.skip(`needs node:sqlite: ${sqlite.reason}`));
    return;
  }
  if (!hasTmux()) {
    it('needs tmux to give the TUI a terminal', (t) => t.skip('tmux not installed (apt-get install tmux)'));
    return;
  }

  let lab: Lab;
  let tui: TuiSession;
  let source: DbSessionSource;
  let instance: InstanceModel;
  let dataDir: string;
  const logger = new MemoryLogger();
  let changes = 0;
  const started: number[] = [];

  const sessions = (): SessionModel[] => source.sessionsFor(instance);
  const main = (): SessionModel | undefined => sessions().find((s) => /Lab TUI task/.test(s.title) || s.status !== 'idle') ?? sessions()[0];

  before(async () => {
    lab = await createLab();
    const dir = fs.realpathSync(lab.projectDir('tui'));
    tui = new TuiSession(opencodeBinary(REPO_ROOT), dir, { ...lab.env, TERM: 'xterm-256color' });
    tui.start();
    started.push(tui.pid);
    await tui.ready();
    dataDir = path.join(lab.env.XDG_DATA_HOME!, 'opencode');
    instance = limitedInstance(tui.pid, dir, dataDir);
    source = new DbSessionSource({ logger, pollMs: 200 });
    source.onChange(() => changes++);
  });

  after(async () => {
    source?.dispose();
    const pids = (await tui?.stop()) ?? [];
    await lab?.stopAll();
    assertNoLeftovers([...pids, ...started, ...(lab?.knownPids() ?? [])]);
  });

  it('busy with the running tool `sleep 6` (its child process is there: no permission), then idle', async () => {
    assert.deepEqual(sessions(), [], 'a fresh HOME has no sessions');
    await tui.type('Lab TUI task. scenario:todos+sleep 6');
    const busy = await waitFor(
      () => {
        const s = main();
        return s?.status === 'busy' && s.runningTools.some((t) => t.name === 'bash' && t.arg === 'sleep 6') ? s : undefined;
      },
      STEP_MS,
      'the DB to show the session busy with `sleep 6`',
      100,
    );
    assert.equal(busy.source, 'db');
    assert.equal(busy.instanceId, instance.id);
    assert.equal(busy.directory, tui.dir);
    assert.equal(busy.todos.total, 4);
    assert.equal(busy.todos.currentLabel, 'Implement the fake feature');
    // The part turns "running" just before OpenCode spawns the command.
    await waitFor(() => (toolChildrenOf(tui.pid).some((p) => p.args.join(' ') === 'sleep 6') ? true : undefined), 5_000, 'the real `sleep 6` child', 50);
    // Well past the permission grace: the child is seen, so no false alarm.
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(main()?.needsAttention, false);
    assert.match(tui.screen(), /sleep 6/);
    const idle = await waitFor(() => (main()?.status === 'idle' ? main() : undefined), STEP_MS, 'the session to go idle', 100);
    assert.deepEqual(idle!.runningTools, []);
    assert.ok(idle!.tokens.input > 0, 'tokens are summed in the session row');
    assert.ok(changes >= 2);
  });

  it('a permission prompt in the TUI = needs attention, with the command; answering it in the TUI clears it', async () => {
    await tui.type('Second TUI task. scenario:permission');
    const waiting = await waitFor(
      () => (main()?.attentionReason === 'permission' ? main() : undefined),
      STEP_MS,
      'the inferred permission',
      100,
    );
    assert.equal(waiting!.needsAttention, true);
    assert.equal(waiting!.status, 'busy');
    assert.equal(waiting!.permissions[0]?.command, PERMISSION_PROBE_COMMAND);
    assert.equal(waiting!.permissions[0]?.permission, 'bash');
    assert.match(tui.screen(), /Permission required/);
    tui.keys('Enter'); // "Allow once" is preselected
    await waitFor(() => (main()?.status === 'idle' && !main()?.needsAttention ? true : undefined), STEP_MS, 'idle after the approval', 100);
  });

  it('a question in the TUI = needs attention with its options', async () => {
    await tui.type('Third TUI task. scenario:question');
    const asking = await waitFor(() => (main()?.attentionReason === 'question' ? main() : undefined), STEP_MS, 'the inferred question', 100);
    assert.deepEqual(
      asking!.questions[0]?.questions[0]?.options.map((o) => o.label),
      [...QUESTION_OPTIONS],
    );
    tui.keys('Enter'); // first option
    await waitFor(() => (main()?.status === 'idle' && !main()?.needsAttention ? true : undefined), STEP_MS, 'idle after the answer', 100);
  });

  it('after kill -9 of the TUI the DB still says busy, but the source answers nothing and lets go of the DB', async () => {
    await tui.type('Fourth TUI task. scenario:sleep 30');
    const busy = await waitFor(
      () => (main()?.runningTools.some((t) => t.arg === 'sleep 30') ? main() : undefined),
      STEP_MS,
      'busy with sleep 30',
      100,
    );
    const orphans = toolChildrenOf(tui.pid).map((p) => p.pid);
    started.push(...orphans);
    tui.kill9();
    await waitFor(() => (isAlive(tui.pid) ? undefined : true), 10_000, 'the TUI to die', 50);
    assert.deepEqual(sessions(), []);
    // What the DB itself still claims (why liveness matters):
    const reader = new OpencodeDb(dataDir, sqlite.sqlite!);
    assert.equal(reader.poll(), 'changed');
    const raw = reader.readDirectory(tui.dir, { maxSessions: 5 });
    reader.close();
    assert.ok(raw.state === 'ok');
    const record = raw.records.find((r) => r.session.id === busy!.id);
    assert.equal(record?.lastMessage?.completedAt, undefined, 'the DB keeps "running" after kill -9');
    assert.ok(record?.tools.some((t) => t.input?.command === 'sleep 30'));
    await waitFor(() => (source.stats().watches === 0 ? true : undefined), 5_000, 'the source to drop the dead TUI', 50);
    assert.equal(source.stats().openDatabases, 0);
  });
});
