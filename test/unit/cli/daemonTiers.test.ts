import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';

/**
 * In a fresh Node (this one's binary): a hot function, called until V8 optimizes it or 3 s pass.
 * Prints V8's optimization status bits (16 optimized, 32 Maglev, 64 TurboFan from V8 12).
 */
const PROBE = `
const tiers = require(${JSON.stringify(require.resolve('../../../src/cli/daemonTiers'))});
if (process.argv[1] === 'daemon') tiers.useDaemonTiers();
function hot(values) { let sum = 0; for (let i = 0; i < values.length; i++) sum += values[i] * 2; return sum; }
const values = Array.from({ length: 64 }, (_, i) => i);
const optimized = () => (%GetOptimizationStatus(hot) & (16 | 32 | 64)) !== 0;
const started = Date.now();
(function spin() {
  for (let i = 0; i < 20000; i++) hot(values);
  if (optimized() || Date.now() - started > 3000) process.stdout.write(JSON.stringify({ optimized: optimized(), status: %GetOptimizationStatus(hot) }));
  else setImmediate(spin);
})();
`;

function probe(mode: 'daemon' | 'default'): Promise<{ optimized: boolean; status: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--allow-natives-syntax', '-e', PROBE, mode], { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`${error.message}\n${stderr}`));
      resolve({ ...(JSON.parse(stdout) as { optimized: boolean; status: number }), stderr });
    });
  });
}

describe('daemon V8 tiers', () => {
  test('after useDaemonTiers a hot function stays in the baseline tiers; without it the same function gets optimized', async () => {
    const [daemon, normal] = await Promise.all([probe('daemon'), probe('default')]);
    // The control: this probe does see an optimization when the compilers are on.
    assert.equal(normal.optimized, true, `status ${normal.status}`);
    assert.equal(daemon.optimized, false, `status ${daemon.status}`);
    // Every flag is known to this Node: an unknown one would print "unrecognized flag" here.
    assert.equal(daemon.stderr, '');
  });
});
