/**
 * The Insights webview script (bundled by esbuild into dist/insights.js with uPlot; its CSS into
 * dist/insights.css). It owns what is shown (tab, window, search, trace, security filters, kept
 * with the webview state), asks the extension for data, and re-renders a section only when its
 * HTML changed: a refresh after a DB commit keeps scroll, focus and the chart (setData).
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './insights.css';
import type { Overview } from '../../../core/history/types';
import type { AuditReport } from '../../../core/audit/historyAudit';
import { html } from './html';
import type { Html } from './html';
import type { InsightsTab, LoadRequest, LoadResult, Since, ToHost, ToWebview } from '../protocol';
import { INSIGHTS_TABS, isSince, isTab, SINCE_CHOICES } from '../protocol';
import { renderError, renderOverview, renderSecurity, renderSessions, renderTools, renderTrace, totalTokens, fmtCost } from './render';
import { fmtTokens } from '../../../core/present/numbers';
import type { KindFilter, SecurityFilter } from './render';

interface VsCodeApi {
  postMessage(message: ToHost): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface State {
  tab: InsightsTab;
  since: Since;
  search: string;
  traceId: string;
  filter: SecurityFilter;
}

const vscode = acquireVsCodeApi();
const saved = (vscode.getState() ?? {}) as Partial<State>;
const state: State = {
  tab: isTab(saved.tab) ? saved.tab : 'overview',
  since: isSince(saved.since) ? saved.since : '7d',
  search: typeof saved.search === 'string' ? saved.search : '',
  traceId: typeof saved.traceId === 'string' ? saved.traceId : '',
  filter: { minLevel: 'medium', kind: 'all', text: '', ...(saved.filter ?? {}) },
};

const TAB_LABELS: Record<InsightsTab, string> = { overview: 'Overview', tools: 'Tools', sessions: 'Sessions', trace: 'Trace', security: 'Security' };

// ── shell (built once) ───────────────────────────────────────────────────────────────────────

const app = document.getElementById('app')!;
app.innerHTML = html`<header>
    <h1>OpenCode Insights</h1>
    <div role="tablist" aria-label="Insights">${INSIGHTS_TABS.map((t) => html`<button role="tab" id="tabbtn-${t}" data-tab="${t}" aria-controls="tab-${t}">${TAB_LABELS[t]}</button>`)}</div>
    <label class="since">Window <select id="since">${SINCE_CHOICES.map((s) => html`<option value="${s}">${s === 'all' ? 'all history' : `last ${s}`}</option>`)}</select></label>
  </header>
  <div id="status" class="status" role="status"></div>
  <main>
    <section id="tab-overview" role="tabpanel" aria-labelledby="tabbtn-overview"><div class="body"></div></section>
    <section id="tab-tools" role="tabpanel" aria-labelledby="tabbtn-tools"><div class="body"></div></section>
    <section id="tab-sessions" role="tabpanel" aria-labelledby="tabbtn-sessions">
      <input id="search" type="search" placeholder="Search titles and folders" aria-label="Search sessions" maxlength="200">
      <div class="body"></div>
    </section>
    <section id="tab-trace" role="tabpanel" aria-labelledby="tabbtn-trace"><div class="body"><p class="empty">Pick a session in Sessions, or use “Show Trace” on a session in the OpenCode view.</p></div></section>
    <section id="tab-security" role="tabpanel" aria-labelledby="tabbtn-security">
      <div class="filters">
        <label>At least <select id="f-level">${(['low', 'medium', 'high', 'critical'] as const).map((l) => html`<option value="${l}">${l}</option>`)}</select></label>
        <label>Kind <select id="f-kind">${(
          [
            ['all', 'everything'],
            ['bash', 'commands'],
            ['file', 'file operations'],
            ['fetch', 'fetches'],
            ['sequence', 'sequences'],
          ] as const
        ).map(([v, l]) => html`<option value="${v}">${l}</option>`)}</select></label>
        <input id="f-text" type="search" placeholder="Filter by command, file, reason, technique" aria-label="Filter findings" maxlength="200">
      </div>
      <div class="body"></div>
    </section>
  </main>`.text;

const $ = <T extends HTMLElement>(selector: string): T => app.querySelector(selector) as T;
const body = (tab: InsightsTab): HTMLElement => $(`#tab-${tab} .body`);
const sinceSelect = $<HTMLSelectElement>('#since');
const search = $<HTMLInputElement>('#search');
const fLevel = $<HTMLSelectElement>('#f-level');
const fKind = $<HTMLSelectElement>('#f-kind');
const fText = $<HTMLInputElement>('#f-text');
sinceSelect.value = state.since;
search.value = state.search;
fLevel.value = state.filter.minLevel;
fKind.value = state.filter.kind;
fText.value = state.filter.text;

// ── requests ─────────────────────────────────────────────────────────────────────────────────

let seq = 0;
/** Latest request per tab: older answers are dropped. */
const latest = new Map<InsightsTab, number>();
/** The request key each tab shows, to know when it is stale. */
const shown = new Map<InsightsTab, string>();
const errors = new Map<InsightsTab, string>();
let lastAudit: AuditReport | undefined;
let sessionsOffset = 0;

