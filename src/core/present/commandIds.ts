/**
 * Every command id of the extension, in one place. The package.json `contributes.commands`
 * entries carry the titles; the view and status-bar ids live here too, so pure presentation code
 * can name them without importing `vscode`.
 */
export const CommandId = {
  // ── User facing (command palette) ──
  refresh: 'opencodeMonitor.refresh',
  focusTerminal: 'opencodeMonitor.focusTerminal',
  nextNeedingMe: 'opencodeMonitor.nextNeedingMe',
  approveOnce: 'opencodeMonitor.approveOnce',
  approveAlways: 'opencodeMonitor.approveAlways',
  rejectPermission: 'opencodeMonitor.rejectPermission',
  answerQuestion: 'opencodeMonitor.answerQuestion',
  dismissQuestion: 'opencodeMonitor.dismissQuestion',
  abortSession: 'opencodeMonitor.abortSession',
  attachInTerminal: 'opencodeMonitor.attachInTerminal',
  setServerPassword: 'opencodeMonitor.setServerPassword',
  showLog: 'opencodeMonitor.showLog',
  openSettings: 'opencodeMonitor.openSettings',
  probeServer: 'opencodeMonitor.probeServer',
  startServer: 'opencodeMonitor.startServer',
  openInTerminal: 'opencodeMonitor.openInTerminal',
  stopServer: 'opencodeMonitor.stopServer',
  restartServer: 'opencodeMonitor.restartServer',
  showServerLog: 'opencodeMonitor.showServerLog',
  newServerTerminal: 'opencodeMonitor.newServerTerminal',
  openWalkthrough: 'opencodeMonitor.openWalkthrough',
  showInsights: 'opencodeMonitor.showInsights',
  showTrace: 'opencodeMonitor.showTrace',
  // ── Tree only (hidden from the palette) ──
  copySessionId: 'opencodeMonitor.copySessionId',
  labelSession: 'opencodeMonitor.labelSession',
  showWorkspaceSessions: 'opencodeMonitor.showWorkspaceSessions',
  showAllSessions: 'opencodeMonitor.showAllSessions',
} as const;

export type CommandId = (typeof CommandId)[keyof typeof CommandId];

export const VIEW_CONTAINER_ID = 'opencodeMonitor';
export const SESSIONS_VIEW_ID = 'opencodeMonitor.sessions';
export const STATUS_BAR_ITEM_ID = 'opencodeMonitor.status';
export const USAGE_STATUS_BAR_ITEM_ID = 'opencodeMonitor.usage';
/** `contributes.walkthroughs[].id` in package.json. */
export const WALKTHROUGH_ID = 'gettingStarted';

/** Context keys used in `when` clauses of package.json. */
export const ContextKey = {
  /** `starting` | `empty` | `ready` | `error`: picks the welcome content of the view. */
  state: 'opencodeMonitor.state',
  needsYou: 'opencodeMonitor.needsYou',
  permissionsPending: 'opencodeMonitor.permissionsPending',
  questionsPending: 'opencodeMonitor.questionsPending',
  busy: 'opencodeMonitor.busy',
  /** Some server started by this extension exists (running, starting or crashed). */
  managedServers: 'opencodeMonitor.managedServers',
  /** `all` | `workspace`: the tree's "This workspace / All" filter. */
  scope: 'opencodeMonitor.scope',
} as const;
