/**
 * The extension in a real VS Code (code-server 4.139.1 = VS Code 1.139.1, Debian chromium via
 * playwright-core) against two real `opencode serve` processes of the lab.
 *  1. VSIX installed with `code-server --install-extension`: UI steps (a)–(g), screenshots.
 *  2. Development path + smoke-test driver: the in-host suite (test/vscode) must pass.
 * Tools come from scripts/setup-e2e.sh; without them this test fails (OCM_SKIP_E2E=1 skips it).
 * OCM_E2E_VSIX=<file> tests another package; OCM_E2E_UPDATE_SCREENSHOTS=1 copies the README
 * screenshots to media/screenshots/.
 */
import { test, type TestContext } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { createLab, createSession, getJson, promptAsync, waitFor, type Lab, type LabServer } from '../harness/opencodeLab';
import { QUESTION_OPTIONS } from '../fixtures/fakeModel';
import { assertNoLeftovers, listProcesses } from '../harness/processes';
import { killMarked, markedProcesses, startCodeServer, type CodeServer } from './codeServer';
import { REPO_ROOT, SETUP_HINT, findTools, requireFresh } from './tools';
import { EXPECT, EXTENSION_ID, OUTPUT_CHANNEL, hasCount, readUiSpec, type Manifest, type UiCommand } from './uiSpec';
import { Workbench, launchBrowser, rowText, type TreeRow } from './workbench';

const SCREENSHOTS = path.join(REPO_ROOT, 'test', 'e2e', 'screenshots');
/** Screenshot name → README file, copied when OCM_E2E_UPDATE_SCREENSHOTS=1 and its step passed. */
const README_SHOTS: Record<string, string> = {
  'tree-busy': 'tree-busy.png',
  'permission-row': 'permission.png',
  'statusbar-tooltip': 'statusbar-tooltip.png',
};
const SLEEP_S = 8;
const UI_TIMEOUT = 20_000;

type Status = Record<string, { type: string }>;
interface Pending {
  id: string;
  sessionID: string;
}

const skipAll = process.env.OCM_SKIP_E2E === '1' ? 'OCM_SKIP_E2E=1' : false;