function requestFor(tab: InsightsTab): LoadRequest | undefined {
  switch (tab) {
    case 'overview':
    case 'tools':
    case 'security':
      return { view: tab, since: state.since };
    case 'sessions':
      return { view: 'sessions', since: state.since, search: state.search, offset: sessionsOffset };
    case 'trace':
      return state.traceId ? { view: 'trace', sessionId: state.traceId } : undefined;
  }
}

function load(tab: InsightsTab, quiet = false): void {
  const request = requestFor(tab);
  if (!request) return;
  const key = JSON.stringify(request);
  if (!quiet && shown.get(tab) === key) return;
  const id = ++seq;
  latest.set(tab, id);
  if (!quiet) setStatus(tab, shown.has(tab) ? 'Updating…' : 'Loading…', 'busy');
  vscode.postMessage({ type: 'load', seq: id, request });
  shown.set(tab, key);
}

function setStatus(tab: InsightsTab, text: string | Html, kind: 'busy' | 'error' | 'info' | '' = ''): void {
  if (tab !== state.tab) return;
  const el = $('#status');
  el.className = `status ${kind}`;
  const markup = typeof text === 'string' ? html`${text}`.text : text.text;
  if (el.innerHTML !== markup) el.innerHTML = markup;
}

/** Replaces a section's markup only when it changed (no flicker, scroll and focus kept). */
function setBody(tab: InsightsTab, markup: Html): boolean {
  const el = body(tab);
  if (el.dataset.markup === markup.text) return false;
  el.dataset.markup = markup.text;
  el.innerHTML = markup.text;
  // Sizes through the CSSOM (the CSP allows no style attributes).
  el.querySelectorAll<HTMLElement>('[data-w]').forEach((b) => (b.style.width = `${b.dataset.w}%`));
  el.querySelectorAll<HTMLElement>('[data-x]').forEach((b) => (b.style.marginLeft = `${b.dataset.x}%`));
  el.querySelectorAll<HTMLElement>('[data-depth]').forEach((b) => (b.style.width = `${Number(b.dataset.depth) * 1.2}em`));
  return true;
}

function onResult(id: number, result: LoadResult, ms: number): void {
  const tab: InsightsTab = result.view;
  if (latest.get(tab) !== id) return;
  errors.delete(tab);
  switch (result.view) {
    case 'overview':
      setBody('overview', renderOverview(result.data));
      drawDayChart(result.data);
      break;
    case 'tools':
      setBody('tools', renderTools(result.data));
      break;
    case 'sessions':
      setBody('sessions', renderSessions(result.data, state.search));
      break;
    case 'trace':
      setBody('trace', renderTrace(result.data));
      break;
    case 'security':
      lastAudit = result.data;
      renderSecurityBody();
      break;
  }
  setStatus(tab, `Updated ${new Date().toLocaleTimeString()} · ${ms} ms`, 'info');
}

