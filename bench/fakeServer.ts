/**
 * A small OpenCode-compatible server (the V1 routes the monitor reads, with bodies shaped like
 * OpenCode 1.18.33's) for the scale and heap figures, where 50 real servers would need ~35 GB.
 * Run as a forked child, it hosts a fleet and answers `start`, `flood` and `stop` over IPC, so its
 * CPU never counts against the monitor's.
 */
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { serve } from './ipc';

export interface FleetOptions {
  servers: number;
  sessionsPerServer: number;
  /** Busy sessions per server (each with a running tool and todos); one of them waits on a permission, one on a question. */
  busyPerServer?: number;
}

export interface FakeServer {
  url: string;
  /** Pushes `count` events to every open /event stream; resolves once written. */
  flood(count: number): Promise<void>;
  close(): Promise<void>;
}

const VERSION = '1.18.33';
const DIR = '/home/dev/lab/projects/fleet';
const TODOS = [
  { content: 'Read the existing code', status: 'completed', priority: 'high' },
  { content: 'Implement the fake feature', status: 'in_progress', priority: 'high' },
  { content: 'Write tests for the fake feature', status: 'pending', priority: 'medium' },
  { content: 'Update documentation', status: 'pending', priority: 'low' },
];

function sessionInfo(id: string, i: number, now: number) {
  return {
    id,
    slug: `fleet-${i}`,
    projectID: '1be6d5728d4e6e6ae806140193f2aeaef5565c38',
    directory: DIR,
    path: '',
    summary: { additions: 0, deletions: 0, files: 0 },
    cost: 0.0123 * i,
    tokens: { input: 1200 * i, output: 42 * i, reasoning: 0, cache: { read: 0, write: 0 } },
    title: `Fleet session ${i}`,
    agent: 'build',
    model: { id: 'fake-model', providerID: 'lab', variant: 'default' },
    version: VERSION,
    time: { created: now - 3_600_000 + i * 1000, updated: now - i * 60_000 },
  };
}

function messages(sessionID: string, busy: boolean, now: number) {
  const user = {
    info: { id: `msg_u_${sessionID}`, sessionID, role: 'user', time: { created: now - 5000 }, agent: 'build', model: { providerID: 'lab', modelID: 'fake-model' } },
    parts: [{ id: `prt_u_${sessionID}`, sessionID, messageID: `msg_u_${sessionID}`, type: 'text', text: 'scenario:todos+sleep 600' }],
  };
  const messageID = `msg_a_${sessionID}`;
  const assistant = {
    info: {
      id: messageID,
      sessionID,
      role: 'assistant',
      time: busy ? { created: now - 4000 } : { created: now - 4000, completed: now - 3000 },
      parentID: user.info.id,
      modelID: 'fake-model',
      providerID: 'lab',
      mode: 'build',
      agent: 'build',
      path: { cwd: DIR, root: DIR },
      cost: 0,
      tokens: { input: 1200, output: 42, reasoning: 0, cache: { read: 0, write: 0 } },
    },
    parts: [
      { id: `prt_s_${sessionID}`, sessionID, messageID, type: 'step-start' },
      { id: `prt_t_${sessionID}`, sessionID, messageID, type: 'text', text: 'Sleeping 600 seconds. ', time: { start: now - 3900, end: now - 3900 } },
      {
        id: `prt_b_${sessionID}`,
        sessionID,
        messageID,
        type: 'tool',
        callID: `call_bash_${sessionID}`,
        tool: 'bash',
        state: busy
          ? { status: 'running', input: { command: 'sleep 600', description: 'Sleep for 600 seconds' }, title: 'Sleep for 600 seconds', metadata: { output: '', description: 'Sleep for 600 seconds' }, time: { start: now - 3800 } }
          : { status: 'completed', input: { command: 'sleep 1' }, output: '', title: 'sleep', metadata: {}, time: { start: now - 3800, end: now - 3000 } },
      },
    ],
  };
  return [user, assistant];
}

interface Routes {
  [path: string]: Buffer;
}

