/**
 * Playwright helpers for the VS Code web workbench (1.139): command palette, tree views read as
 * plain row snapshots, inline/context-menu actions, quick picks, status bar, notifications and
 * screenshots. Selectors follow /work/shared/docs/vscode-e2e.md.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { waitFor } from '../harness/opencodeLab';
import type { E2eTools } from './tools';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const VIEWPORT = { width: 1280, height: 800 };

/**
 * Chromium (Debian) through playwright-core with a fresh profile in `dir`; its XDG dirs point
 * there too (crash reports, dconf), and `marker` goes into its environment.
 */
export async function launchBrowser(tools: E2eTools, dir: string, marker: string): Promise<BrowserContext> {
  const { chromium } = require('playwright-core') as typeof import('playwright-core');
  return chromium.launchPersistentContext(path.join(dir, 'profile'), {
    executablePath: tools.chromium,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: VIEWPORT,
    env: { ...process.env, XDG_CONFIG_HOME: path.join(dir, 'config'), XDG_CACHE_HOME: path.join(dir, 'cache'), OCM_E2E_RUN: marker },
  });
}

/** One tree row as rendered (only visible rows exist: the list is virtualised). */
export interface TreeRow {
  index: number;
  level: number;
  /** undefined = not collapsible */
  expanded?: boolean;
  label: string;
  description: string;
  /** The row's aria-label: the tooltip when the item has one. */
  aria: string;
  /** Class names of the row's icons (codicon-…, theme icons). */
  icons: string;
}

