/** Problems are kinds, not strings parsed back (issue 12); an action on a session no live server runs is a domain error. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connectionProblem } from '../../../src/core/monitor/instanceWatcher';
import { Monitor, NoLiveServerError } from '../../../src/core/monitor/monitor';
import { OpencodeError } from '../../../src/core/opencode/errors';
import { MemoryLogger } from '../../../src/core/log';

describe('connection problems as kinds', () => {
  it('a 401 is `auth`: "required" without a password, "rejected" with one, whatever the message says', () => {
    const e = new OpencodeError('auth_required', 'http://127.0.0.1:1', 'GET /event', 'anything at all (401)', 401);
    assert.deepEqual(connectionProblem(e, false), { kind: 'auth', text: 'password required' });
    assert.deepEqual(connectionProblem(e, true), { kind: 'auth', text: 'password rejected' });
  });

  it('refused, timeout, missing routes and bad answers each have their kind', () => {
    const at = (kind: ConstructorParameters<typeof OpencodeError>[0], detail = 'x') => new OpencodeError(kind, 'http://127.0.0.1:1', 'GET /session', detail);
    assert.equal(connectionProblem(at('network', 'connect ECONNREFUSED'), false)?.kind, 'unreachable');
    assert.match(connectionProblem(at('network', 'connect ECONNREFUSED'), false)?.text ?? '', /^unreachable: .*ECONNREFUSED/);
    assert.equal(connectionProblem(at('timeout'), false)?.kind, 'timeout');
    assert.equal(connectionProblem(at('no_route'), false)?.kind, 'unsupported');
    assert.equal(connectionProblem(at('malformed'), false)?.kind, 'server');
    assert.equal(connectionProblem(new Error('boom'), false)?.kind, 'server');
    assert.equal(connectionProblem(undefined, false), undefined);
  });
});

describe('actions on a session no live server runs', () => {
  it('reject with NoLiveServerError, not a transport error', async () => {
    const monitor = new Monitor({ logger: new MemoryLogger() }).start();
    try {
      for (const act of [() => monitor.abort('ses_x'), () => monitor.prompt('ses_x', 'hi'), () => monitor.replyPermission('ses_x', 'per_1', 'once'), () => monitor.rejectQuestion('ses_x', 'que_1')]) {
        await assert.rejects(act(), (e: unknown) => e instanceof NoLiveServerError && !(e instanceof OpencodeError) && /ses_x/.test(e.message));
      }
    } finally {
      await monitor.dispose();
    }
  });
});