test('OpenCode Monitor in a real VS Code (code-server + chromium)', { skip: skipAll, timeout: 240_000 }, async (t) => {
  const started = Date.now();
  const { tools, missing } = findTools();
  if (!tools) throw new Error(`e2e tools missing (${missing.join(', ')}): ${SETUP_HINT}`);

  const src = [path.join(REPO_ROOT, 'src'), path.join(REPO_ROOT, 'package.json')];
  const vsix = process.env.OCM_E2E_VSIX ?? path.join(REPO_ROOT, 'dist', 'opencode-monitor.vsix');
  if (!process.env.OCM_E2E_VSIX) requireFresh(vsix, src, 'npm run package');
  requireFresh(path.join(REPO_ROOT, 'dist', 'extension.js'), src, 'npm run build');
  const testsIndex = path.join(REPO_ROOT, 'out-vscode', 'test', 'vscode', 'index.js');
  requireFresh(testsIndex, [...src, path.join(REPO_ROOT, 'test', 'vscode')], 'npx tsc -p tsconfig.vscode.json');

  const manifest = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as Manifest;
  const ui = readUiSpec(manifest);
  t.diagnostic(`UI found in package.json: ${JSON.stringify(ui)}`);

  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ocm-e2e-'));
  const runId = `${process.pid}-${Date.now()}`;
  const markers = { ui: `${runId}-ui`, host: `${runId}-host`, browser: `${runId}-browser` };
  const stops: Array<() => Promise<unknown>> = [];
  const cleanup = async (): Promise<void> => {
    for (const stop of stops.splice(0).reverse()) await stop().catch((e: unknown) => t.diagnostic(`cleanup: ${String(e)}`));
    for (const m of Object.values(markers)) await killMarked(m);
    fs.rmSync(root, { recursive: true, force: true });
  };
  t.after(cleanup);

  // Lab and the VSIX code-server start in parallel.
  const lap = (label: string): void => t.diagnostic(`${label}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const [labResult, csResult] = await Promise.allSettled([
    createLab().then((l) => (stops.push(() => l.stopAll()), l)),
    startCodeServer({ tools, root: path.join(root, 'cs-ui'), vsix, marker: markers.ui }).then((c) => (stops.push(() => c.stop()), c)),
  ]);
  if (labResult.status === 'rejected') throw labResult.reason;
  if (csResult.status === 'rejected') throw csResult.reason;
  const lab: Lab = labResult.value;
  const cs: CodeServer = csResult.value;
  const [alpha, beta] = await Promise.all([lab.startServer({ name: 'acme-api' }), lab.startServer({ name: 'acme-web' })]) as [LabServer, LabServer];
  const sessions = {
    idle: { server: alpha, title: 'Fix login redirect', id: '' },
    sleeperA: { server: alpha, title: 'Refactor payment retries', id: '' },
    permission: { server: alpha, title: 'Clean build artifacts', id: '' },
    sleeperB: { server: beta, title: 'Add dashboard tests', id: '' },
    question: { server: beta, title: 'Choose a database', id: '' },
  };
  for (const s of Object.values(sessions)) s.id = await createSession(s.server, s.title);
  await promptAsync(alpha, sessions.idle.id, 'Fix the redirect after login.');
  lap('lab and code-server up');

  const context: BrowserContext = await launchBrowser(tools, path.join(root, 'browser'), markers.browser);
  stops.push(() => context.close());
  const page = context.pages()[0] ?? (await context.newPage());
  const wb = new Workbench(page, SCREENSHOTS);
  await wb.open(cs.workbenchUrl(alpha.dir));
  lap('workbench open');

  const idle = (s: { server: LabServer; id: string }): Promise<true> =>
    waitFor(async () => ((await getJson<Status>(s.server, '/session/status'))[s.id] ? undefined : true), 30_000, `session ${s.id} idle`);
  const pending = async (server: LabServer, route: '/permission' | '/question', sessionID: string): Promise<Pending[]> =>
    (await getJson<Pending[]>(server, route)).filter((p) => p.sessionID === sessionID);
  // Other OpenCode processes on this machine (another test run, a developer's own) show up in the
  // monitor too: counts are then asserted as "at least".
  const foreignOpencode = (): number[] => {
    const ours = new Set(lab.knownPids());
    return listProcesses()
      .filter((p) => p.state !== 'Z' && /(^|\/)opencode$/.test(p.args[0] ?? '') && !ours.has(p.pid) && !ours.has(p.ppid))
      .map((p) => p.pid);
  };
  const passed = new Set<string>();
  /** Screenshots taken while other OpenCode processes were visible: not for the README. */
  const tainted = new Set<string>();
  const shot = async (name: string): Promise<void> => {
    if (foreignOpencode().length > 0) tainted.add(name);
    const file = await wb.screenshot(name);
    t.diagnostic(`screenshot ${path.relative(REPO_ROOT, file)}`);
  };
  /** Runs a step; on failure saves `fail-<name>.png` before rethrowing. */
  const step = (name: string, skip: string | false, fn: (st: TestContext) => Promise<void>): Promise<void> =>
    t.test(name, { skip }, async (st) => {
      try {
        await fn(st);
      } catch (e) {
        await wb.screenshot(`fail-${name.slice(0, 40).replace(/\W+/g, '-')}`).catch(() => undefined);
        throw e;
      }
    });

  // ---- (a) activation -----------------------------------------------------------------------
  await step('(a) "OpenCode: Show Log" opens the "OpenCode Monitor" output channel', ui.showLog ? false : 'no showLog command', async () => {
    await wb.runCommand(ui.showLog!.palette);
    const panel = wb.panel();
    await panel.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await panel.locator('.view-lines', { hasText: /activated/ }).first().waitFor({ timeout: UI_TIMEOUT });
    assert.ok(cs.outputChannelLogs(OUTPUT_CHANNEL).length > 0, `no "${OUTPUT_CHANNEL}" output channel log under ${cs.userDataDir}/logs`);
    await shot('show-log');
    await wb.hidePanel();
  });

  await step('(a) "OpenCode: Probe Server…" reaches a lab server', ui.probeServer ? false : 'no probeServer command', async () => {
    await wb.runCommand(ui.probeServer!.palette);
    const input = page.locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await input.fill(alpha.url);
    await input.press('Enter');
    const toast = wb.toasts().filter({ hasText: /OpenCode \d+\.\d+/ }).first();
    await toast.waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    assert.match(await toast.innerText(), new RegExp(`127\\.0\\.0\\.1:${alpha.port}.*OpenCode`, 's'));
    await shot('probe-server');
    await wb.clearNotifications();
  });

  // ---- (b)–(g) the monitor UI ----------------------------------------------------------------
  const uiSkip = !ui.container
    ? 'package.json contributes no activity-bar view container titled "OpenCode" yet'
    : !ui.view
      ? `no tree view in view container "${ui.container.id}" yet`
      : false;
  const viewName = ui.view?.name ?? '';
  const instanceRow = (s: LabServer) => (r: TreeRow) => r.label.includes(path.basename(s.dir)) || rowText(r).includes(`:${s.port}`);
  const sessionRow = (title: string) => (r: TreeRow) => r.label.includes(title);
  const isInstance = (r: TreeRow): boolean => instanceRow(alpha)(r) || instanceRow(beta)(r);
  /** The session's row followed by its visible descendants (deeper rows right after it). */
  const subtree = (rows: TreeRow[], row: TreeRow): TreeRow[] => {
    const i = rows.indexOf(row);
    const end = rows.findIndex((r, j) => j > i && r.level <= row.level);
    return rows.slice(i, end < 0 ? undefined : end);
  };
  const looks = (r: TreeRow, want: RegExp): boolean => want.test(`${rowText(r)} ${r.icons}`);
  /** Waits until the session's row or a row under it matches `want` (expanding it); returns that subtree. */
  const sessionShows = async (title: string, want: RegExp): Promise<TreeRow[]> => {
    let found: TreeRow[] = [];
    await waitFor(
      async () => {
        const { row, rows } = await wb.findRow(viewName, sessionRow(title), `session "${title}"`, {
          expand: (r) => isInstance(r) || sessionRow(title)(r),
        });
        const tree = subtree(rows, row);
        if (tree.some((r) => looks(r, want))) return (found = tree);
        if (row.expanded === false) await wb.rowLocator(viewName, row).locator('.monaco-tl-twistie').click({ timeout: 2000 });
        return undefined;
      },
      UI_TIMEOUT,
      `session "${title}" showing ${want}`,
      250,
    ).catch(async (e: Error) => {
      const rows = await wb.rows(viewName).catch(() => []);
      throw new Error(`${e.message}\nrows:\n${rows.map((r) => `  [${r.level}] ${rowText(r)} {${r.icons}}`).join('\n')}`);
    });
    return found;
  };
  /** The row to act on: a row under the session matching `want` (the session row only if none). */
  const actionRow = async (title: string, want: RegExp): Promise<TreeRow> => {
    const [session, ...below] = await sessionShows(title, want);
    return below.find((r) => looks(r, want)) ?? session!;
  };

  const statusItem = wb.statusItems(EXTENSION_ID);
  const statusText = async (): Promise<string> => (await wb.statusTexts(EXTENSION_ID)).join(' | ');
  const waitStatus = async (label: string, ok: (text: string) => boolean): Promise<string> => {
    let text = '';
    await waitFor(async () => (ok((text = await statusText())) ? true : undefined), UI_TIMEOUT, label).catch((e: Error) => {
      throw new Error(`${e.message}; status bar now: "${text}"`);
    });
    return text;
  };
  const countIn = (text: string, n: number): boolean => {
    const others = foreignOpencode();
    return hasCount(text, n, others.length > 0);
  };
  const statusSkip = async (): Promise<string | false> =>
    ui.container || (await statusItem.count()) > 0 ? false : `no status bar item with id "${EXTENSION_ID}.*" and no OpenCode view yet`;
  let busyStatus = '';
  let needsStatus = '';
  const quiet = foreignOpencode().length === 0;
  if (!quiet) t.diagnostic(`other OpenCode processes run on this machine (${foreignOpencode().join(', ')}): counts are checked as "at least"`);

  await step('(b) the OpenCode view lists both instances and their sessions', uiSkip, async () => {
    await wb.openViewContainer(ui.container!.title);
    await wb.tree(viewName).waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    for (const s of [alpha, beta]) await wb.findRow(viewName, instanceRow(s), `instance row of ${s.url}`, { expand: () => false });
    for (const s of Object.values(sessions)) await wb.findRow(viewName, sessionRow(s.title), `session row "${s.title}"`, { expand: isInstance });
    await shot('tree-idle');
  });

  if (!uiSkip) {
    await promptAsync(alpha, sessions.sleeperA.id, `scenario:sleep ${SLEEP_S}`);
    await promptAsync(beta, sessions.sleeperB.id, `scenario:todos+sleep ${SLEEP_S + 2}`);
  }
  await step(`(c) a busy session shows its running tool "bash: sleep ${SLEEP_S}"`, uiSkip, async () => {
    const a = await sessionShows(sessions.sleeperA.title, EXPECT.runningTool(SLEEP_S));
    assert.ok(a.some((r) => looks(r, EXPECT.busy)), `"${sessions.sleeperA.title}" does not look busy: ${JSON.stringify(a)}`);
    await sessionShows(sessions.sleeperB.title, EXPECT.busy);
    await page.mouse.move(700, 400);
    await shot('tree-busy');
    passed.add('tree-busy');
  });

  await step('(f) the status bar counts the busy sessions', await statusSkip(), async () => {
    await statusItem.first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    busyStatus = await waitStatus('status bar showing 2 busy', (text) => countIn(text, 2));
    assert.match(await wb.hoverTooltip(statusItem.first()), EXPECT.tooltipBusy);
    await shot('statusbar-busy-tooltip');
    await page.mouse.move(700, 400);
  });

  // Needs-you phase: a permission and a question pending, nothing busy.
  if (!uiSkip) {
    await Promise.all([idle(sessions.sleeperA), idle(sessions.sleeperB)]);
    await promptAsync(alpha, sessions.permission.id, 'scenario:permission');
    await promptAsync(beta, sessions.question.id, 'scenario:question');
    await waitFor(async () => ((await pending(alpha, '/permission', sessions.permission.id)).length > 0 ? true : undefined), 30_000, 'permission pending');
    await waitFor(async () => ((await pending(beta, '/question', sessions.question.id)).length > 0 ? true : undefined), 30_000, 'question pending');
  }

  await step('(d) the pending permission shows as a row', uiSkip, async () => {
    const row = await actionRow(sessions.permission.title, EXPECT.permission);
    await actionRow(sessions.question.title, EXPECT.question);
    await wb.rowLocator(viewName, row).hover();
    await shot('permission-row');
    passed.add('permission-row');
  });

  await step('(f) the status bar counts the sessions that need you', await statusSkip(), async () => {
    needsStatus = await waitStatus('status bar showing 2 needing you', (text) => countIn(text, 2) && text !== busyStatus);
    assert.match(await wb.hoverTooltip(statusItem.first()), EXPECT.tooltipNeedsYou);
    await shot('statusbar-tooltip');
    passed.add('statusbar-tooltip');
    await page.mouse.move(700, 400);
  });

  const rowAction = async (cmd: UiCommand, title: string, want: RegExp): Promise<void> => {
    const row = await actionRow(title, want);
    if (cmd.onRow === 'inline') await wb.clickInlineAction(viewName, row, cmd.title);
    else if (cmd.onRow === 'context') await wb.clickContextMenu(viewName, row, cmd.title);
    else assert.fail(`"${cmd.palette}" is not offered on tree rows (contributes.menus["view/item/context"])`);
  };

  await step('(d) "Approve Once" on the permission row lets the session finish', uiSkip || (ui.approveOnce ? false : 'no "Approve … Once" command contributed'), async () => {
    await rowAction(ui.approveOnce!, sessions.permission.title, EXPECT.permission);
    await waitFor(async () => ((await pending(alpha, '/permission', sessions.permission.id)).length === 0 ? true : undefined), UI_TIMEOUT, 'GET /permission empty');
    await idle(sessions.permission);
  });

  await step('(e) "Answer" on the question row sends the first option', uiSkip || (ui.answer ? false : 'no "Answer…" command contributed'), async () => {
    await rowAction(ui.answer!, sessions.question.title, EXPECT.question);
    await wb.quickPickRows().first().waitFor({ state: 'visible', timeout: UI_TIMEOUT });
    await shot('question-quick-pick');
    assert.match(await wb.pick(QUESTION_OPTIONS[0]), new RegExp(QUESTION_OPTIONS[0]));
    await waitFor(async () => ((await pending(beta, '/question', sessions.question.id)).length === 0 ? true : undefined), UI_TIMEOUT, 'GET /question empty');
    await idle(sessions.question);
  });

  await step('(f) the status bar drops the count once nothing needs you', await statusSkip(), async () => {
    await waitStatus(`status bar to change from "${needsStatus}"`, (text) => text !== needsStatus && (!quiet || !hasCount(text, 2)));
    await shot('all-idle');
  });
  lap('UI steps done');

  // ---- in-host suite: development path + smoke-test driver ------------------------------------
  await t.test('in-host suite (test/vscode) passes in the extension development host', async (st) => {
    const report = path.join(root, 'in-host-report.txt');
    const host = await startCodeServer({
      tools,
      root: path.join(root, 'cs-host'),
      smokeTestDriver: true,
      marker: markers.host,
      env: { OCM_VSCODE_TEST_REPORT: report, OCM_E2E_LAB_URLS: `${alpha.url},${beta.url}` },
    });
    stops.push(() => host.stop());
    const hostPage = await context.newPage();
    let exit: (code: number) => void = () => undefined;
    const exited = new Promise<number>((resolve) => (exit = resolve));
    await hostPage.exposeFunction('codeAutomationExit', (code: number) => exit(code));
    await hostPage.goto(
      host.workbenchUrl(alpha.dir, [
        ['extensionDevelopmentPath', host.remoteUri(REPO_ROOT)],
        ['extensionTestsPath', host.remoteUri(testsIndex)],
      ]),
    );
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 120_000).unref())]);
    const text = fs.existsSync(report) ? fs.readFileSync(report, 'utf8') : '';
    for (const line of text.trimEnd().split('\n')) st.diagnostic(line);
    assert.notEqual(code, 'timeout', `the extension host never called codeAutomationExit\n${host.output().slice(-3000)}`);
    const count = (k: string): number => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.ok(count('pass') > 0, `no "# pass N" line with N > 0 in the in-host report:\n${text}`);
    assert.equal(count('fail'), 0, text);
    assert.equal(code, 0);
    await hostPage.close();
  });
  lap('in-host suite done');

  // ---- README screenshots and process hygiene -------------------------------------------------
  if (process.env.OCM_E2E_UPDATE_SCREENSHOTS === '1') {
    const media = path.join(REPO_ROOT, 'media', 'screenshots');
    fs.mkdirSync(media, { recursive: true });
    for (const file of fs.readdirSync(SCREENSHOTS)) {
      const name = Object.keys(README_SHOTS).find((k) => file.endsWith(`-${k}.png`));
      if (!name || !passed.has(name)) continue;
      if (tainted.has(name)) t.diagnostic(`${file} not copied to the README: other OpenCode processes were visible`);
      else fs.copyFileSync(path.join(SCREENSHOTS, file), path.join(media, README_SHOTS[name]!));
    }
  }

  await t.test('everything started is stopped by PID / process group', async () => {
    const labPids = lab.knownPids();
    await cleanup();
    assertNoLeftovers([...labPids, ...Object.values(markers).flatMap(markedProcesses)]);
  });
  lap('total');
});
