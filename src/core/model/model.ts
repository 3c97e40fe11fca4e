/**
 * The monitor's own model: what every consumer (tree, status bar, CLI, legacy files) reads.
 * It is normalized from whatever the sources saw (live server, shared DB, …) and never holds
 * wire types, secrets or credentials.
 */

/** Which coding agent a source watches. Sources know it; the model only carries it. */
export type AgentKind = 'opencode' | 'claude';

export const AGENT_KINDS: readonly AgentKind[] = ['opencode', 'claude'];

/** How each agent is called in views. */
export const AGENT_NAMES: Record<AgentKind, string> = { opencode: 'OpenCode', claude: 'Claude Code' };

/** How an instance was found and what it is. */
export type InstanceKind =
  | 'serve' // `opencode serve`
  | 'web' // `opencode web`
  | 'tui' // the terminal UI (with or without a port)
  | 'endpoint' // a configured URL (remote, container, tunnel)
  | 'container' // a Docker container that runs OpenCode and publishes its port
  | 'unknown';

/** What a managed server (started by this monitor) is doing; see src/core/servers/types.ts. */
export interface ManagedInfo {
  /** The manager's id of the server: stable across its restarts. */
  serverId: string;
  state: 'stopped' | 'starting' | 'waitingReady' | 'running' | 'stopping' | 'crashed';
  folder: string;
  /** When the current process became ready (ms since epoch). */
  runningSince?: number;
  restarts: number;
  /** Crashed, and the restart policy starts it again soon. */
  restartPending?: boolean;
  lastError?: string;
  logFile?: string;
  passwordProtected: boolean;
}

export interface ContainerInfo {
  /** Short container id. */
  id: string;
  name: string;
  image: string;
  hostPort: number;
  containerPort: number;
}

export type ConnectionState =
  | 'connected' // live: event stream open, data fresh
  | 'connecting' // found, not (yet) answering or stream reconnecting
  | 'limited' // no port: sessions from the shared DB only
  | 'down'; // not answering / auth failed / process gone

/**
 * What is wrong with an instance, as a kind consumers switch on; `text` is for display only
 * (no consumer parses it).
 */
export type ProblemKind =
  | 'auth' // the server wants a password, or rejected the one given
  | 'unreachable' // refused, reset, DNS: nothing answers
  | 'timeout' // something answers, too slowly
  | 'unsupported' // not an OpenCode API we can use (missing routes, web page)
  | 'server' // an OpenCode API that answers with errors or malformed data
  | 'noPort' // a TUI without a port: only the shared DB tells its sessions
  | 'transition' // a managed server starting or stopping
  | 'stopped'; // a managed server that crashed or was stopped

export interface InstanceProblem {
  kind: ProblemKind;
  text: string;
}

export interface InstanceCapabilities {
  v1: boolean;
  v2: boolean;
  permissions: boolean;
  questions: boolean;
}

export interface InstanceModel {
  /**
   * Stable across rescans: `pid:<pid>` for a local process, `url:<base url>` for an endpoint,
   * `managed:<server id>` for a server this monitor started (across its restarts),
   * `container:<id>` for a Docker container.
   */
  id: string;
  /** A name to show instead of the folder (a container's name). */
  label?: string;
  agent: AgentKind;
  kind: InstanceKind;
  pid?: number;
  ppid?: number;
  port?: number;
  /** Base URL without credentials. */
  url?: string;
  /** Controlling terminal without `/dev/` (e.g. `pts/3`, `ttys003`). */
  tty?: string;
  /** The tmux pane it runs in, when the agent says so (Claude Code: `session:@window.%pane`). */
  tmuxPane?: string;
  cwd?: string;
  /** Folder of OpenCode's data (its `opencode.db`). */
  dataDir?: string;
  version?: string;
  connection: ConnectionState;
  /** What is wrong (when `down`, `limited`, or answering badly); switch on `problem.kind`. */
  problem?: InstanceProblem;
  /** `problem.text`, for display (kept for the CLI table and the legacy file). */
  error?: string;
  /** Why this instance cannot be watched live, and what to do about it. */
  hint?: string;
  capabilities?: InstanceCapabilities;
  /** Set when this monitor started the server and can stop or restart it. */
  managed?: ManagedInfo;
  container?: ContainerInfo;
  /** Ids of the sessions this instance owns (runs right now or last ran). */
  sessionIds: string[];
  /** When the monitor first saw it (ms since epoch). */
  firstSeen: number;
}

export type SessionStatus = 'busy' | 'idle' | 'retry';

export interface RetryInfo {
  attempt: number;
  message: string;
  /** When OpenCode tries again (ms since epoch). */
  next?: number;
}

export interface RunningTool {
  callID: string;
  name: string;
  /** A short human argument: the command, the file, the pattern, the sub-agent's task. */
  arg: string;
  startedAt?: number;
  /** For `task`: the child session it runs. */
  childSessionId?: string;
  /** The audit's risk of this call, when above none (issue 15). */
  risk?: RiskModel;
}

/**
 * The security audit's judgement of one live action (issue 15): the rules' own texts, never the
 * agent's. Present only when the score is above 0; views show medium and up, high and critical
 * stand out.
 */
