/**
 * Property-based tests of every parser that reads what another program wrote: OpenCode's bodies
 * and events, /proc and ps/lsof/netstat/tasklist text, tmux and iTerm answers, lock files. Random,
 * malformed and hostile input must come back as a value or a typed "no", never as an exception.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { classifyArgs, expectsPort, isOpencodeExecutable, isOpencodeProcessName, urlForListener } from '../../src/core/discovery/classify';
import { parseLsofCwd, parseLsofListen, parsePsEnv, parsePsOutput, splitPsCommand } from '../../src/core/discovery/darwinScanner';
import { decodeHexAddress, decodeTtyNr, listenSockets, parseCmdline, parseEnviron, parseProcNetTcp, socketInode } from '../../src/core/discovery/procParsers';
import { parseProcStat } from '../../src/core/os/procStat';
import { parseCimProcessJson, parseCsvLine, parseNetstatListening, parseTasklistCsv, splitWindowsCommandLine } from '../../src/core/discovery/windowsScanner';
import { legacyDaemonPid } from '../../src/core/legacy/legacyWriter';
import { readLockFile, readWriterLock } from '../../src/core/os/lockFile';
import { summarizeTodos } from '../../src/core/model/todos';
import { InstanceState } from '../../src/core/monitor/instanceState';
import { toolArg } from '../../src/core/model/toolArg';
import { decodeEventData } from '../../src/core/opencode/events';
import type { OpencodeEvent } from '../../src/core/opencode/events';
import { parseEndpointUrl, redactUrl } from '../../src/core/opencode/http';
import { OpencodeError } from '../../src/core/opencode/errors';
import { cleanControlCharacters, parseJsonText } from '../../src/core/opencode/jsonText';
import * as schemas from '../../src/core/opencode/schemas';
import { parseItermResult } from '../../src/core/platform/iterm';
import { parsePsPpid, ppidFromProcStat } from '../../src/core/platform/processTree';
import { parseTmuxPanes } from '../../src/core/platform/tmux';
import { fcParams } from './support/guards';

/** Text as other programs write it: printable, control characters, separators, unicode, long runs. */
const hostileText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('\0', '\n', '\r', '\t', '\u001b', ' ', ':', '"', '\\', '{', '}', '[', ']', ',', '=', '(', ')', '0', '1', 'f', 'x', '\u00e9', '\ud83d\ude00'), maxLength: 300 }),
  fc.tuple(fc.json(), fc.nat()).map(([j, n]) => j.slice(0, n % (j.length + 1))),
);

/** Any JSON-ish value, including the shapes OpenCode sends with wrong types inside. */
const anyValue = fc.oneof(fc.anything({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }));

/** Objects shaped like OpenCode's, with each field possibly of the wrong type. */
const wrongTyped = fc.record(
  {
    id: anyValue,
    sessionID: anyValue,
    type: anyValue,
    title: anyValue,
    status: anyValue,
    time: anyValue,
    tokens: anyValue,
    info: anyValue,
    part: anyValue,
    todos: anyValue,
    questions: anyValue,
    patterns: anyValue,
    metadata: anyValue,
  },
  { requiredKeys: [] },
);

function neverThrows<T>(name: string, fn: (input: T) => unknown, arb: fc.Arbitrary<T>, runs = 300): void {
  test(`${name} never throws`, () => {
    fc.assert(
      fc.property(arb, (input) => {
        fn(input);
      }),
      fcParams(runs),
    );
  });
}

describe('JSON text', () => {
  test('parseJsonText: ok with a value, or an error string; never throws', () => {
    fc.assert(
      fc.property(hostileText, (text) => {
        const r = parseJsonText(text);
        if (r.ok) assert.ok(r.cleaned >= 0);
        else assert.equal(typeof r.error, 'string');
      }),
      fcParams(1000),
    );
  });

  test('raw control characters inside strings are kept losslessly', () => {
    const withControls = fc.string({ unit: fc.oneof(fc.constantFrom('\u0000', '\u0001', '\u001b', '\n', '\r', '\t', '\u001f'), fc.string({ minLength: 1, maxLength: 1 })), maxLength: 40 });
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }).filter((k) => !/[\u0000-\u001f"\\]/.test(k) && k !== '__proto__'), withControls, { maxKeys: 5 }), (object) => {
        // What a tool leaking raw bytes into OpenCode's body looks like: escapes only for " and \.
        const raw = '{' + Object.entries(object).map(([k, v]) => `"${k}":"${v.replace(/[\\"]/g, (c) => '\\' + c)}"`).join(',') + '}';
        const r = parseJsonText(raw);
        assert.ok(r.ok, `not parsed: ${JSON.stringify(raw)}`);
        assert.deepEqual(r.value, { ...object });
      }),
      fcParams(500),
    );
  });

  test('valid JSON is never changed by cleaning', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = JSON.stringify(value);
        assert.deepEqual(cleanControlCharacters(text), { text, cleaned: 0 });
        const r = parseJsonText(text);
        assert.ok(r.ok);
        assert.deepEqual(r.value, JSON.parse(text));
      }),
      fcParams(500),
    );
  });
});

