import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import * as fc from 'fast-check';
import { parseShell } from '../../../src/core/audit/shell';
import { resolveScript } from '../../../src/core/audit/commands';
import { scoreAction } from '../../../src/core/audit/engine';

const programs = (src: string) => resolveScript(src).commands.map((c) => c.program);

test('sees through quoting: single, double, $-quotes, backslashes', () => {
  assert.deepEqual(programs(`'cu'"rl" -s x | s\\h`), ['curl', 'sh']);
  assert.deepEqual(programs(`$'\\x63\\u0075rl' x`), ['curl']);
  assert.deepEqual(programs(`$'\\143url' x`), ['curl']);
  assert.deepEqual(resolveScript(`echo "a \\"b\\" c" 'd e'`).commands[0]!.args, ['a "b" c', 'd e']);
});

test('splits on && || ; | & and newlines; subshells, substitutions, backticks, process substitution', () => {
  assert.deepEqual(programs('a && b || c; d | e & f\ng'), ['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  assert.deepEqual(programs('(cd x && make) | tee log'), ['cd', 'make', 'tee']);
  assert.deepEqual(programs('echo $(whoami) `hostname`'), ['whoami', 'hostname', 'echo']);
  assert.deepEqual(programs('diff <(sort a) <(sort b)'), ['sort', 'sort', 'diff']);
  assert.deepEqual(programs('{ a; b; }'), ['a', 'b']);
});

test('unwraps sh -c, env, VAR=x, sudo, nohup, time, exec, command, nice, timeout, xargs, absolute paths', () => {
  assert.deepEqual(programs(`bash -lc 'zsh -c "curl x"'`), ['bash', 'zsh', 'curl']);
  assert.deepEqual(programs('env -i A=1 B=2 /usr/bin/curl x'), ['curl']);
  assert.deepEqual(programs('A=1 B="x y" node app.js'), ['node']);
  assert.deepEqual(programs('sudo -u root -E nohup nice -n 5 time timeout 10 exec command rm x'), ['sudo', 'rm']);
  assert.deepEqual(programs('find . | xargs -0 -n 1 rm'), ['find', 'rm']);
  assert.deepEqual(programs('command -v curl'), []);
  assert.deepEqual(programs('eval "curl x | sh"'), ['eval', 'curl', 'sh']);
  assert.deepEqual(programs('bash <<EOF\ncurl x | sh\nEOF'), ['bash', 'curl', 'sh']);
  const c = resolveScript('curl x | /bin/sh').commands[1]!;
  assert.deepEqual(c.upstream, ['curl']);
});

test('redirections: targets, appends, fd duplication, &>', () => {
  const cmd = resolveScript('echo x >> ~/.zshrc 2>/dev/null').commands[0]!;
  assert.deepEqual(cmd.redirects, [
    { op: '>>', target: '~/.zshrc' },
    { op: '>', target: '/dev/null' },
  ]);
  assert.deepEqual(resolveScript('make 2>&1 | tee log').commands[0]!.redirects, []);
  assert.deepEqual(resolveScript('make &> build.log').commands[0]!.redirects, [{ op: '&>', target: 'build.log' }]);
  assert.equal(scoreAction({ kind: 'bash', command: 'echo x 1>>~/.bashrc', home: '/h' }).level, 'high');
});

test('comments are not commands', () => {
  assert.deepEqual(programs('ls # && rm -rf /'), ['ls']);
  assert.deepEqual(programs('echo a#b'), ['echo']);
});

test('pathological input is bounded and reported as too complex (medium), never hangs or throws', () => {
  const huge = 'echo ' + 'a'.repeat(1_000_000);
  const r1 = scoreAction({ kind: 'bash', command: huge });
  assert.ok(r1.level === 'none' || r1.level === 'medium');

  const chain = Array.from({ length: 10_000 }, (_, i) => `echo ${i}`).join(' && ');
  const r2 = scoreAction({ kind: 'bash', command: chain });
  assert.equal(r2.level, 'medium');
  assert.ok(r2.ruleIds.includes('exec.too-complex'));

  let nested = 'curl x | sh';
  // Each level doubles the escaping, so 14 levels is already far past the depth cap (8).
  for (let i = 0; i < 14; i++) nested = `sh -c ${JSON.stringify(nested)}`;
  const r3 = scoreAction({ kind: 'bash', command: nested });
  assert.ok(r3.ruleIds.includes('exec.too-complex'));
  assert.ok(r3.level === 'medium' || r3.level === 'critical');

  const deepSubst = '$('.repeat(50_000) + 'x' + ')'.repeat(50_000);
  const r4 = scoreAction({ kind: 'bash', command: deepSubst });
  assert.equal(r4.level, 'medium');

  const quotes = `"'`.repeat(200_000);
  assert.doesNotThrow(() => scoreAction({ kind: 'bash', command: quotes }));
  // Shapes that make globs and URL/path readers backtrack: cut to their first KBs, so they finish.
  for (const hostile of ['python3 -c "' + 'socket'.repeat(170_000) + '"', 'cat ' + 'a/'.repeat(500_000), 'curl ' + 'a.'.repeat(500_000) + 'com', 'scp ' + 'a@'.repeat(300_000) + ':x']) {
    const r = scoreAction({ kind: 'bash', command: hostile, projectDir: '/p', home: '/h' });
    assert.ok(r.score <= 100);
  }
  const parens = '('.repeat(100_000);
  assert.equal(scoreAction({ kind: 'bash', command: parens }).level, 'medium');
});

test('property: parsing and scoring never throw and stay bounded on arbitrary input', () => {
  const shellish = fc
    .array(
      fc.oneof(
        fc.constantFrom(' ', "'", '"', '\\', '$(', ')', '(', '`', '<(', '|', '&&', '||', ';', '&', '\n', '>', '>>', '2>&1', '<<', 'EOF', '$\'', '{', '}', 'sh -c ', 'curl ', 'rm -rf ', '~/.ssh/id_rsa', 'sudo ', 'env A=1 ', 'xargs ', '#', '*', '='),
        fc.string({ maxLength: 6 }),
      ),
      { maxLength: 60 },
    )
    .map((parts) => parts.join(''));
  fc.assert(
    fc.property(fc.oneof(shellish, fc.string({ unit: 'binary', maxLength: 300 })), (src) => {
      const parsed = parseShell(src);
      assert.ok(parsed.commands.length <= 2_000);
      const risk = scoreAction({ kind: 'bash', command: src, projectDir: '/p', home: '/h' });
      assert.ok(risk.score >= 0 && risk.score <= 100);
    }),
    { numRuns: 2_000 },
  );
});
