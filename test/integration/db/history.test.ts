/**
 * report and trace against history a real OpenCode 1.18.33 server wrote: a session with todos, a
 * sub-agent delegation and a tool denied by a rule (tool state error), a session whose model call
 * fails (HTTP 400), and a plain one. The figures are compared with what the server's own API says
 * about the same sessions (tokens, cost, children, tool states). The fake model's cost is set in
 * the lab's config so that cost is not trivially 0. Needs node:sqlite (Node ≥ 22.13).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNodeSqlite } from '../../../src/core/db/sqlite';
import { runHistoryCommand } from '../../../src/cli/history/command';
import { MODEL_ID } from '../../fixtures/fakeModel';
import { createLab, createSession, getJson, PROVIDER_ID, promptAsync, waitFor } from '../../harness/opencodeLab';
import type { Lab, LabServer } from '../../harness/opencodeLab';
import type { TraceNode } from '../../../src/core/history/types';

const ROOT = path.resolve(__dirname, '../../../..');
const WORKER = path.join(ROOT, 'out/src/core/history/historyWorker.js');
const sqlite = loadNodeSqlite();

interface ApiMessage {
  info: { role: string; cost?: number; tokens?: { input: number; output: number; reasoning: number; cache: { read: number; write: number } }; time: { completed?: number }; error?: unknown };
  parts: { type: string; tool?: string; state?: { status: string } }[];
}

interface ApiFigures {
  cost: number;
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
  messages: number;
  toolStates: Record<string, number>;
}

async function apiFigures(server: LabServer, id: string): Promise<ApiFigures> {
  const messages = await getJson<ApiMessage[]>(server, `/session/${id}/message`);
  const f: ApiFigures = { cost: 0, input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0, messages: messages.length, toolStates: {} };
  for (const m of messages) {
    if (m.info.role === 'assistant') {
      f.cost += m.info.cost ?? 0;
      f.input += m.info.tokens?.input ?? 0;
      f.output += m.info.tokens?.output ?? 0;
      f.reasoning += m.info.tokens?.reasoning ?? 0;
      f.cacheRead += m.info.tokens?.cache.read ?? 0;
      f.cacheWrite += m.info.tokens?.cache.write ?? 0;
    }
    for (const p of m.parts) if (p.type === 'tool' && p.state) f.toolStates[p.state.status] = (f.toolStates[p.state.status] ?? 0) + 1;
  }
  return f;
}

async function settled(server: LabServer, id: string): Promise<boolean | undefined> {
  const messages = await getJson<ApiMessage[]>(server, `/session/${id}/message`);
  const last = messages[messages.length - 1];
  const status = await getJson<Record<string, { type: string }>>(server, '/session/status');
  return last && last.info.role === 'assistant' && (last.info.time.completed || last.info.error) && (status[id]?.type ?? 'idle') === 'idle' ? true : undefined;
}

async function cli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runHistoryCommand(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), workerFile: WORKER });
  return { code, out, err };
}

const close = (a: number, b: number): boolean => Math.abs(a - b) < 1e-9;

describe('report and trace against a real OpenCode server', { timeout: 300_000 }, () => {
  if (!sqlite.sqlite) {
    it('needs node:sqlite', (t) => t.skip(`needs node:sqlite: ${sqlite.reason}`));
    return;
  }
  let lab: Lab;
  let server: LabServer;
  let db: string;
  const ids: Record<'delegating' | 'failing' | 'plain', string> = { delegating: '', failing: '', plain: '' };

  before(async () => {
    lab = await createLab({ permission: { bash: { '*': 'allow', 'rm *': 'deny' } } });
    const config = JSON.parse(fs.readFileSync(lab.configPath, 'utf8'));
    config.provider[PROVIDER_ID].models[MODEL_ID].cost = { input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 };
    fs.writeFileSync(lab.configPath, JSON.stringify(config, null, 2));
    server = await lab.startServer({ name: 'history' });
    db = path.join(lab.home, '.local', 'share', 'opencode', 'opencode.db');
    ids.delegating = await createSession(server);
    ids.failing = await createSession(server);
    ids.plain = await createSession(server);
    await promptAsync(server, ids.delegating, 'Lab history. scenario:todos+subagent[sleep 1+todos]+permission+todosdone');
    await promptAsync(server, ids.failing, 'Lab history. scenario:error400');
    await promptAsync(server, ids.plain, 'Lab history. scenario:hello');
    for (const id of Object.values(ids)) await waitFor(() => settled(server, id), 120_000, `session ${id} settled`, 250);
  });
  after(async () => {
    await lab?.stopAll();
  });

  it('trace: children, tokens, cost and tool states match the API', async () => {
    const { code, out, err } = await cli(['trace', ids.delegating, '--json', '--db', db]);
    assert.equal(code, 0, err);
    const trace = JSON.parse(out) as { schemaVersion: number; root: TraceNode; nodes: number };
    assert.equal(trace.schemaVersion, 1);
    const children = await getJson<{ id: string }[]>(server, `/session/${ids.delegating}/children`);
    assert.equal(children.length, 1);
    assert.deepEqual(trace.root.children.map((c) => c.id), children.map((c) => c.id));
    for (const node of [trace.root, trace.root.children[0]!]) {
      const api = await apiFigures(server, node.id);
      assert.ok(close(node.cost, api.cost), `${node.id} cost ${node.cost} vs API ${api.cost}`);
      assert.deepEqual(node.tokens, { input: api.input, output: api.output, reasoning: api.reasoning, cacheRead: api.cacheRead, cacheWrite: api.cacheWrite });
      assert.equal(node.messages, api.messages);
      assert.deepEqual(node.toolStates, api.toolStates);
    }
    assert.ok(trace.root.cost > 0, 'the lab model has a price');
    assert.equal(trace.root.toolStates.error, 1, 'the denied rm');
    assert.ok(trace.root.toolStates.completed! >= 3, 'todowrite ×2 and task');
    assert.equal(trace.root.children[0]!.agent, 'general');
    assert.ok(trace.root.children[0]!.durationMs >= 1000, 'the sub-agent slept 1 s');
    const text = await cli(['trace', ids.delegating, '--db', db]);
    assert.equal(text.code, 0);
    assert.match(text.out, /└─ general: /);
  });

  it('report: totals, by agent and tools match the API over every session', async () => {
    const { code, out, err } = await cli(['report', '--since', 'all', '--json', '--db', db]);
    assert.equal(code, 0, err);
    const report = JSON.parse(out);
    assert.equal(report.schemaVersion, 1);
    const sessions = await getJson<{ id: string; parentID?: string }[]>(server, '/session');
    const all = [...new Set([...sessions.map((s) => s.id), ...(await getJson<{ id: string }[]>(server, `/session/${ids.delegating}/children`)).map((c) => c.id)])];
    const sum: ApiFigures = { cost: 0, input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0, messages: 0, toolStates: {} };
    for (const id of all) {
      const f = await apiFigures(server, id);
      for (const k of ['cost', 'input', 'output', 'reasoning', 'cacheRead', 'cacheWrite', 'messages'] as const) sum[k] += f[k];
      for (const [s, n] of Object.entries(f.toolStates)) sum.toolStates[s] = (sum.toolStates[s] ?? 0) + n;
    }
    assert.equal(report.totals.sessions, all.length);
    assert.equal(report.totals.rootSessions, 3);
    assert.equal(report.totals.messages, sum.messages);
    assert.ok(close(report.totals.cost, sum.cost), `cost ${report.totals.cost} vs API ${sum.cost}`);
    assert.deepEqual(report.totals.tokens, { input: sum.input, output: sum.output, reasoning: sum.reasoning, cacheRead: sum.cacheRead, cacheWrite: sum.cacheWrite });
    const calls = report.tools.reduce((n: number, t: { calls: number }) => n + t.calls, 0);
    const errors = report.tools.reduce((n: number, t: { errors: number }) => n + t.errors, 0);
    assert.equal(calls, Object.values(sum.toolStates).reduce((a, b) => a + b, 0));
    assert.equal(errors, sum.toolStates.error ?? 0);
    assert.deepEqual(report.byAgent.map((g: { key: string }) => g.key).sort(), ['build', 'general']);
    assert.deepEqual(report.byModel.map((g: { key: string }) => g.key), [`${PROVIDER_ID}/${MODEL_ID}`]);
    assert.equal(report.sessions.total, 3);
    // The failed model call is in the history as an assistant message with an error.
    const failing = await apiFigures(server, ids.failing);
    assert.ok(failing.messages >= 2);
    const html = path.join(lab.root, 'report.html');
    const h = await cli(['report', '--since', '24h', '--html', html, '--db', db]);
    assert.equal(h.code, 0, h.err);
    assert.match(fs.readFileSync(html, 'utf8'), /Content-Security-Policy/);
  });
});