export interface RiskModel {
  /** 0–100. */
  score: number;
  level: 'low' | 'medium' | 'high' | 'critical';
  /** Why, highest first (a sequence that this call completes comes first). */
  reasons: string[];
  /** MITRE ATT&CK technique ids (`T1059.004`), in the order of the reasons. */
  techniques: string[];
}

/** A critical action that ran without a permission prompt: one per session and its sub-agents. */
export interface RiskAlert extends RiskModel {
  /** The session (or sub-agent) that ran it. */
  sessionId: string;
  tool: string;
  /** The short argument (command, file, URL), as in RunningTool. */
  arg: string;
  callID: string;
  /** When the monitor saw it finish (ms since epoch). */
  at: number;
}

export interface TodoItem {
  content: string;
  status: string;
  priority?: string;
}

export interface TodoSummary {
  pending: number;
  inProgress: number;
  completed: number;
  total: number;
  currentLabel?: string;
  nextLabel?: string;
  items: TodoItem[];
}

export interface PermissionModel {
  id: string;
  sessionId: string;
  /** The permission asked for, e.g. `bash`, `edit`, `webfetch`. */
  permission: string;
  patterns: string[];
  /** What it wants to run, when it is a command. */
  command?: string;
  /** Patterns an "always" reply would allow from now on. */
  always: string[];
  callID?: string;
  askedAt: number;
  /** The audit's risk of what it asks for (with the sequence its call completes), when above none. */
  risk?: RiskModel;
}

export interface QuestionModel {
  id: string;
  sessionId: string;
  questions: Array<{
    question: string;
    header?: string;
    options: Array<{ label: string; description?: string }>;
    multiple?: boolean;
    custom?: boolean;
  }>;
  askedAt: number;
}

export interface TokenCounts {
  input: number;
  output: number;
  reasoning: number;
  cacheRead: number;
  cacheWrite: number;
}

export type AttentionReason = 'permission' | 'question' | 'heuristic';

export interface SessionModel {
  id: string;
  /** The instance whose live data this is (the owner when known). */
  instanceId: string;
  title: string;
  /** The user's label (labels file, shared by every process of the user), already cleaned. */
  label?: string;
  directory: string;
  parentId?: string;
  status: SessionStatus;
  retry?: RetryInfo;
  runningTools: RunningTool[];
  todos: TodoSummary;
  permissions: PermissionModel[];
  questions: QuestionModel[];
  needsAttention: boolean;
  attentionReason?: AttentionReason;
  /** Since when it has been waiting for the user (ms since epoch). */
  waitingSince?: number;
  /** What it waits for, in the agent's words (Claude Code: `permission prompt`). */
  waitingFor?: string;
  /** Git branch of its folder, when the agent records it (Claude Code transcripts). */
  gitBranch?: string;
  /** Last error reported for the session (model error, abort), cleared when it works again. */
  lastError?: string;
  /** On a root session: the first critical action it or a sub-agent ran without a permission prompt. */
  riskAlert?: RiskAlert;
  cost: number;
  tokens: TokenCounts;
  agentName?: string;
  modelId?: string;
  createdAt: number;
  updatedAt: number;
  /**
   * `live` from a server that runs it, `db` inferred from the shared DB (port-less TUI), `files`
   * read from the agent's own files (Claude Code). Only `live` sessions can be answered here.
   */
  source: 'live' | 'db' | 'files';
  /**
   * Its server stopped answering: what it does now is unknown. Its live state (busy, tools,
   * requests) is cleared so that it counts nowhere; views say "unknown".
   */
  stale?: true;
}

export interface UsageWindow {
  /** 0–100, as reported (may have decimals). */
  percent: number;
  /** ISO-8601 time the window resets, when known. */
  resetsAt?: string;
}

/**
 * Error codes follow the legacy usage file: `auth_not_found` (no credential source at all),
 * `token_not_found`, `token_expired` (also 401), `api_error` (network, 5xx, malformed), plus
 * `missing_scope` (403) and `rate_limited` (429) which the legacy file reports as `api_error`.
 */
export type UsageErrorCode = 'auth_not_found' | 'token_not_found' | 'token_expired' | 'api_error' | 'missing_scope' | 'rate_limited';

export interface UsageModel {
  fiveHour?: UsageWindow;
  sevenDay?: UsageWindow;
  /** Per-model weekly windows when the API reports them, keyed by model family (`opus`, `sonnet`). */
  modelWeeks?: Record<string, UsageWindow>;
  /** Where the credential came from, e.g. `claude-code`, `opencode-auth`. Never the token. */
  source?: string;
  /** When the shown values were fetched (ms since epoch). */
  fetchedAt?: number;
  /** The values are from an earlier fetch: the latest one failed. */
  stale: boolean;
  error?: UsageErrorCode;
  errorMessage?: string;
}

export interface MonitorSnapshot {
  instances: InstanceModel[];
  sessions: SessionModel[];
  usage?: UsageModel;
  /** ms since epoch of the last change. */
  updatedAt: number;
}

export function emptyTodos(): TodoSummary {
  return { pending: 0, inProgress: 0, completed: 0, total: 0, items: [] };
}

export function emptyTokens(): TokenCounts {
  return { input: 0, output: 0, reasoning: 0, cacheRead: 0, cacheWrite: 0 };
}