describe('event messages', () => {
  const known = [
    'server.connected', 'server.heartbeat', 'session.status', 'session.idle', 'session.created', 'session.updated', 'session.deleted',
    'session.error', 'message.updated', 'message.removed', 'message.part.updated', 'message.part.removed', 'message.part.delta',
    'todo.updated', 'permission.asked', 'permission.replied', 'question.asked', 'question.replied', 'question.rejected', 'sync',
  ];
  // Object.prototype member names are checked apart (below): a known bug would mask the rest.
  const prototypeNames = new Set(Object.getOwnPropertyNames(Object.prototype));
  const typeName = fc.oneof(fc.constantFrom(...known), anyValue).filter((t) => typeof t !== 'string' || !prototypeNames.has(t));
  const envelope = fc.record(
    { id: anyValue, type: typeName, properties: fc.oneof(wrongTyped, anyValue) },
    { requiredKeys: [] },
  );
  const data = fc.oneof(
    hostileText,
    envelope.map((e) => JSON.stringify(e) ?? 'null'),
    envelope.map((e) => JSON.stringify({ directory: '/x', payload: e }) ?? 'null'),
  );

  test('decodeEventData: an event, ignored or an error string; never throws', () => {
    fc.assert(
      fc.property(data, (text) => {
        const r = decodeEventData(text);
        assert.ok(['event', 'ignored', 'error'].includes(r.kind));
        if (r.kind === 'error') assert.equal(typeof r.error, 'string');
        if (r.kind === 'event' && r.event.type !== 'unknown') assert.ok(known.includes(r.event.type));
      }),
      fcParams(1500),
    );
  });

  test(
    'an event type named like an Object.prototype member decodes as unknown',
    () => {
      for (const type of Object.getOwnPropertyNames(Object.prototype)) {
        const r = decodeEventData(JSON.stringify({ id: 'evt_1', type, properties: {} }));
        assert.equal(r.kind, 'event', type);
      }
    },
  );

  test('whatever decodes, the live state applies without throwing and stays consistent', () => {
    fc.assert(
      fc.property(fc.array(data, { maxLength: 40 }), (texts) => {
        const state = new InstanceState(() => 1_000);
        for (const text of texts) {
          const r = decodeEventData(text);
          if (r.kind !== 'event') continue;
          const changed = state.apply(r.event as OpencodeEvent);
          for (const id of changed) assert.equal(typeof id, 'string');
        }
        for (const id of state.sessionIds) state.toModel(id, 'pid:1', { heuristicThresholdMs: 5_000, hasPermissionApi: false });
      }),
      fcParams(400),
    );
  });
});

describe('wire schemas', () => {
  const all = Object.entries(schemas).filter(([, v]) => typeof (v as { safeParse?: unknown })?.safeParse === 'function') as Array<[string, { safeParse(v: unknown): { success: boolean } }]>;
  test(`every schema (${all.length}) answers safeParse on anything`, () => {
    assert.ok(all.length >= 15, `found ${all.length} schemas`);
    fc.assert(
      fc.property(fc.oneof(anyValue, wrongTyped), (value) => {
        for (const [, schema] of all) assert.equal(typeof schema.safeParse(value).success, 'boolean');
      }),
      fcParams(500),
    );
  });

  test('summarizeTodos and toolArg take whatever the schemas let through', () => {
    fc.assert(
      fc.property(fc.array(wrongTyped, { maxLength: 10 }), fc.string(), fc.oneof(anyValue, wrongTyped), (todos, tool, input) => {
        const parsed = todos.map((t) => schemas.todoSchema.safeParse(t)).flatMap((r) => (r.success ? [r.data] : []));
        const summary = summarizeTodos(parsed);
        assert.equal(summary.total, parsed.length);
        const arg = toolArg(tool, typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : undefined);
        assert.equal(typeof arg, 'string');
      }),
      fcParams(500),
    );
  });
});