function renderSecurityBody(): void {
  if (lastAudit) setBody('security', renderSecurity(lastAudit, state.filter));
}

function onError(id: number, tab: InsightsTab, message: string): void {
  if (latest.get(tab) !== id) return;
  errors.set(tab, message);
  // The last good content stays; the reason is one line above it.
  shown.delete(tab);
  setStatus(tab, renderError(message), 'error');
  if (!body(tab).dataset.markup) setBody(tab, html`<p class="empty">Nothing to show.</p>`);
}

// ── the day chart ────────────────────────────────────────────────────────────────────────────

let chart: uPlot | undefined;
let chartData: uPlot.AlignedData | undefined;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** Every local day of the window (days without replies as 0), so the axis spans the window. */
function dayData(o: Overview): uPlot.AlignedData {
  const byDay = new Map(o.byDay.map((d) => [d.day, d]));
  const dayStart = (t: number): Date => {
    const d = new Date(t);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate());
  };
  const parse = (key: string): Date => {
    const [y, m, day] = key.split('-').map(Number);
    return new Date(y!, m! - 1, day!);
  };
  const keyOf = (d: Date): string => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  const firstData = o.byDay[0] ? parse(o.byDay[0].day) : dayStart(Date.now());
  const lastData = o.byDay.length ? parse(o.byDay[o.byDay.length - 1]!.day) : dayStart(Date.now());
  const first = o.window.since !== null ? dayStart(o.window.since) : firstData;
  const last = new Date(Math.max(dayStart(Date.now()).getTime(), lastData.getTime()));
  const xs: number[] = [];
  const tokens: number[] = [];
  const cost: number[] = [];
  // At most ~11 years of days (the longest window); local days, DST-safe (calendar steps).
  for (let d = first; d.getTime() <= last.getTime() && xs.length < 4100; d = new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1)) {
    const row = byDay.get(keyOf(d));
    xs.push(d.getTime() / 1000);
    tokens.push(row ? totalTokens(row.tokens) : 0);
    cost.push(row ? row.cost : 0);
  }
  return [xs, tokens, cost];
}

function dayLabel(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
}

function chartOptions(width: number): uPlot.Options {
  const fg = cssVar('--vscode-foreground', '#ccc');
  const grid = cssVar('--vscode-editorWidget-border', 'rgba(128,128,128,0.3)');
  const blue = cssVar('--vscode-charts-blue', '#3794ff');
  const orange = cssVar('--vscode-charts-orange', '#d18616');
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  return {
    width,
    height: 220,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    // Half a day either side: the first and last bars are whole.
    scales: { x: { time: true, range: (_u, min, max) => [min - 43_200, max + 43_200] }, tok: { auto: true, range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] }, usd: { auto: true, range: (_u, _min, max) => [0, Math.max(0.01, max) * 1.1] } },
    series: [
      { label: 'Day', value: (_u, v) => (v === null ? '–' : dayLabel(v)) },
      { label: 'Tokens', scale: 'tok', stroke: blue, fill: blue + '99', width: 1, paths: uPlot.paths.bars!({ size: [0.6, 48] }), points: { show: false }, value: (_u, v) => (v === null ? '–' : fmtTokens(v)) },
      { label: 'Cost', scale: 'usd', stroke: orange, width: 2, points: { show: true, size: 5, fill: orange }, value: (_u, v) => (v === null ? '–' : fmtCost(v)) },
    ],
    axes: [
      { ...axis, incrs: [86_400, 2 * 86_400, 7 * 86_400, 14 * 86_400, 30 * 86_400], values: (_u, ticks) => ticks.map((t) => dayLabel(t)) },
      { ...axis, scale: 'tok', values: (_u, ticks) => ticks.map((v) => fmtTokens(v)), size: 56 },
      { ...axis, scale: 'usd', side: 1, grid: { show: false }, values: (_u, ticks) => ticks.map((v) => fmtCost(v)), size: 64 },
    ],
  };
}

