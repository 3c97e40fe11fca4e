/**
 * SQL over OpenCode's own `opencode.db`, checked against OpenCode 1.18.33 (migration
 * 20260622202450_simplify_session_input; schema in test/fixtures/db/opencode-1.18.33.schema.sql).
 *
 * Facts the queries rely on (1.18.33):
 * - `session(id, parent_id, project_id, directory, title, agent, model JSON, time_created, time_updated,
 *   cost, tokens_*)`; sub-agent sessions have `parent_id`. `project.worktree` names the project.
 * - `message.data` JSON: `role`; assistant messages carry `cost`, `tokens{input,output,reasoning,
 *   cache{read,write}}`, `modelID`, `providerID`, `agent` (or `mode`), `time{created,completed}`, `error`.
 * - `part.data` JSON: tool calls are `type:'tool'` with `tool`, `state{status, input, time{start,end},
 *   metadata.sessionId (task → child session)}`; status pending | running | completed | error.
 * Indexes used (OpenCode's, we add none): message(session_id, time_created, id), part(session_id),
 * part(message_id, id), session(parent_id). There is no time index on message or part: windowed
 * aggregates scan `message` (one row per message) and reach parts through the windowed messages.
 */

export const CHECKED_OPENCODE_VERSIONS = ['1.18.33'] as const;

/** Tables and columns the queries read; anything missing is an unknown schema. */
export const REQUIRED_COLUMNS: Record<string, readonly string[]> = {
  session: ['id', 'parent_id', 'project_id', 'directory', 'title', 'agent', 'model', 'time_created', 'time_updated', 'cost', 'tokens_input', 'tokens_output', 'tokens_reasoning', 'tokens_cache_read', 'tokens_cache_write'],
  message: ['id', 'session_id', 'time_created', 'time_updated', 'data'],
  part: ['id', 'message_id', 'session_id', 'time_created', 'data'],
  project: ['id', 'worktree'],
};

/** Assistant messages of the window, with the fields every usage view needs (params: since). */
const WINDOW_MESSAGES = `
  m AS (
    SELECT session_id, time_created AS t,
           json_extract(data, '$.role') AS role,
           coalesce(json_extract(data, '$.tokens.input'), 0) AS ti,
           coalesce(json_extract(data, '$.tokens.output'), 0) AS tout,
           coalesce(json_extract(data, '$.tokens.reasoning'), 0) AS tr,
           coalesce(json_extract(data, '$.tokens.cache.read'), 0) AS tcr,
           coalesce(json_extract(data, '$.tokens.cache.write'), 0) AS tcw,
           coalesce(json_extract(data, '$.cost'), 0) AS cost,
           data
    FROM message
    WHERE time_created >= ? AND json_valid(data)
  )`;

const SUMS = `count(*) AS messages,
  sum(ti) AS ti, sum(tout) AS tout, sum(tr) AS tr, sum(tcr) AS tcr, sum(tcw) AS tcw, sum(cost) AS cost`;

