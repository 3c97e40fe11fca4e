/**
 * What the e2e expects of the extension's UI, in one place. Parts that package.json declares
 * (view container, tree view, commands, menus) are read from it, so a UI step is skipped, with
 * the reason, until the manifest contributes what it needs; from then on it is asserted.
 */

export const EXTENSION_ID = 'opencode-monitor.opencode-monitor';
export const OUTPUT_CHANNEL = 'OpenCode Monitor';

interface ManifestCommand {
  command: string;
  title: string;
  category?: string;
}

interface MenuEntry {
  command: string;
  group?: string;
  when?: string;
}

export interface Manifest {
  contributes?: {
    commands?: ManifestCommand[];
    viewsContainers?: { activitybar?: Array<{ id: string; title: string }> };
    views?: Record<string, Array<{ id: string; name: string; type?: string }>>;
    menus?: Record<string, MenuEntry[]>;
  };
}

export interface UiCommand {
  id: string;
  /** As the palette shows it: "Category: Title". */
  palette: string;
  /** As menus and inline buttons show it. */
  title: string;
  /** How a tree row offers it: inline button (group "inline"), context menu, or not at all. */
  onRow: 'inline' | 'context' | 'none';
}

export interface UiSpec {
  container?: { id: string; title: string };
  view?: { id: string; name: string };
  showLog?: UiCommand;
  probeServer?: UiCommand;
  refresh?: UiCommand;
  approveOnce?: UiCommand;
  answer?: UiCommand;
}

/** How commands are recognised: by id for today's, by title for the coming ones. */
const COMMANDS: Record<Exclude<keyof UiSpec, 'container' | 'view'>, (c: ManifestCommand) => boolean> = {
  showLog: (c) => c.command === 'opencodeMonitor.showLog',
  probeServer: (c) => c.command === 'opencodeMonitor.probeServer',
  refresh: (c) => /^refresh\b/i.test(c.title),
  approveOnce: (c) => /^approve\b.*\bonce\b/i.test(c.title),
  answer: (c) => /^answer\b/i.test(c.title),
};

/** package.json as VS Code shows it: `%key%` placeholders replaced from package.nls.json. */
export function localizeManifest<T>(value: T, nls: Record<string, string>): T {
  if (typeof value === 'string') {
    const key = /^%([^%]+)%$/.exec(value)?.[1];
    return (key !== undefined && key in nls ? nls[key] : value) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => localizeManifest(v, nls)) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, localizeManifest(v, nls)])) as T;
  return value;
}

export function readUiSpec(manifest: Manifest): UiSpec {
  const contributes = manifest.contributes ?? {};
  const spec: UiSpec = {};
  spec.container = contributes.viewsContainers?.activitybar?.find((c) => /opencode/i.test(c.title));
  if (spec.container) {
    const view = contributes.views?.[spec.container.id]?.find((v) => v.type === undefined || v.type === 'tree');
    if (view) spec.view = { id: view.id, name: view.name };
  }
  const rowMenu = contributes.menus?.['view/item/context'] ?? [];
  for (const [key, match] of Object.entries(COMMANDS) as Array<[keyof typeof COMMANDS, (c: ManifestCommand) => boolean]>) {
    const c = contributes.commands?.find(match);
    if (!c) continue;
    const entries = rowMenu.filter((m) => m.command === c.command);
    // Menu groups may carry an order: "inline@1".
    const onRow = entries.some((m) => m.group?.split('@')[0] === 'inline') ? 'inline' : entries.length > 0 ? 'context' : 'none';
    spec[key] = { id: c.command, title: c.title, palette: c.category ? `${c.category}: ${c.title}` : c.title, onRow };
  }
  return spec;
}

/** Row and status-bar expectations (see the report in test/e2e/README.md). */
export const EXPECT = {
  /** A session row shows the running tool, e.g. "bash: sleep 8" (label, description or tooltip). */
  runningTool: (seconds: number) => new RegExp(`(bash:?\\s*)?sleep ${seconds}\\b`),
  /** A busy session row says so in its text/tooltip or with a spinning/loading icon. */
  busy: /\bbusy\b|\brunning\b|\bworking\b|codicon-(loading|sync|gear)/i,
  /** The row of a pending permission (the fake model asks to run `rm -f lab-permission-probe.txt`). */
  permission: /permission|approv|rm -f lab-permission-probe\.txt/i,
  /** The row of a pending question ("Which database should the cache use?", header "Database"). */
  question: /question|which database|\bdatabase\b|answer/i,
  /** Status bar tooltip while sessions are busy. */
  tooltipBusy: /\bbusy\b|\brunning\b|\bworking\b/i,
  /** Sessions item tooltip while sessions wait for the user (its text leads with "$(bell) N waiting"). */
  tooltipNeedsYou: /needs? you|waiting|permission|question|approval|input/i,
};

/**
 * True when `text` contains `n` as a whole number ("2 busy  🔔 1" contains 2 and 1), or with
 * `atLeast` some number >= n (other OpenCode processes on the machine add to the counts).
 */
export function hasCount(text: string, n: number, atLeast = false): boolean {
  const numbers = (text.match(/\d+/g) ?? []).map(Number);
  return numbers.some((x) => (atLeast ? x >= n : x === n));
}
