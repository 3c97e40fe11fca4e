/**
 * The whole monitor (discovery + live servers + OpenCode's DB) with a real port-less TUI beside
 * a real `serve`: both are found, the TUI as "limited (no port)" with its sessions from the DB.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNodeSqlite } from '../../../src/core/db/sqlite';
import { MemoryLogger } from '../../../src/core/log';
import { createMonitor } from '../../../src/core/createMonitor';
import type { Monitor } from '../../../src/core/monitor/monitor';
import type { MonitorSnapshot } from '../../../src/core/model/model';
import { createLab, createSession, promptAsync, waitFor } from '../../harness/opencodeLab';
import type { Lab, LabServer } from '../../harness/opencodeLab';
import { assertNoLeftovers } from '../../harness/processes';
import { hasTmux, opencodeBinary, TuiSession } from './tui';

const REPO_ROOT = path.resolve(__dirname, '../../../..');
const sqlite = loadNodeSqlite();
const STEP_MS = 60_000;

describe('monitor with a serve and a port-less TUI', { timeout: 300_000 }, () => {
  let lab: Lab;
  let server: LabServer;
  let tui: TuiSession;
  let monitor: Monitor;
  const logger = new MemoryLogger();
  const snap = (): MonitorSnapshot => monitor.snapshot();

  before(async () => {
    lab = await createLab();
    server = await lab.startServer({ name: 'served' });
    if (!hasTmux()) return;
    const dir = fs.realpathSync(lab.projectDir('tui'));
    tui = new TuiSession(opencodeBinary(REPO_ROOT), dir, { ...lab.env, TERM: 'xterm-256color' });
    tui.start();
    await tui.ready();
  });

  after(async () => {
    await monitor?.dispose();
    const pids = (await tui?.stop()) ?? [];
    await lab?.stopAll();
    assertNoLeftovers([...pids, ...(lab?.knownPids() ?? [])]);
  });

  it('finds both, the TUI as limited with its tty, and shows the TUI session from the DB', async (t) => {
    if (!hasTmux()) return t.skip('tmux not installed (scripts/setup-e2e.sh installs it)');
    const started = Date.now();
    monitor = createMonitor({ logger }).start();
    const found = await waitFor(() => {
      const s = snap();
      const served = s.instances.find((i) => i.pid === server.pid);
      const limited = s.instances.find((i) => i.pid === tui.pid);
      return served?.connection === 'connected' && limited ? { served, limited } : undefined;
    }, STEP_MS, 'both instances in the model');
    console.log(`# port-less TUI and serve in the model ${Date.now() - started} ms after the monitor started`);
    assert.equal(found.served.port, server.port);
    assert.equal(found.limited.kind, 'tui');
    assert.equal(found.limited.port, undefined);
    assert.equal(found.limited.connection, 'limited');
    assert.match(found.limited.tty ?? '', /^pts\/\d+$/);
    assert.equal(found.limited.cwd, tui.dir);
    assert.match(found.limited.hint ?? '', /--port 0/);
    if (!sqlite.sqlite) {
      assert.match(found.limited.hint ?? '', /node:sqlite/);
      return;
    }

    await tui.type('Monitor TUI task. scenario:sleep 6');
    const typed = Date.now();
    const viaDb = await waitFor(() => snap().sessions.find((s) => s.instanceId === `pid:${tui.pid}` && s.status === 'busy'), STEP_MS, 'TUI session busy via the DB', 100);
    console.log(`# typed prompt → TUI session busy in the model (DB): ${Date.now() - typed} ms`);
    assert.equal(viaDb.source, 'db');
    await waitFor(() => (snap().sessions.find((s) => s.id === viaDb.id)?.runningTools.some((x) => x.arg === 'sleep 6') ? true : undefined), STEP_MS, 'running tool via the DB');

    // The live server keeps working beside it.
    const id = await createSession(server, 'live beside the TUI');
    await promptAsync(server, id, 'scenario:sleep 2');
    const live = await waitFor(() => snap().sessions.find((s) => s.id === id && s.status === 'busy'), STEP_MS, 'live session busy');
    assert.equal(live.source, 'live');
    await waitFor(() => (snap().sessions.find((s) => s.id === viaDb.id)?.status === 'idle' ? true : undefined), STEP_MS, 'TUI session idle');

    tui.kill9();
    await waitFor(() => (snap().instances.some((i) => i.pid === tui.pid) ? undefined : true), 5_000, 'killed TUI leaves the model');
    assert.ok(!snap().sessions.some((s) => s.instanceId === `pid:${tui.pid}`), 'its DB sessions leave with it');
  });
});
