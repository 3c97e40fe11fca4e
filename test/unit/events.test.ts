import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { decodeEventData } from '../../src/core/opencode/events';
import type { KnownEventType, OpencodeEvent } from '../../src/core/opencode/events';
import { sseDataLines, sseSampleFiles } from './support/localServer';

// A Record keyed by the union makes the compiler flag a type missing from this list.
const KNOWN: Record<KnownEventType, true> = {
  'server.connected': true,
  'server.heartbeat': true,
  'session.status': true,
  'session.idle': true,
  'session.created': true,
  'session.updated': true,
  'session.deleted': true,
  'session.error': true,
  'message.updated': true,
  'message.removed': true,
  'message.part.updated': true,
  'message.part.removed': true,
  'message.part.delta': true,
  'todo.updated': true,
  'permission.asked': true,
  'permission.replied': true,
  'question.asked': true,
  'question.replied': true,
  'question.rejected': true,
};
const isKnown = (type: string): type is KnownEventType => Object.hasOwn(KNOWN, type);

function decodeEvent(data: string): OpencodeEvent {
  const decoded = decodeEventData(data);
  assert.equal(decoded.kind, 'event', JSON.stringify(decoded));
  if (decoded.kind !== 'event') throw new Error('unreachable');
  return decoded.event;
}

interface RawEnvelope {
  directory?: string;
  payload?: { id?: string; type: string; properties?: unknown };
  id?: string;
  type?: string;
}

for (const { name, file } of sseSampleFiles()) {
  test(`every data line of ${name} decodes`, () => {
    const lines = sseDataLines(fs.readFileSync(file, 'utf8'));
    assert.ok(lines.length > 0);
    const global = name.startsWith('global-');
    const seen = new Set<string>();
    for (const line of lines) {
      const raw = JSON.parse(line) as RawEnvelope;
      const inner = global ? raw.payload : (raw as RawEnvelope['payload']);
      assert.ok(inner, `global envelope without payload: ${line.slice(0, 100)}`);
      const decoded = decodeEventData(line);
      assert.notEqual(decoded.kind, 'error', `${line.slice(0, 160)} → ${JSON.stringify(decoded)}`);
      if (inner.type === 'sync') {
        assert.equal(decoded.kind, 'ignored');
        continue;
      }
      assert.equal(decoded.kind, 'event');
      if (decoded.kind !== 'event') continue;
      const event = decoded.event;
      seen.add(inner.type);
      assert.equal(decoded.cleaned, 0);
      if (isKnown(inner.type)) {
        assert.equal(event.type, inner.type, `${inner.type} became unknown: ${event.type === 'unknown' ? event.invalid : ''}`);
      } else {
        assert.equal(event.type, 'unknown');
        if (event.type === 'unknown') {
          assert.equal(event.originalType, inner.type);
          assert.equal(event.invalid, undefined);
          assert.deepEqual(event.properties, inner.properties);
        }
      }
      assert.equal(event.id, inner.id);
      assert.equal(event.directory, global ? raw.directory : undefined);
    }
    assert.ok(seen.has('server.connected'), 'every capture starts with server.connected');
  });
}

test('the samples cover the event types the monitor depends on', () => {
  const types = new Set<string>();
  for (const { file } of sseSampleFiles()) {
    for (const line of sseDataLines(fs.readFileSync(file, 'utf8'))) {
      const decoded = decodeEventData(line);
      if (decoded.kind === 'event') types.add(decoded.event.type);
    }
  }
  for (const type of ['server.connected', 'server.heartbeat', 'session.status', 'session.idle', 'session.updated', 'message.part.updated', 'message.part.delta', 'todo.updated', 'permission.asked', 'question.asked', 'session.error']) {
    assert.ok(types.has(type), `no ${type} decoded from the samples`);
  }
});

