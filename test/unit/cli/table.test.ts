import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { renderTable } from '../../../src/cli/table';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const NOW = 1_766_900_060_000;

describe('watch table manners', () => {
  const snapshot = makeSnapshot([makeInstance()], [makeSession({ status: 'idle' })]);

  test('piped (no clock): the same content renders the same text a second later', () => {
    const a = renderTable(snapshot, { now: NOW, width: 120, color: false, clock: false });
    const b = renderTable(snapshot, { now: NOW + 1_000, width: 120, color: false, clock: false });
    assert.equal(a, b);
    assert.ok(!a.includes(new Date(NOW).toLocaleTimeString()), a);
  });

  test('a terminal gets the clock and the footer; no colour means no escape at all', () => {
    const text = renderTable(snapshot, { now: NOW, width: 120, color: false, footer: 'Ctrl-C to quit' });
    assert.ok(text.includes(new Date(NOW).toLocaleTimeString()), text);
    assert.ok(text.trimEnd().endsWith('Ctrl-C to quit'), text);
    assert.ok(!text.includes('\x1b'), JSON.stringify(text));
  });
});