export async function startFakeServer(index: number, options: FleetOptions): Promise<FakeServer> {
  const now = Date.now();
  const n = options.sessionsPerServer;
  const busyCount = Math.min(n, options.busyPerServer ?? 7);
  const ids = Array.from({ length: n }, (_, i) => `ses_f${String(index).padStart(3, '0')}_${String(i).padStart(3, '0')}`);
  const busy = ids.slice(0, busyCount);
  const routes: Routes = {};
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  routes['/global/health'] = json({ healthy: true, version: VERSION });
  routes['/path'] = json({ home: '/home/dev', directory: DIR, worktree: DIR });
  routes['/api/session/active'] = json({ data: {} });
  routes['/session'] = json(ids.map((id, i) => sessionInfo(id, i, now)));
  routes['/session/status'] = json(Object.fromEntries(busy.map((id) => [id, { type: 'busy' }])));
  const permissionFor = busy[busyCount - 2];
  const questionFor = busy[busyCount - 1];
  routes['/permission'] = json(
    permissionFor
      ? [{ id: `per_${permissionFor}`, sessionID: permissionFor, permission: 'bash', patterns: ['rm -f lab-permission-probe.txt'], metadata: { command: 'rm -f lab-permission-probe.txt' }, always: ['rm *'], tool: { messageID: `msg_a_${permissionFor}`, callID: `call_bash_${permissionFor}` } }]
      : [],
  );
  routes['/question'] = json(
    questionFor
      ? [{ id: `que_${questionFor}`, sessionID: questionFor, questions: [{ question: 'Which database should the lab use?', header: 'Database', options: [{ label: 'SQLite', description: 'Embedded' }, { label: 'Postgres', description: 'Server based' }] }], tool: { messageID: `msg_a_${questionFor}`, callID: `call_q_${questionFor}` } }]
      : [],
  );
  for (const id of ids) {
    const isBusy = busy.includes(id);
    routes[`/session/${id}/todo`] = json(isBusy ? TODOS : []);
    routes[`/session/${id}/message`] = json(messages(id, isBusy, now));
    routes[`/session/${id}/children`] = json([]);
  }
  const notFound = json({ name: 'NotFoundError', data: { message: 'not found' } });

  const streams = new Set<http.ServerResponse>();
  const sockets = new Set<Socket>();
  let eventSerial = 0;
  const eventLine = (type: string, properties: unknown) => `data: ${JSON.stringify({ id: `evt_${index}_${++eventSerial}`, type, properties })}\n\n`;

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (req.method === 'GET' && path === '/event') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.write(eventLine('server.connected', {}));
      streams.add(res);
      const heartbeat = setInterval(() => res.write(eventLine('server.heartbeat', {})), 10_000);
      res.on('close', () => {
        clearInterval(heartbeat);
        streams.delete(res);
      });
      return;
    }
    const body = req.method === 'GET' ? routes[path] : undefined;
    res.writeHead(body ? 200 : 404, { 'content-type': 'application/json', 'content-length': (body ?? notFound).length });
    res.end(body ?? notFound);
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  /** A cycle of events that leaves the model as it found it: busy → tool → todos → permission/question → done → idle. */
  function* events(count: number): Generator<string> {
    let k = 0;
    for (let i = 0; i < count; ) {
      const sessionID = ids[k % ids.length]!;
      const messageID = `msg_flood_${k}`;
      const part = (status: string) => ({
        id: `prt_flood_${k}`,
        sessionID,
        messageID,
        type: 'tool',
        callID: `call_flood_${k}`,
        tool: 'bash',
        state: status === 'running' ? { status, input: { command: `echo ${k}` }, time: { start: Date.now() } } : { status, input: { command: `echo ${k}` }, output: '', time: { start: Date.now(), end: Date.now() } },
      });
      const cycle = [
        eventLine('session.status', { sessionID, status: { type: 'busy' } }),
        eventLine('message.part.updated', { sessionID, part: part('running'), time: Date.now() }),
        eventLine('message.part.delta', { sessionID, messageID, partID: `prt_text_${k}`, field: 'text', delta: 'Streaming chunk. ' }),
        eventLine('todo.updated', { sessionID, todos: TODOS.map((t, j) => ({ ...t, status: j <= k % 4 ? 'completed' : t.status })) }),
        eventLine('permission.asked', { id: `per_flood_${k}`, sessionID, permission: 'bash', patterns: ['rm x'], metadata: { command: 'rm x' }, always: [], tool: { messageID, callID: `call_flood_${k}` } }),
        eventLine('permission.replied', { sessionID, requestID: `per_flood_${k}`, reply: 'once' }),
        eventLine('question.asked', { id: `que_flood_${k}`, sessionID, questions: [{ question: 'Which?', options: [{ label: 'A' }, { label: 'B' }] }], tool: { messageID, callID: `call_q_${k}` } }),
        eventLine('question.replied', { sessionID, requestID: `que_flood_${k}`, answers: [['A']] }),
        eventLine('message.part.updated', { sessionID, part: part('completed'), time: Date.now() }),
        eventLine('session.updated', { sessionID, info: { ...sessionInfo(sessionID, k % ids.length, now), time: { created: now, updated: Date.now() } } }),
        eventLine('session.idle', { sessionID }),
      ];
      for (const line of cycle) {
        if (i++ >= count) return;
        yield line;
      }
      k++;
    }
  }

  async function flood(count: number): Promise<void> {
    const targets = [...streams];
    let batch = '';
    let inBatch = 0;
    const write = async (text: string) => {
      const waits: Promise<void>[] = [];
      for (const res of targets) {
        if (!res.write(text)) waits.push(new Promise<void>((resolve) => res.once('drain', resolve)));
      }
      await Promise.all(waits);
    };
    for (const line of events(count)) {
      batch += line;
      if (++inBatch >= 200) {
        await write(batch);
        batch = '';
        inBatch = 0;
      }
    }
    if (batch) await write(batch);
  }

  return {
    url,
    flood,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of streams) res.destroy();
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export async function startFleet(options: FleetOptions): Promise<FakeServer[]> {
  return Promise.all(Array.from({ length: options.servers }, (_, i) => startFakeServer(i, options)));
}

if (require.main === module) {
  let fleet: FakeServer[] = [];
  serve({
    start: async (options: FleetOptions) => {
      fleet = await startFleet(options);
      return fleet.map((s) => s.url);
    },
    flood: async ({ index, count }: { index: number; count: number }) => {
      const started = performance.now();
      await fleet[index]!.flood(count);
      return { ms: performance.now() - started };
    },
    stop: async () => {
      await Promise.all(fleet.map((s) => s.close()));
      fleet = [];
      setImmediate(() => process.exit(0));
    },
  });
}