export const HISTORY_SQL = {
  totals: `WITH ${WINDOW_MESSAGES}
    SELECT count(*) AS all_messages,
           count(DISTINCT m.session_id) AS sessions,
           count(DISTINCT CASE WHEN s.parent_id IS NULL THEN m.session_id END) AS roots,
           sum(role = 'assistant') AS assistant,
           sum(CASE WHEN role = 'assistant' THEN ti END) AS ti, sum(CASE WHEN role = 'assistant' THEN tout END) AS tout,
           sum(CASE WHEN role = 'assistant' THEN tr END) AS tr, sum(CASE WHEN role = 'assistant' THEN tcr END) AS tcr,
           sum(CASE WHEN role = 'assistant' THEN tcw END) AS tcw, sum(CASE WHEN role = 'assistant' THEN m.cost END) AS cost
    FROM m LEFT JOIN session AS s ON s.id = m.session_id`,
  // Local day: the caller passes its UTC offset in minutes (SQLite's 'localtime' would use the TZ of the process too, but explicit is testable).
  byDay: `WITH ${WINDOW_MESSAGES}
    SELECT strftime('%Y-%m-%d', (t / 1000) + ? * 60, 'unixepoch') AS key, ${SUMS}
    FROM m WHERE role = 'assistant' GROUP BY key ORDER BY key`,
  byModel: `WITH ${WINDOW_MESSAGES}
    SELECT coalesce(json_extract(data, '$.providerID') || '/', '') || coalesce(json_extract(data, '$.modelID'), '?') AS key,
           count(DISTINCT session_id) AS sessions, ${SUMS}
    FROM m WHERE role = 'assistant' GROUP BY key ORDER BY cost DESC, messages DESC LIMIT ?`,
  byAgent: `WITH ${WINDOW_MESSAGES}
    SELECT coalesce(json_extract(data, '$.agent'), json_extract(data, '$.mode'), '?') AS key,
           count(DISTINCT session_id) AS sessions, ${SUMS}
    FROM m WHERE role = 'assistant' GROUP BY key ORDER BY cost DESC, messages DESC LIMIT ?`,
  byProject: `WITH ${WINDOW_MESSAGES}
    SELECT coalesce(p.worktree, s.directory, '?') AS key,
           count(DISTINCT m.session_id) AS sessions, count(*) AS messages,
           sum(m.ti) AS ti, sum(m.tout) AS tout, sum(m.tr) AS tr, sum(m.tcr) AS tcr, sum(m.tcw) AS tcw, sum(m.cost) AS cost
    FROM m LEFT JOIN session AS s ON s.id = m.session_id LEFT JOIN project AS p ON p.id = s.project_id
    WHERE role = 'assistant' GROUP BY key ORDER BY cost DESC, messages DESC LIMIT ?`,
  // Tool parts: for a window, reached through the window's messages (message-first, forced by
  // CROSS JOIN: no time index on part); for all history, one scan of part. `instr` is a cheap
  // necessary condition (every tool part's JSON holds the text "tool") before the JSON parse.
  // Median duration per tool by window functions (no duration list leaves SQLite).
  tools: toolsSql('FROM message AS msg CROSS JOIN part AS p ON p.message_id = msg.id WHERE msg.time_created >= ? AND'),
  toolsAll: toolsSql('FROM part AS p WHERE ? IS NOT NULL AND'),
  sessionCount: `SELECT count(*) AS n FROM session
    WHERE parent_id IS NULL AND time_updated >= ?
      AND (? IS NULL OR instr(lower(title), ?) > 0 OR instr(lower(directory), ?) > 0)`,
  sessionPage: `SELECT s.id, s.title, s.directory, s.agent, s.model, s.time_created, s.time_updated,
           s.tokens_input, s.tokens_output, s.tokens_reasoning, s.tokens_cache_read, s.tokens_cache_write, s.cost,
           (SELECT count(*) FROM session AS c WHERE c.parent_id = s.id) AS children
    FROM session AS s
    WHERE s.parent_id IS NULL AND s.time_updated >= ?
      AND (? IS NULL OR instr(lower(s.title), ?) > 0 OR instr(lower(s.directory), ?) > 0)
    ORDER BY s.time_updated DESC, s.id LIMIT ? OFFSET ?`,
  /** The tree below a session (params: id, max nodes). */
  traceNodes: `WITH RECURSIVE tree(id, depth) AS (
      SELECT id, 0 FROM session WHERE id = ?
      UNION ALL
      SELECT c.id, tree.depth + 1 FROM session AS c JOIN tree ON c.parent_id = tree.id WHERE tree.depth < 32
    )
    SELECT s.id, s.parent_id, s.agent, s.title, s.time_created, s.time_updated, tree.depth
    FROM tree JOIN session AS s ON s.id = tree.id ORDER BY tree.depth, s.time_created LIMIT ?`,
  traceMessages: `SELECT count(*) AS messages,
           max(max(time_updated), coalesce(max(json_extract(data, '$.time.completed')), 0)) AS last,
           sum(CASE WHEN json_extract(data, '$.role') = 'assistant' THEN coalesce(json_extract(data, '$.tokens.input'), 0) END) AS ti,
           sum(CASE WHEN json_extract(data, '$.role') = 'assistant' THEN coalesce(json_extract(data, '$.tokens.output'), 0) END) AS tout,
           sum(CASE WHEN json_extract(data, '$.role') = 'assistant' THEN coalesce(json_extract(data, '$.tokens.reasoning'), 0) END) AS tr,
           sum(CASE WHEN json_extract(data, '$.role') = 'assistant' THEN coalesce(json_extract(data, '$.tokens.cache.read'), 0) END) AS tcr,
           sum(CASE WHEN json_extract(data, '$.role') = 'assistant' THEN coalesce(json_extract(data, '$.tokens.cache.write'), 0) END) AS tcw,
           sum(CASE WHEN json_extract(data, '$.role') = 'assistant' THEN coalesce(json_extract(data, '$.cost'), 0) END) AS cost
    FROM message WHERE session_id = ? AND json_valid(data)`,
  traceTools: `SELECT json_extract(data, '$.state.status') AS status, count(*) AS n
    FROM part WHERE session_id = ? AND json_valid(data) AND json_extract(data, '$.type') = 'tool'
    GROUP BY 1`,
  traceFiles: `SELECT DISTINCT json_extract(data, '$.state.input.filePath') AS file
    FROM part WHERE session_id = ? AND json_valid(data) AND json_extract(data, '$.type') = 'tool'
      AND json_type(data, '$.state.input.filePath') = 'text'
    LIMIT ?`,
  /**
   * Tool calls of the window for the audit (params: since, limit): the tools whose input names a
   * command, a file or a URL. Reached through the window's messages like `tools`.
   */
  auditCalls: `SELECT p.id, p.session_id, s.parent_id, s.directory, s.title,
           json_extract(p.data, '$.tool') AS tool,
           json_extract(p.data, '$.state.status') AS status,
           json_extract(p.data, '$.state.input') AS input,
           coalesce(json_extract(p.data, '$.state.time.start'), p.time_created) AS t
    FROM message AS msg CROSS JOIN part AS p ON p.message_id = msg.id
    LEFT JOIN session AS s ON s.id = p.session_id
    WHERE msg.time_created >= ? AND instr(p.data, '"tool"') > 0 AND json_valid(p.data)
      AND json_extract(p.data, '$.type') = 'tool'
      AND json_extract(p.data, '$.tool') IN ('bash', 'shell', 'read', 'list', 'view', 'grep', 'glob', 'write', 'create', 'edit', 'multiedit', 'str_replace', 'patch', 'apply_patch', 'webfetch', 'fetch', 'web_fetch')
    ORDER BY t, p.id LIMIT ?`,
  /** Parents of sub-agent sessions (to group an audit's actions by root session). */
  parents: `SELECT id, parent_id FROM session WHERE parent_id IS NOT NULL`,
  /** Shape probe: an assistant message must carry tokens as an object. */
  probeAssistant: `SELECT json_type(data, '$.tokens') AS tokens, json_type(data, '$.cost') AS cost
    FROM message WHERE json_valid(data) AND json_extract(data, '$.role') = 'assistant' ORDER BY rowid DESC LIMIT 1`,
  latestMigration: `SELECT id FROM migration ORDER BY id DESC LIMIT 1`,
} as const;

function toolsSql(from: string): string {
  return `WITH
    tp AS MATERIALIZED (
      SELECT coalesce(json_extract(p.data, '$.tool'), '?') AS tool,
             json_extract(p.data, '$.state.status') AS status,
             json_extract(p.data, '$.state.time.end') - json_extract(p.data, '$.state.time.start') AS dur
      ${from} instr(p.data, '"tool"') > 0 AND json_valid(p.data) AND json_extract(p.data, '$.type') = 'tool'
    ),
    agg AS (
      SELECT tool, count(*) AS calls, sum(status = 'error') AS errors, sum(status IN ('completed', 'error')) AS finished
      FROM tp GROUP BY tool
    ),
    ranked AS (
      SELECT tool, dur, row_number() OVER (PARTITION BY tool ORDER BY dur) AS rn, count(*) OVER (PARTITION BY tool) AS n
      FROM tp WHERE status IN ('completed', 'error') AND dur IS NOT NULL AND dur >= 0
    ),
    med AS (SELECT tool, avg(dur) AS median FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY tool)
    SELECT agg.tool, calls, errors, finished, med.median
    FROM agg LEFT JOIN med ON med.tool = agg.tool
    ORDER BY calls DESC, agg.tool LIMIT ?`;
}