function drawDayChart(o: Overview): void {
  const host = document.getElementById('day-chart');
  if (!host) {
    chart?.destroy();
    chart = undefined;
    return;
  }
  chartData = dayData(o);
  // Same container (the section's markup did not change): new data only, no redraw of the frame.
  if (chart && host.contains(chart.root)) {
    chart.setData(chartData);
    return;
  }
  chart?.destroy();
  chart = new uPlot(chartOptions(Math.max(300, host.clientWidth || 600)), chartData, host);
}

new ResizeObserver(() => {
  const host = document.getElementById('day-chart');
  if (chart && host && host.clientWidth > 0) chart.setSize({ width: host.clientWidth, height: 220 });
}).observe(app);

// Theme switch: VS Code changes the body class; canvas colours are read again.
new MutationObserver(() => {
  const host = document.getElementById('day-chart');
  if (!chart || !host || !chartData) return;
  chart.destroy();
  chart = new uPlot(chartOptions(Math.max(300, host.clientWidth || 600)), chartData, host);
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });

// ── interaction ──────────────────────────────────────────────────────────────────────────────

function save(): void {
  vscode.setState(state);
}

function selectTab(tab: InsightsTab): void {
  state.tab = tab;
  save();
  for (const t of INSIGHTS_TABS) {
    const selected = t === tab;
    const button = $(`#tabbtn-${t}`);
    button.setAttribute('aria-selected', String(selected));
    button.tabIndex = selected ? 0 : -1;
    $(`#tab-${t}`).hidden = !selected;
  }
  const error = errors.get(tab);
  if (error) setStatus(tab, renderError(error), 'error');
  else setStatus(tab, '');
  load(tab);
}

function showTrace(id: string): void {
  if (!/^[\w-]{1,100}$/.test(id)) return;
  state.traceId = id;
  selectTab('trace');
}

app.addEventListener('click', (e) => {
  const target = e.target as HTMLElement;
  const tab = target.closest<HTMLElement>('[data-tab]')?.dataset.tab;
  if (isTab(tab)) return selectTab(tab);
  const trace = target.closest<HTMLElement>('[data-trace]')?.dataset.trace;
  if (trace) return showTrace(trace);
  const page = target.closest<HTMLElement>('button.page');
  if (page) {
    sessionsOffset = Number(page.dataset.offset) || 0;
    load('sessions');
  }
});

app.addEventListener('keydown', (e) => {
  const tab = (e.target as HTMLElement).dataset?.tab;
  if (!isTab(tab) || (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft')) return;
  const i = INSIGHTS_TABS.indexOf(tab);
  const next = INSIGHTS_TABS[(i + (e.key === 'ArrowRight' ? 1 : INSIGHTS_TABS.length - 1)) % INSIGHTS_TABS.length]!;
  selectTab(next);
  $(`#tabbtn-${next}`).focus();
});

sinceSelect.addEventListener('change', () => {
  if (!isSince(sinceSelect.value)) return;
  state.since = sinceSelect.value;
  sessionsOffset = 0;
  save();
  load(state.tab);
});

let searchTimer: ReturnType<typeof setTimeout> | undefined;
search.addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => {
    state.search = search.value.slice(0, 200);
    sessionsOffset = 0;
    save();
    load('sessions');
  }, 250);
});

const onFilter = (): void => {
  state.filter = { minLevel: fLevel.value as SecurityFilter['minLevel'], kind: fKind.value as KindFilter, text: fText.value.slice(0, 200) };
  save();
  renderSecurityBody();
};
fLevel.addEventListener('change', onFilter);
fKind.addEventListener('change', onFilter);
fText.addEventListener('input', onFilter);

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const m = event.data;
  switch (m?.type) {
    case 'result':
      onResult(m.seq, m.result, m.ms);
      break;
    case 'error':
      onError(m.seq, m.view, m.message);
      break;
    case 'changed':
      // What is shown reloads quietly; the other tabs when next opened.
      for (const t of INSIGHTS_TABS) if (t !== state.tab) shown.delete(t);
      load(state.tab, true);
      break;
    case 'showTrace':
      showTrace(m.sessionId);
      break;
  }
});

selectTab(state.tab);
vscode.postMessage({ type: 'ready' });
