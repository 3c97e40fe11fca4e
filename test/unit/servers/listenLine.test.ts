import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseListenLine } from '../../../src/core/servers/listenLine';
import { cleanLine, LineRing, LineSplitter } from '../../../src/core/servers/outputLines';

test('parses the line OpenCode 1.18 prints', () => {
  assert.deepEqual(parseListenLine('opencode server listening on http://127.0.0.1:4096'), { host: '127.0.0.1', port: 4096 });
  assert.deepEqual(parseListenLine('opencode server listening on http://127.0.0.1:38211/'), { host: '127.0.0.1', port: 38211 });
  assert.deepEqual(parseListenLine('opencode server listening on http://[::1]:5000'), { host: '[::1]', port: 5000 });
  assert.deepEqual(parseListenLine('opencode server listening on http://localhost:5000\r'), { host: 'localhost', port: 5000 });
});

test('ignores other lines and impossible ports', () => {
  assert.equal(parseListenLine('Warning: OPENCODE_SERVER_PASSWORD is not set; server is unsecured.'), undefined);
  assert.equal(parseListenLine(''), undefined);
  assert.equal(parseListenLine('opencode server listening on http://127.0.0.1:0'), undefined);
  assert.equal(parseListenLine('opencode server listening on http://127.0.0.1:70000'), undefined);
  assert.equal(parseListenLine('opencode server listening on http://127.0.0.1:123456'), undefined);
  assert.equal(parseListenLine('opencode server listening on http://127.0.0.1:'), undefined);
});

test('sees through colours and a prefix', () => {
  assert.deepEqual(parseListenLine('\u001b[1m\u001b[32mopencode server listening on\u001b[0m http://127.0.0.1:4101'), { host: '127.0.0.1', port: 4101 });
  assert.deepEqual(parseListenLine('INFO 2025-01-01 opencode server listening on http://127.0.0.1:4102 (ready)'), { host: '127.0.0.1', port: 4102 });
});

test('LineSplitter joins lines cut anywhere, LF or CRLF', () => {
  const text = 'Warning: unsecured.\r\nopencode server listening on http://127.0.0.1:4096\nlast';
  for (let cut = 0; cut <= text.length; cut++) {
    for (let cut2 = cut; cut2 <= text.length; cut2 += 7) {
      const s = new LineSplitter();
      const lines = [...s.push(text.slice(0, cut)), ...s.push(text.slice(cut, cut2)), ...s.push(text.slice(cut2)), ...s.flush()];
      assert.deepEqual(lines, ['Warning: unsecured.', 'opencode server listening on http://127.0.0.1:4096', 'last'], `cuts ${cut}/${cut2}`);
    }
  }
});

test('LineSplitter byte-by-byte finds the port, and flush is empty after a final newline', () => {
  const s = new LineSplitter();
  const found: number[] = [];
  for (const ch of 'noise\nopencode server listening on http://127.0.0.1:4321\n') {
    for (const line of s.push(ch)) {
      const address = parseListenLine(line);
      if (address) found.push(address.port);
    }
  }
  assert.deepEqual(found, [4321]);
  assert.deepEqual(s.flush(), []);
});

test('LineSplitter cuts a line that never ends into bounded pieces', () => {
  const s = new LineSplitter(10);
  assert.deepEqual(s.push('a'.repeat(25)), ['a'.repeat(10), 'a'.repeat(10)]);
  assert.deepEqual(s.push('b\n'), ['aaaaab']);
});

test('cleanLine strips escapes and control characters but keeps tabs and text', () => {
  assert.equal(cleanLine('\u001b[31mError:\u001b[0m boom\tnow\u0007\u0000'), 'Error: boom\tnow');
  assert.equal(cleanLine('\u001b]0;title\u0007after'), 'after');
  assert.equal(cleanLine('plain é ✓'), 'plain é ✓');
});

test('LineRing keeps the last lines in order', () => {
  const ring = new LineRing(3);
  for (const l of ['1', '2', '3', '4', '5']) ring.push(l);
  assert.deepEqual(ring.values(), ['3', '4', '5']);
});
