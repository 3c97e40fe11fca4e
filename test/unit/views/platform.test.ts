import * as assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { CommandRunner } from '../../../src/core/os/exec';
import { itermFocusArgs, parseItermResult } from '../../../src/core/platform/iterm';
import { ancestorChain, closestAncestor, createPpidReader, parsePsPpid, ppidFromProcStat } from '../../../src/core/platform/processTree';
import { shellQuote } from '../../../src/core/platform/shell';
import { TMUX_LIST_PANES_ARGS, findPaneByTty, normalizeTty, parseTmuxPanes, tmuxFocusCommands } from '../../../src/core/platform/tmux';

describe('process tree', () => {
  // opencode 500 ← bash 400 ← tmux 300 ← sshd 200 ← init 1
  const parents = new Map([
    [500, 400],
    [400, 300],
    [300, 200],
    [200, 1],
    [1, 0],
  ]);
  const reader = (pid: number) => Promise.resolve(parents.get(pid));

  test('chain from the process up to init', async () => {
    assert.deepEqual(await ancestorChain(500, reader), [500, 400, 300, 200, 1]);
  });

  test('the known parent saves the first read', async () => {
    const asked: number[] = [];
    await ancestorChain(500, (pid) => {
      asked.push(pid);
      return reader(pid);
    }, 400);
    assert.deepEqual(asked, [400, 300, 200]);
  });

  test('stops at an unreadable parent and at cycles', async () => {
    assert.deepEqual(await ancestorChain(500, (pid) => Promise.resolve(pid === 500 ? 400 : undefined)), [500, 400]);
    assert.deepEqual(await ancestorChain(10, (pid) => Promise.resolve(pid === 10 ? 11 : 10)), [10, 11]);
  });

  test('the closest terminal shell wins; init never counts', async () => {
    const chain = await ancestorChain(500, reader);
    assert.equal(closestAncestor(chain, [[200, 'ssh terminal'], [400, 'bash terminal'], [undefined, 'no pid']]), 'bash terminal');
    assert.equal(closestAncestor(chain, [[999, 'other']]), undefined);
    assert.equal(closestAncestor(chain, [[1, 'init']]), undefined);
    // A terminal whose shell is the process itself (`shellPath: opencode`).
    assert.equal(closestAncestor(chain, [[500, 'direct']]), 'direct');
  });

  test('parsers', () => {
    assert.equal(parsePsPpid('  4321\n'), 4321);
    assert.equal(parsePsPpid(''), undefined);
    assert.equal(parsePsPpid('PPID\n1'), undefined);
    assert.equal(ppidFromProcStat('29176 (opencode (x)) S 29175 29176 29175 34816 29176 4194304 0 0 0 0 1 2 0 0 20 0 9 0 1234 0 0'), 29175);
    assert.equal(ppidFromProcStat('garbage'), undefined);
  });

  test('reader: /proc on Linux, ps elsewhere, nothing on Windows', async () => {
    const linux = createPpidReader({ platform: 'linux', read: (path) => (path === '/proc/7/stat' ? Promise.resolve('7 (sh) S 3 7 7 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0') : Promise.reject(new Error('ENOENT'))) });
    assert.equal(await linux(7), 3);
    assert.equal(await linux(8), undefined);
    const calls: Array<readonly string[]> = [];
    const run: CommandRunner = (file, args) => {
      calls.push([file, ...args]);
      return Promise.resolve({ stdout: '  12\n', stderr: '', code: 0 });
    };
    assert.equal(await createPpidReader({ platform: 'darwin', run })(42), 12);
    assert.deepEqual(calls, [['ps', '-o', 'ppid=', '-p', '42']]);
    const gone: CommandRunner = () => Promise.resolve({ stdout: '', stderr: '', code: 1 });
    assert.equal(await createPpidReader({ platform: 'darwin', run: gone })(42), undefined);
    assert.equal(await createPpidReader({ platform: 'win32' })(42), undefined);
  });
});

describe('tmux', () => {
  const listing = ['/dev/pts/1 main:0.0', '/dev/pts/3 main:1.1', '/dev/pts/7 my work:12.0', '', 'garbage', '/dev/pts/9 bad-target'].join('\n');

  test('list-panes arguments', () => {
    assert.deepEqual(TMUX_LIST_PANES_ARGS, ['list-panes', '-a', '-F', '#{pane_tty} #{session_name}:#{window_index}.#{pane_index}']);
  });

  test('parses panes, session names with spaces included', () => {
    assert.deepEqual(parseTmuxPanes(listing), [
      { tty: '/dev/pts/1', target: 'main:0.0', session: 'main', window: 'main:0' },
      { tty: '/dev/pts/3', target: 'main:1.1', session: 'main', window: 'main:1' },
      { tty: '/dev/pts/7', target: 'my work:12.0', session: 'my work', window: 'my work:12' },
    ]);
  });

  test('finds a pane by TTY with or without /dev/', () => {
    const panes = parseTmuxPanes(listing);
    assert.equal(findPaneByTty(panes, 'pts/3')?.target, 'main:1.1');
    assert.equal(findPaneByTty(panes, '/dev/pts/7')?.target, 'my work:12.0');
    assert.equal(findPaneByTty(panes, 'pts/4'), undefined);
    assert.equal(normalizeTty('/dev/ttys003'), 'ttys003');
  });

  test('focus commands are argument arrays', () => {
    const pane = parseTmuxPanes('/dev/pts/7 my work:12.0')[0]!;
    assert.deepEqual(tmuxFocusCommands(pane), [
      ['select-window', '-t', 'my work:12'],
      ['select-pane', '-t', 'my work:12.0'],
      ['switch-client', '-t', 'my work'],
    ]);
  });
});

describe('iTerm2', () => {
  test('the TTY is an argument of the script, not part of it', () => {
    const args = itermFocusArgs('ttys003');
    assert.equal(args[args.length - 1], '/dev/ttys003');
    const script = args.filter((_, i) => i % 2 === 1 && i < args.length - 1);
    assert.ok(args.slice(0, -1).every((a, i) => (i % 2 === 0 ? a === '-e' : true)));
    assert.ok(!script.join('\n').includes('ttys003'));
    assert.equal(itermFocusArgs('/dev/ttys004').at(-1), '/dev/ttys004');
  });

  test('result parsing', () => {
    assert.equal(parseItermResult('focused\n'), 'focused');
    assert.equal(parseItermResult('not-found'), 'not-found');
    assert.equal(parseItermResult('execution error'), undefined);
  });
});

describe('shellQuote', () => {
  test('URLs and session ids stay bare; the rest is quoted', () => {
    assert.equal(shellQuote('http://127.0.0.1:4096'), 'http://127.0.0.1:4096');
    assert.equal(shellQuote('ses_4b2fXYZ'), 'ses_4b2fXYZ');
    assert.equal(shellQuote('http://h/a b'), "'http://h/a b'");
    assert.equal(shellQuote("it's;rm"), "'it'\\''s;rm'");
  });
});
