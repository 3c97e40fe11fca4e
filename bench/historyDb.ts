/**
 * Builds a realistic OpenCode 1.18.33 `opencode.db` for the history bench: the real schema
 * (test/fixtures/db/opencode-1.18.33.schema.sql), 2 000 sessions (a third of the roots delegate to
 * sub-agents, some two levels deep), 50 000 messages, 500 000 parts, 90 days, tool errors (~6 %).
 * Row JSON has the shapes the real server writes (see test/fixtures/samples/opencode-1.18.33/).
 * Deterministic (seeded). Needs node:sqlite (Node ≥ 22.13).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { SqliteDatabase, SqliteModule } from '../src/core/db/sqlite';
import { seededRandom } from '../test/unit/support/localServer';

export interface HistoryDbSize {
  sessions: number;
  messages: number;
  parts: number;
  days: number;
}

export const BENCH_SIZE: HistoryDbSize = { sessions: 2000, messages: 50_000, parts: 500_000, days: 90 };

const ROOT = path.resolve(__dirname, '../..');
const SCHEMA = path.join(ROOT, 'test/fixtures/db/opencode-1.18.33.schema.sql');
const MODELS = [
  ['anthropic', 'claude-sonnet-4-5', 3, 15],
  ['anthropic', 'claude-opus-4-1', 15, 75],
  ['openai', 'gpt-5', 1.25, 10],
  ['openrouter', 'qwen3-coder', 0.2, 0.8],
] as const;
const AGENTS = ['build', 'plan', 'build', 'build'];
const SUB_AGENTS = ['general', 'explore', 'reviewer'];
const TOOLS = ['read', 'read', 'read', 'edit', 'bash', 'bash', 'grep', 'glob', 'write', 'todowrite', 'webfetch', 'list'];
const WORDS = 'the a function test file error build change update module import value return config server session cache token'.split(' ');

export function generateHistoryDb(sqlite: SqliteModule, file: string, size: HistoryDbSize = BENCH_SIZE, now = Date.now()): void {
  for (const f of [file, `${file}-wal`, `${file}-shm`]) fs.rmSync(f, { force: true });
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Built beside and renamed at the end: an interrupted run leaves no half-built DB behind.
  const tmp = `${file}.building`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) fs.rmSync(f, { force: true });
  const db = new sqlite.DatabaseSync(tmp);
  const w = db as unknown as Writable;
  const rand = seededRandom(14);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const words = (n: number): string => Array.from({ length: n }, () => pick(WORDS)).join(' ');
  try {
    // Sessions are written after their messages (their totals are summed on the way).
    db.exec('PRAGMA foreign_keys = OFF');
    db.exec('PRAGMA journal_mode = WAL');
    db.exec(fs.readFileSync(SCHEMA, 'utf8').replace(/^--.*$/gm, ''));
    db.exec("INSERT INTO migration (id, time_completed) VALUES ('20260622202450_simplify_session_input', 0)");
    db.exec('BEGIN');
    const projects = Array.from({ length: 12 }, (_, i) => ({ id: `prj${i.toString(16).padStart(38, '0')}`, dir: `/home/dev/src/project-${i}` }));
    const insProject = w.prepare('INSERT INTO project (id, worktree, vcs, time_created, time_updated, sandboxes) VALUES (?, ?, ?, ?, ?, ?)');
    for (const p of projects) insProject.run(p.id, p.dir, 'git', now - size.days * 86_400_000, now, '[]');
    const insSession = w.prepare(`INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, agent, model, time_created, time_updated,
      cost, tokens_input, tokens_output, tokens_reasoning, tokens_cache_read, tokens_cache_write) VALUES (?, ?, ?, ?, ?, ?, '1.18.33', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    const insMessage = w.prepare('INSERT INTO message (id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?)');
    const insPart = w.prepare('INSERT INTO part (id, message_id, session_id, time_created, time_updated, data) VALUES (?, ?, ?, ?, ?, ?)');

    // Session plan: roots first, then children attached to earlier sessions (depth ≤ 2).
    interface Plan { id: string; parent?: Plan; depth: number; project: (typeof projects)[number]; start: number; agent: string; model: (typeof MODELS)[number] }
    const plans: Plan[] = [];
    const roots = Math.round(size.sessions * 0.7);
    for (let i = 0; i < size.sessions; i++) {
      let parent: Plan | undefined;
      if (i >= roots) {
        do parent = plans[Math.floor(rand() * plans.length)]!;
        while (parent.depth >= 2);
      }
      const start = parent ? parent.start + Math.floor(rand() * 600_000) : now - Math.floor(rand() * size.days * 86_400_000);
      plans.push({
        id: `ses_${start.toString(16)}${i.toString(36).padStart(6, '0')}`,
        parent,
        depth: parent ? parent.depth + 1 : 0,
        project: parent?.project ?? pick(projects),
        start,
        agent: parent ? pick(SUB_AGENTS) : pick(AGENTS),
        model: parent?.model ?? pick(MODELS),
      });
    }
    const totalPairs = Math.floor(size.messages / 2);
    const assistantParts = Math.round((size.parts - size.messages / 2) / (size.messages / 2));
    let msgSeq = 0;
    let partSeq = 0;
    for (const [index, s] of plans.entries()) {
      const totals = { cost: 0, ti: 0, tout: 0, tr: 0, tcr: 0, tcw: 0 };
      let t = s.start;
      // Spread the user/assistant pairs so the totals come out exact.
      const pairs = Math.floor((totalPairs * (index + 1)) / plans.length) - Math.floor((totalPairs * index) / plans.length);
      for (let k = 0; k < pairs; k++) {
        const userId = `msg_${t.toString(16)}${(msgSeq++).toString(36).padStart(7, '0')}`;
        const userData = { role: 'user', time: { created: t }, agent: s.agent, model: { providerID: s.model[0], modelID: s.model[1] } };
        insMessage.run(userId, s.id, t, t + 3, JSON.stringify(userData));
        insPart.run(`prt_${t.toString(16)}${(partSeq++).toString(36).padStart(8, '0')}`, userId, s.id, t, t + 1, JSON.stringify({ type: 'text', text: words(20 + Math.floor(rand() * 60)) }));
        t += 500;
        const aStart = t;
        const assistantId = `msg_${t.toString(16)}${(msgSeq++).toString(36).padStart(7, '0')}`;
        const partRows: [string, number, number, string][] = [];
        for (let p = 0; p < assistantParts; p++) {
          const kind = p % 10;
          const id = `prt_${t.toString(16)}${(partSeq++).toString(36).padStart(8, '0')}`;
          if (kind === 0) partRows.push([id, t, t, JSON.stringify({ type: 'step-start' })]);
          else if (kind === 1) partRows.push([id, t, t + 400, JSON.stringify({ type: 'reasoning', text: words(30), time: { start: t, end: t + 400 } })]);
          else if (kind === 2) partRows.push([id, t, t + 300, JSON.stringify({ type: 'text', text: words(40 + Math.floor(rand() * 80)), time: { start: t, end: t + 300 } })]);
          else if (kind === 9) partRows.push([id, t, t + 1, JSON.stringify({ type: 'step-finish', reason: 'tool-calls', tokens: { input: 0, output: 0, reasoning: 0, cache: { read: 0, write: 0 } }, cost: 0 })]);
          else {
            const tool = pick(TOOLS);
            const dur = Math.floor(20 + rand() * (tool === 'bash' ? 8000 : 400));
            const failed = rand() < 0.06;
            const filePath = `${s.project.dir}/src/${pick(WORDS)}/${pick(WORDS)}.ts`;
            const input = tool === 'bash' ? { command: `npm test -- ${pick(WORDS)}`, description: words(5) } : { filePath };
            const state = failed
              ? { status: 'error', input, error: `Error: ${words(8)}`, time: { start: t, end: t + dur } }
              : { status: 'completed', input, output: words(60 + Math.floor(rand() * 160)), title: words(4), metadata: {}, time: { start: t, end: t + dur } };
            partRows.push([id, t, t + dur, JSON.stringify({ type: 'tool', tool, callID: `call_${tool}_${partSeq}`, state })]);
            t += dur;
          }
          t += 50;
        }
        if (s.parent === undefined && k === 0) {
          // A root's first turn delegates to each of its children (the task tool's shape).
          for (const child of plans.filter((c) => c.parent === s)) {
            partRows.push([`prt_${t.toString(16)}${(partSeq++).toString(36).padStart(8, '0')}`, t, t + 60_000, JSON.stringify({
              type: 'tool', tool: 'task', callID: `call_task_${partSeq}`,
              state: { status: 'completed', title: 'Sub-agent work', input: { description: 'Sub-agent work', prompt: words(10), subagent_type: child.agent }, output: words(30), metadata: { parentSessionId: s.id, sessionId: child.id }, time: { start: t, end: t + 60_000 } },
            })]);
            partRows.splice(3, 1); // keeps the part count on target
          }
        }
        const ti = Math.floor(2000 + rand() * 30_000);
        const tcr = Math.floor(rand() * ti * 3);
        const tcw = Math.floor(rand() * 2000);
        const tout = Math.floor(100 + rand() * 3000);
        const tr = rand() < 0.3 ? Math.floor(rand() * 1500) : 0;
        const cost = Math.round(((ti * s.model[2] + (tout + tr) * s.model[3] + tcr * s.model[2] * 0.1 + tcw * s.model[2] * 1.25) / 1e6) * 1e6) / 1e6;
        Object.assign(totals, { cost: totals.cost + cost, ti: totals.ti + ti, tout: totals.tout + tout, tr: totals.tr + tr, tcr: totals.tcr + tcr, tcw: totals.tcw + tcw });
        const error = rand() < 0.01 ? { name: 'APIError', data: { message: 'Internal server error', statusCode: 500, isRetryable: true } } : undefined;
        const assistant = {
          parentID: userId, role: 'assistant', mode: s.agent, agent: s.agent,
          path: { cwd: s.project.dir, root: s.project.dir }, cost,
          tokens: { total: ti + tout + tr + tcr + tcw, input: ti, output: tout, reasoning: tr, cache: { write: tcw, read: tcr } },
          modelID: s.model[1], providerID: s.model[0], time: { created: aStart, completed: t }, finish: error ? undefined : 'stop', ...(error ? { error } : {}),
        };
        insMessage.run(assistantId, s.id, aStart, t, JSON.stringify(assistant));
        for (const [id, created, updated, data] of partRows) insPart.run(id, assistantId, s.id, created, updated, data);
        t += 5_000 + Math.floor(rand() * 60_000);
      }
      const title = s.parent ? `${words(3)} (@${s.agent} subagent)` : words(4 + Math.floor(rand() * 5));
      insSession.run(s.id, s.project.id, s.parent?.id ?? null, `slug-${index}`, s.project.dir, title, s.agent,
        JSON.stringify({ id: s.model[1], providerID: s.model[0], variant: 'default' }), s.start, t, totals.cost, totals.ti, totals.tout, totals.tr, totals.tcr, totals.tcw);
    }
    db.exec('COMMIT');
  } catch (error) {
    db.close();
    throw error;
  }
  close(db);
  fs.renameSync(tmp, file);
}

function close(db: SqliteDatabase): void {
  try {
    db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

interface Writable {
  prepare(sql: string): { run(...params: (string | number | null)[]): unknown };
}