describe('endpoint URLs', () => {
  const credential = fc.string({ unit: fc.constantFrom('a', 'Z', '0', '%', '!', '$', '&', "'", '(', '*', '+', ',', ';', '=', '-', '.', '_', '~', 'é'), minLength: 1, maxLength: 12 });
  test('parseEndpointUrl: a parsed URL or an OpencodeError; redactUrl never shows credentials', () => {
    const url = fc.oneof(fc.webUrl({ withQueryParameters: true, withFragments: true }), hostileText, fc.tuple(credential, credential, fc.webUrl()).map(([u, p, w]) => w.replace('://', `://${u}:${p}@`)));
    fc.assert(
      fc.property(url, (text) => {
        try {
          const r = parseEndpointUrl(text);
          assert.match(r.origin, /^https?:\/\//);
        } catch (error) {
          assert.ok(error instanceof OpencodeError, String(error));
        }
        const shown = redactUrl(text);
        assert.equal(typeof shown, 'string');
        const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)@/i.exec(text);
        if (m) assert.ok(!shown.includes(`${m[1]}@`), shown);
      }),
      fcParams(500),
    );
  });
});

describe('discovery: Linux /proc', () => {
  neverThrows('parseProcStat', parseProcStat, hostileText);
  neverThrows('decodeTtyNr', decodeTtyNr, fc.oneof(fc.integer(), fc.double()));
  neverThrows('parseEnviron', parseEnviron, hostileText);
  neverThrows('parseCmdline', parseCmdline, hostileText);
  neverThrows('parseProcNetTcp', (t: string) => parseProcNetTcp(t), hostileText);
  neverThrows('decodeHexAddress', (t: string) => decodeHexAddress(t), hostileText);
  neverThrows('listenSockets', (t: string[]) => listenSockets(t), fc.array(hostileText, { maxLength: 3 }));
  neverThrows('socketInode', socketInode, hostileText);
  test('parseProcStat survives a comm with spaces and parentheses', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 15 }), fc.nat(99999), (comm, pid) => {
        const stat = parseProcStat(`${pid} (${comm}) S 1 ${pid} ${pid} 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 12345 1 1`);
        if (stat) assert.equal(stat.comm, comm);
      }),
      fcParams(300),
    );
  });
});

describe('discovery: classification', () => {
  const argv = fc.array(fc.oneof(hostileText, fc.constantFrom('opencode', 'serve', 'web', '--port', '0', 'attach', 'http://x', '--hostname', 'run', 'node', '/usr/bin/opencode', '-m')), { maxLength: 8 });
  neverThrows('classifyArgs', classifyArgs, argv);
  neverThrows('expectsPort', expectsPort, argv);
  neverThrows('isOpencodeExecutable', isOpencodeExecutable, hostileText);
  neverThrows('isOpencodeProcessName', isOpencodeProcessName, hostileText);
  neverThrows('urlForListener', urlForListener, fc.record({ address: hostileText, port: fc.integer() }));
});

describe('discovery: macOS and Windows tool output', () => {
  neverThrows('parsePsOutput', parsePsOutput, hostileText);
  neverThrows('splitPsCommand', splitPsCommand, hostileText);
  neverThrows('parseLsofListen', parseLsofListen, hostileText);
  neverThrows('parseLsofCwd', parseLsofCwd, hostileText);
  neverThrows('parsePsEnv', (t: string) => parsePsEnv(t), hostileText);
  neverThrows('parseCsvLine', parseCsvLine, hostileText);
  neverThrows('parseTasklistCsv', parseTasklistCsv, hostileText);
  neverThrows('parseNetstatListening', parseNetstatListening, hostileText);
  test('parseCimProcessJson: a list, or a SyntaxError its caller catches', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, anyValue.map((v) => JSON.stringify(v) ?? ''), wrongTyped.map((v) => JSON.stringify([v]))), (text) => {
        try {
          assert.ok(Array.isArray(parseCimProcessJson(text)));
        } catch (error) {
          assert.ok(error instanceof SyntaxError, String(error));
        }
      }),
      fcParams(300),
    );
  });
  neverThrows('splitWindowsCommandLine', splitWindowsCommandLine, hostileText);
});

describe('platform tool output', () => {
  neverThrows('parseTmuxPanes', parseTmuxPanes, hostileText);
  neverThrows('parseItermResult', parseItermResult, hostileText);
  neverThrows('parsePsPpid', parsePsPpid, hostileText);
  neverThrows('ppidFromProcStat', ppidFromProcStat, hostileText);
});

describe('legacy lock files', () => {
  test('readLockFile / readWriterLock / legacyDaemonPid read any content without throwing', (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-hardening-lock-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const file = path.join(dir, 'lock');
    fc.assert(
      fc.property(fc.oneof(hostileText, anyValue.map((v) => JSON.stringify(v) ?? ''), wrongTyped.map((v) => JSON.stringify(v))), (content) => {
        fs.writeFileSync(file, content);
        const read = readLockFile(file);
        assert.equal(read?.raw, content);
        readWriterLock(file);
        const pid = legacyDaemonPid(file);
        if (pid !== undefined) assert.ok(Number.isInteger(pid) && pid > 0);
      }),
      fcParams(300),
    );
  });
});