export function rowText(r: TreeRow): string {
  return `${r.label} ${r.description} ${r.aria}`;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Workbench {
  private shots = 0;

  constructor(
    readonly page: Page,
    readonly screenshotDir: string,
  ) {
    fs.mkdirSync(screenshotDir, { recursive: true });
  }

  async open(url: string): Promise<void> {
    await this.page.goto(url);
    await this.page.locator('.monaco-workbench .part.statusbar').waitFor({ state: 'visible', timeout: 60_000 });
    await this.page.locator('.monaco-workbench .part.activitybar').waitFor({ state: 'visible', timeout: 30_000 });
  }

  /** Saves `<NN>-<name>.png` and returns its path. */
  /** `clip`: only that part of the window (README shots: the sidebar and the status bar items). */
  async screenshot(name: string, clip?: { x: number; y: number; width: number; height: number }): Promise<string> {
    const file = path.join(this.screenshotDir, `${String(++this.shots).padStart(2, '0')}-${name}.png`);
    await this.page.screenshot({ path: file, ...(clip ? { clip } : {}) });
    return file;
  }

  /** F1, `>title`, wait for the row of that command, click it. */
  async runCommand(title: string, timeoutMs = 20_000): Promise<void> {
    const widget = this.page.locator('.quick-input-widget');
    const input = widget.locator('input.input');
    const row = widget.locator('.monaco-list-row', { hasText: new RegExp(`^${escapeRegExp(title)}`) }).first();
    await waitFor(
      async () => {
        // Reopen each time: the palette lists the commands known when it opened.
        if (await input.isVisible()) await this.page.keyboard.press('Escape');
        await this.page.keyboard.press('F1');
        await input.waitFor({ state: 'visible', timeout: 5000 });
        await input.fill(`>${title}`);
        // Commands of an extension appear once its host has registered them: retype until they do.
        await row.waitFor({ state: 'visible', timeout: 2000 });
        return true;
      },
      timeoutMs,
      `command "${title}" in the palette`,
      200,
    );
    await row.click();
    await widget.waitFor({ state: 'hidden', timeout: 5000 }).catch(() => undefined);
  }

  // --- panel and notifications -----------------------------------------------------------------

  panel(): Locator {
    return this.page.locator('.monaco-workbench .part.panel');
  }

  async hidePanel(): Promise<void> {
    if (await this.panel().isVisible()) await this.runCommand('View: Hide Panel');
  }

  toasts(): Locator {
    return this.page.locator('.notifications-toasts .notification-toast');
  }

  async clearNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  // --- views ---------------------------------------------------------------------------------------

  /** Clicks the activity-bar entry of a view container (falls back to View: Show <title>). */
  async openViewContainer(title: string): Promise<void> {
    const tab = this.page.locator('.part.activitybar').getByRole('tab', { name: new RegExp(`^${escapeRegExp(title)}`) });
    if (await tab.isVisible()) {
      // Clicking an already active container would close the side bar.
      if ((await tab.getAttribute('aria-selected')) !== 'true') await tab.click();
    } else {
      await this.runCommand(`View: Show ${title}`);
    }
  }

  /** Drags the sash at the side bar's right edge so the side bar is `width` px wide. */
  async setSidebarWidth(width: number): Promise<void> {
    const box = await this.page.locator('.monaco-workbench .part.sidebar').boundingBox();
    if (!box) return;
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + width, y, { steps: 5 });
    await this.page.mouse.up();
    await this.page.mouse.move(box.x + width + 300, y);
  }

  tree(viewName: string): Locator {
    return this.page.getByRole('tree', { name: viewName });
  }

  async rows(viewName: string): Promise<TreeRow[]> {
    return this.tree(viewName)
      .locator('.monaco-list-row')
      .evaluateAll((els) =>
        els.map((el) => {
          const text = (sel: string): string => el.querySelector(sel)?.textContent?.trim() ?? '';
          const expanded = el.getAttribute('aria-expanded');
          const icons = [...el.querySelectorAll('.codicon, [class*="icon"]')].map((i) => i.className).join(' ');
          return {
            index: Number(el.getAttribute('data-index')),
            level: Number(el.getAttribute('aria-level') ?? '1'),
            expanded: expanded === null ? undefined : expanded === 'true',
            label: text('.label-name'),
            description: text('.label-description'),
            aria: el.getAttribute('aria-label') ?? '',
            icons,
          };
        }),
      );
  }

  rowLocator(viewName: string, row: TreeRow): Locator {
    return this.tree(viewName).locator(`.monaco-list-row[data-index="${row.index}"]`);
  }

  /** Scrolls a tree view to its last row (rows out of view are not in the DOM). */
  async scrollTreeToEnd(viewName: string): Promise<void> {
    await this.tree(viewName).hover();
    await this.page.mouse.wheel(0, 20_000);
  }

  /** Whether a row's description is shown whole: not cut by the row's edge (narrow sidebar). */
  async descriptionShown(viewName: string, row: TreeRow): Promise<boolean> {
    return this.rowLocator(viewName, row).evaluate((el) => {
      const d = el.querySelector('.label-description')?.getBoundingClientRect();
      const c = el.querySelector('.monaco-icon-label-container')?.getBoundingClientRect();
      const list = el.closest('.monaco-list')?.getBoundingClientRect();
      if (!d || !c || d.width === 0) return false;
      return d.right <= Math.min(c.right, list?.right ?? Infinity) + 1;
    });
  }

  /** The aria-labels of a row's inline actions (hovered, so that they show). */
  async inlineActions(viewName: string, row: TreeRow): Promise<string[]> {
    const loc = this.rowLocator(viewName, row);
    await loc.hover();
    return loc.locator('.actions .action-label').evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? ''));
  }

  /** Clicks a row's inline action (hover reveals it); the button's aria-label starts with `title`. */
  async clickInlineAction(viewName: string, row: TreeRow, title: string): Promise<void> {
    const loc = this.rowLocator(viewName, row);
    await loc.hover();
    await loc.locator(`.actions .action-label[aria-label^="${title.replace(/"/g, '\\"')}"]`).click({ timeout: 5000 });
  }

  /** Right-click → context menu item whose label starts with `title`. */
  async clickContextMenu(viewName: string, row: TreeRow, title: string): Promise<void> {
    await this.rowLocator(viewName, row).click({ button: 'right' });
    const item = this.page.getByRole('menuitem', { name: new RegExp(`^${escapeRegExp(title)}`) }).first();
    await item.click({ timeout: 5000 });
    // A tree refresh under the open menu can swallow the click (the menu stays open, the item
    // highlighted): then the keyboard runs the highlighted item.
    if (!(await item.waitFor({ state: 'hidden', timeout: 1500 }).then(() => true, () => false))) {
      await item.hover();
      await this.page.keyboard.press('Enter');
      await item.waitFor({ state: 'hidden', timeout: 5000 });
    }
  }

  // --- quick pick ----------------------------------------------------------------------------------

  quickPickRows(): Locator {
    return this.page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  }

  /** Picks the quick-pick row containing `text`, else the first row. Returns the picked row's text. */
  async pick(text?: string): Promise<string> {
    const rows = this.quickPickRows();
    await rows.first().waitFor({ state: 'visible', timeout: 10_000 });
    const target = text && (await rows.filter({ hasText: text }).count()) > 0 ? rows.filter({ hasText: text }).first() : rows.first();
    const picked = (await target.innerText()).replace(/\s+/g, ' ').trim();
    await target.click();
    return picked;
  }

  // --- status bar ----------------------------------------------------------------------------------

  /** Status bar items of an extension: id="<publisher>.<name>.<itemId>" (quoted: ids contain dots). */
  statusItems(extensionId: string): Locator {
    return this.page.locator(`.part.statusbar .statusbar-item[id^="${extensionId}"]`);
  }

  /** Visible text and aria-label of each item of the extension. */
  async statusTexts(extensionId: string): Promise<string[]> {
    return this.statusItems(extensionId).evaluateAll((els) =>
      els.map((el) => `${el.textContent?.trim() ?? ''} ${el.querySelector('[aria-label]')?.getAttribute('aria-label') ?? el.getAttribute('aria-label') ?? ''}`.trim()),
    );
  }

  /** Hovers a status item and returns the tooltip's text (the hover stays up for a screenshot). */
  async hoverTooltip(item: Locator): Promise<string> {
    await this.page.mouse.move(0, 0);
    await item.hover();
    const hover = this.page.locator('.workbench-hover, .monaco-hover').filter({ visible: true }).last();
    await hover.waitFor({ state: 'visible', timeout: 10_000 });
    return (await hover.innerText()).trim();
  }
}
