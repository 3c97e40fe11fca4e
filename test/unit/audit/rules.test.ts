import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRules } from '../../../src/core/audit/engine';
import { RULE_DATA } from '../../../src/core/audit/rules';
import { RuleSetError } from '../../../src/core/audit/ruleSchema';

const clone = () => structuredClone(RULE_DATA) as { programSets: Record<string, string[]>; locations: unknown[]; rules: Array<Record<string, unknown>>; sequences: Array<Record<string, unknown>> };

test('the real rule file loads and covers every category of the issue', () => {
  const set = loadRules(RULE_DATA);
  const rules = set.data.rules;
  console.log(`# audit rules: ${rules.length} rules, ${set.data.locations.length} locations, ${set.data.sequences.length} sequences`);
  assert.ok(rules.length >= 100);
  const categories = new Set(rules.map((r) => r.category));
  for (const c of ['rce', 'credential', 'exfiltration', 'destruction', 'permissions', 'persistence', 'history', 'publish', 'safety', 'listener', 'network']) assert.ok(categories.has(c as never), c);
  for (const r of rules) if (r.score > 0) assert.ok(r.techniques.length > 0, `${r.id} has no technique`);
  assert.ok(set.tooComplex, 'the too-complex rule exists');
});

test('a malformed rule throws a clear error naming the rule', () => {
  const data = clone();
  data.rules[3] = { ...data.rules[3], score: 140 };
  assert.throws(() => loadRules(data), (err: unknown) => err instanceof RuleSetError && /rule "rce.eval-download" \(#3\): score/.test(err.message));
});

test('unknown fields, kinds and techniques are errors, not ignored', () => {
  const typo = clone();
  typo.rules[0] = { ...typo.rules[0], techniqes: ['T1059'] };
  assert.throws(() => loadRules(typo), /rule "rce.pipe-to-shell".*techniqes/);
  const badTech = clone();
  badTech.rules[1] = { ...badTech.rules[1], techniques: ['remote code'] };
  assert.throws(() => loadRules(badTech), /rule "rce.pipe-to-interpreter".*MITRE/);
  const badTarget = clone();
  badTarget.rules[2] = { ...badTarget.rules[2], target: ['shell'] };
  assert.throws(() => loadRules(badTarget), /rule "rce.decode-to-shell".*target/);
  const noMatch = clone();
  const { command: _drop, ...rest } = noMatch.rules[0]!;
  noMatch.rules[0] = rest;
  assert.throws(() => loadRules(noMatch), /rule "rce.pipe-to-shell".*needs a `command`/);
});

test('references are checked: program sets, locations, sequence tags, duplicate ids', () => {
  const set = clone();
  set.rules[0] = { ...set.rules[0], command: { program: ['@nope'] } };
  assert.throws(() => loadRules(set), /rule "rce.pipe-to-shell": unknown program set @nope/);
  const loc = clone();
  const credRule = loc.rules.findIndex((r) => r.id === 'cred.ssh-key');
  loc.rules[credRule] = { ...loc.rules[credRule], path: { location: ['ssh-keyz'] } };
  assert.throws(() => loadRules(loc), /rule "cred.ssh-key": unknown location "ssh-keyz"/);
  const seq = clone();
  seq.sequences[0] = { ...seq.sequences[0], steps: ['credential-read', 'teleport'] };
  assert.throws(() => loadRules(seq), /sequence "seq.credential-then-send": step "teleport"/);
  const dup = clone();
  dup.rules.push(dup.rules[0]!);
  assert.throws(() => loadRules(dup), /duplicate id/);
});

test('an empty or missing rule set is an error, never a silent empty set', () => {
  assert.throws(() => loadRules({ ...clone(), rules: [] }), /no rules/);
  assert.throws(() => loadRules({}), RuleSetError);
  assert.throws(() => loadRules(null), RuleSetError);
  assert.throws(() => loadRules({ ...clone(), rules: 'x' }), /malformed/);
});
