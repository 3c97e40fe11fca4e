/**
 * The SwiftBar plugin reads the legacy files whenever it likes: readers polling both files 1000
 * times while a real LegacyWriter rewrites them (small and large, as fast as it can) never see a
 * partial, empty or mixed file.
 */
import * as assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { sleep } from './support/guards';

const READS = 1000;

test(`readers polling the legacy files ${READS} times during writes never see a partial file`, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-hardening-legacy-'));
  const statePath = path.join(dir, 'opencode-state.json');
  const usagePath = path.join(dir, 'opencode-usage.json');
  const child = fork(path.join(__dirname, 'support', 'legacyWriterChild.js'), [statePath, usagePath], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('started') && resolve());
    child.once('exit', (code) => reject(new Error(`writer exited (${code})`)));
  });

  const bad: string[] = [];
  const sizes = new Set<number>();
  const versions = { state: new Set<number>(), usage: new Set<number>() };
  for (let i = 0; i < READS; i++) {
    const stateText = fs.readFileSync(statePath, 'utf8');
    try {
      const state = JSON.parse(stateText) as { instances: Array<{ agents: Array<{ title: string }> }> };
      const titles = state.instances.flatMap((x) => x.agents.map((a) => a.title));
      const n = Number(/^n=(\d+) /.exec(titles[0] ?? '')?.[1]);
      if (!(titles.length === n && titles.every((title) => title.startsWith(`n=${n} `)))) bad.push(`state: ${titles.length} agents, first "${titles[0]?.slice(0, 20)}"`);
      versions.state.add(n);
      sizes.add(stateText.length);
    } catch (error) {
      bad.push(`state (${stateText.length} bytes): ${(error as Error).message}`);
    }
    const usageText = fs.readFileSync(usagePath, 'utf8');
    try {
      const usage = JSON.parse(usageText) as { five_hour: { utilization: number }; seven_day: { utilization: number } };
      if (usage.five_hour.utilization !== usage.seven_day.utilization) bad.push(`usage mixed: ${usageText}`);
      versions.usage.add(usage.five_hour.utilization);
    } catch (error) {
      bad.push(`usage (${usageText.length} bytes): ${(error as Error).message}`);
    }
    if (i % 20 === 19) await sleep(1);
  }
  console.log(`# ${READS} reads of each file: ${versions.state.size} state and ${versions.usage.size} usage versions seen, ${sizes.size} sizes (${Math.min(...sizes)}–${Math.max(...sizes)} bytes)`);
  assert.deepEqual(bad, []);
  assert.ok(versions.state.size > 10 && versions.usage.size > 3, 'the writer was rewriting during the reads');
  // No temp file is left behind by a writer that keeps going.
  assert.ok(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')).length <= 2);
});
