/**
 * The floor under the daemon's RSS: Node started with the service's flags and the three runtime
 * packages (undici loaded as src/core/util/undici.ts loads it, zod jitless as zodMode.ts sets it,
 * eventsource-parser) doing the daemon's kind of work on the lab, with none of the monitor's code:
 * each server's event stream open and parsed, and every 30 s its lists and the messages and todos
 * of its sessions fetched and validated, the last answers kept. Bundled and minified like the
 * daemon (bench/run.ts) and measured in the same window.
 * usage: node rssFloor.js <server url> ...
 */
import '../src/core/util/zodMode';
import * as z from 'zod';
import { createParser } from 'eventsource-parser';
import { Client, Pool } from '../src/core/util/undici';

const ROUND_MS = 30_000;
const item = z.looseObject({ id: z.string() });
const list = z.array(item);
const anyList = z.array(z.looseObject({}));
const statusMap = z.record(z.string(), z.looseObject({ type: z.string() }));
const event = z.looseObject({ type: z.string(), properties: z.looseObject({}) });

const kept = new Map<string, unknown>();

async function getJson(pool: Pool, path: string): Promise<unknown> {
  const res = await pool.request({ method: 'GET', path, headers: { accept: 'application/json' } });
  return JSON.parse(await res.body.text()) as unknown;
}

async function round(url: string, pool: Pool): Promise<void> {
  const [sessions, status, permissions, questions] = await Promise.all([getJson(pool, '/session'), getJson(pool, '/session/status'), getJson(pool, '/permission'), getJson(pool, '/question')]);
  const ids = list.parse(sessions).map((s) => s.id);
  kept.set(`${url} lists`, [ids, statusMap.parse(status), list.parse(permissions), list.parse(questions)]);
  await Promise.all(
    ids.map(async (id) => {
      const [messages, todos] = await Promise.all([getJson(pool, `/session/${id}/message?limit=3`), getJson(pool, `/session/${id}/todo`)]);
      kept.set(`${url} ${id}`, [anyList.parse(messages), anyList.parse(todos)]);
    }),
  );
}

async function stream(url: string): Promise<void> {
  const client = new Client(url);
  const res = await client.request({ method: 'GET', path: '/event', headers: { accept: 'text/event-stream' } });
  const parser = createParser({
    onEvent: (message) => {
      const parsed = event.safeParse(JSON.parse(message.data));
      if (parsed.success) kept.set(`${url} last event`, parsed.data);
    },
  });
  const decoder = new TextDecoder();
  res.body.on('data', (chunk: Buffer) => parser.feed(decoder.decode(chunk, { stream: true })));
}

for (const url of process.argv.slice(2)) {
  const pool = new Pool(url);
  const tick = () => void round(url, pool).catch((error: unknown) => process.stderr.write(`rssFloor ${url}: ${String(error)}\n`));
  tick();
  setInterval(tick, ROUND_MS);
  void stream(url).catch((error: unknown) => process.stderr.write(`rssFloor ${url} /event: ${String(error)}\n`));
}
