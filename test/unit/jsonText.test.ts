import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { cleanControlCharacters, parseJsonText } from '../../src/core/opencode/jsonText';

function parsedValue(text: string): { value: unknown; cleaned: number } {
  const result = parseJsonText(text);
  assert.ok(result.ok, `expected ${JSON.stringify(text)} to parse: ${result.ok ? '' : result.error}`);
  return { value: result.value, cleaned: result.cleaned };
}

test('valid JSON is parsed untouched', () => {
  const body = { a: 'x\ty', b: [1, 2, { c: null }], d: 'quote " and \\ backslash', e: '\u001b[31mred\u001b[0m' };
  const text = JSON.stringify(body, null, 2);
  assert.deepEqual(parsedValue(text), { value: body, cleaned: 0 });
  assert.deepEqual(cleanControlCharacters(text), { text, cleaned: 0 });
});

test('raw control characters inside strings are escaped losslessly', () => {
  const raw = '{"out":"a\u001b[31mred\u001b[0m\nline2\r\tend\u0000\u0008\u000c\u001f","n":1}';
  const { value, cleaned } = parsedValue(raw);
  assert.deepEqual(value, { out: 'a\u001b[31mred\u001b[0m\nline2\r\tend\u0000\u0008\u000c\u001f', n: 1 });
  assert.equal(cleaned, 9);
});

test('escapes and quotes inside strings do not confuse the cleaner', () => {
  // \" keeps the string open; the raw ESC after it is still inside the string.
  const raw = '{"a":"say \\"hi\\"\u001b","b":"c:\\\\\u0001"}';
  assert.deepEqual(parsedValue(raw).value, { a: 'say "hi"\u001b', b: 'c:\\\u0001' });
});

test('a backslash followed by a raw control character becomes that escape', () => {
  assert.deepEqual(parsedValue('{"a":"x\\\ny","b":"\\\u0001"}').value, { a: 'x\ny', b: '\u0001' });
});

test('stray control characters between tokens are dropped', () => {
  const { value, cleaned } = parsedValue('\u0000{\u0001"a"\u0002:\u001b 1,\n\t"b":[\u0007true]}\u0000');
  assert.deepEqual(value, { a: 1, b: [true] });
  assert.equal(cleaned, 6);
});

test('a leading BOM is ignored', () => {
  assert.deepEqual(parsedValue('\ufeff{"a":1}'), { value: { a: 1 }, cleaned: 0 });
  assert.deepEqual(parsedValue('\ufeff{"a":"x\u0001"}'), { value: { a: 'x\u0001' }, cleaned: 1 });
});

test('truly broken JSON fails with a reason', () => {
  for (const text of ['', '{', '{"a":1', 'not json', '<html>', '{"a":\u0001}', '{"a":"x\u0001}', "{'a':1}"]) {
    const result = parseJsonText(text);
    assert.equal(result.ok, false, `expected ${JSON.stringify(text)} to fail`);
    if (!result.ok) assert.ok(result.error.length > 0);
  }
});