test('typed properties of sample events are usable', () => {
  const events = sseSampleFiles().flatMap(({ file }) =>
    sseDataLines(fs.readFileSync(file, 'utf8')).flatMap((line) => {
      const decoded = decodeEventData(line);
      return decoded.kind === 'event' ? [decoded.event] : [];
    }),
  );
  const status = events.find((e) => e.type === 'session.status');
  assert.ok(status?.type === 'session.status');
  assert.match(status.properties.sessionID, /^ses_/);
  assert.ok(['busy', 'idle', 'retry'].includes(status.properties.status.type));
  const permission = events.find((e) => e.type === 'permission.asked');
  assert.ok(permission?.type === 'permission.asked');
  assert.match(permission.properties.id, /^per_/);
  assert.equal(typeof permission.properties.metadata['command'], 'string');
  const todos = events.find((e) => e.type === 'todo.updated');
  assert.ok(todos?.type === 'todo.updated');
  assert.ok(todos.properties.todos.length > 0);
  const question = events.find((e) => e.type === 'question.asked');
  assert.ok(question?.type === 'question.asked');
  assert.ok((question.properties.questions[0]?.options.length ?? 0) > 0);
});

test('an unknown type passes through', () => {
  const event = decodeEvent('{"id":"evt_1","type":"brand.new","properties":{"x":1}}');
  assert.deepEqual(event, { type: 'unknown', originalType: 'brand.new', properties: { x: 1 }, id: 'evt_1' });
});

test('a known type of the wrong shape becomes unknown with the reason', () => {
  const event = decodeEvent('{"type":"session.status","properties":{"sessionID":42,"status":{"type":"busy"}}}');
  assert.equal(event.type, 'unknown');
  if (event.type !== 'unknown') return;
  assert.equal(event.originalType, 'session.status');
  assert.match(event.invalid ?? '', /sessionID/);
  assert.deepEqual(event.properties, { sessionID: 42, status: { type: 'busy' } });

  const missing = decodeEvent('{"type":"todo.updated"}');
  assert.equal(missing.type, 'unknown');
  assert.ok(missing.type === 'unknown' && missing.invalid);
});

test('unknown fields and new status types are kept', () => {
  const event = decodeEvent('{"type":"session.status","properties":{"sessionID":"ses_1","status":{"type":"paused","until":5},"extra":true}}');
  assert.equal(event.type, 'session.status');
  assert.deepEqual(event.properties, { sessionID: 'ses_1', status: { type: 'paused', until: 5 }, extra: true });
});

test('global envelopes: directory is carried, sync records are ignored', () => {
  const wrapped = decodeEvent('{"directory":"/p/a","project":"abc","payload":{"id":"evt_2","type":"session.idle","properties":{"sessionID":"ses_1"}}}');
  assert.deepEqual(wrapped, { type: 'session.idle', properties: { sessionID: 'ses_1' }, id: 'evt_2', directory: '/p/a' });
  const noDirectory = decodeEvent('{"payload":{"type":"server.connected","properties":{}}}');
  assert.deepEqual(noDirectory, { type: 'server.connected', properties: {} });
  assert.equal(decodeEventData('{"directory":"/p","payload":{"type":"sync","syncEvent":{}}}').kind, 'ignored');
});

test('server.connected without properties is accepted', () => {
  assert.deepEqual(decodeEvent('{"type":"server.heartbeat"}'), { type: 'server.heartbeat', properties: {} });
});

test('control characters in an event are cleaned and counted', () => {
  const decoded = decodeEventData('{"type":"message.part.delta","properties":{"sessionID":"s","messageID":"m","partID":"p","field":"text","delta":"\u001b[1mbold\u0000"}}');
  assert.equal(decoded.kind, 'event');
  if (decoded.kind !== 'event') return;
  assert.equal(decoded.cleaned, 2);
  assert.ok(decoded.event.type === 'message.part.delta');
  assert.equal(decoded.event.properties.delta, '\u001b[1mbold\u0000');
});

test('not JSON, or no type → error', () => {
  for (const data of ['', 'hello', '{"type":', '{"properties":{}}', '[1,2]', '42', '{"payload":5}', '{"type":7}']) {
    const decoded = decodeEventData(data);
    assert.equal(decoded.kind, 'error', `${JSON.stringify(data)} → ${JSON.stringify(decoded)}`);
  }
});
