/**
 * A real LegacyWriter (holding a fake lock) fed snapshots of changing size as fast as it can, until
 * killed. argv: <statePath> <usagePath>. Prints "started" after the first write of both files.
 * Every snapshot is self-describing: n sessions titled "n=<n> #<i>", usage percent = n, so a
 * reader can tell a complete file from a mixed or cut one.
 */
import { nullLogger } from '../../../src/core/log';
import { LegacyWriter } from '../../../src/core/legacy/legacyWriter';
import { makeInstance, makeSession, makeSnapshot } from '../../fixtures/legacy/snapshots';

const [statePath, usagePath] = process.argv.slice(2);
if (!statePath || !usagePath) throw new Error('usage: legacyWriterChild <state> <usage>');

const writer = new LegacyWriter({
  statePath,
  usagePath,
  lock: { isHolder: () => true, onChange: () => ({ dispose: () => undefined }) },
  logger: nullLogger,
  refresher: { notify: () => undefined },
  legacyDaemonLocks: [],
});

const instance = makeInstance({ id: 'pid:1', pid: 1, port: 4096 });
let round = 0;
function snapshotFor(n: number) {
  const sessions = Array.from({ length: n }, (_, i) =>
    makeSession({ id: `ses_${round}_${i}`, instanceId: instance.id, title: `n=${n} #${i} ${'x'.repeat(200)}`, status: i % 2 ? 'busy' : 'idle' }),
  );
  return makeSnapshot([{ ...instance, sessionIds: sessions.map((s) => s.id) }], sessions, { fiveHour: { percent: n }, sevenDay: { percent: n }, stale: false });
}

writer.update(snapshotFor(1));
process.stdout.write('started\n');
const loop = (): void => {
  for (let i = 0; i < 10; i++) {
    round++;
    // Alternate small and large files: a torn read of a large one would be visible.
    writer.update(snapshotFor(round % 2 ? 1 + (round % 7) : 150 + (round % 50)));
  }
  setImmediate(loop);
};
loop();
