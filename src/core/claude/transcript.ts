/**
 * What a Claude Code transcript (`~/.claude/projects/<folder>/<sessionId>.jsonl`) says about its
 * session: the prompt, the model, tools running now, tokens and cost, git branch. A pure
 * reducer over parsed lines; `transcriptReader.ts` feeds it new lines as the file grows.
 * Everything here is model or user text: kept short, and neutralised by the views.
 */
import type { RunningTool, TokenCounts } from '../model/model';
import { emptyTokens } from '../model/model';
import { toolArg } from '../model/toolArg';
import { plainText } from './plainText';

/** Tools remembered as running at most (a turn runs a handful in parallel). */
const MAX_RUNNING_TOOLS = 32;
const MAX_TITLE = 300;

export interface TranscriptState {
  /** The last prompt the user typed (`last-prompt` line, else the latest user text). */
  lastPrompt?: string;
  /** The first prompt of the session: a stable title when nothing better is known. */
  firstPrompt?: string;
  modelId?: string;
  gitBranch?: string;
  runningTools: RunningTool[];
  cost: number;
  tokens: TokenCounts;
  /** Latest `timestamp` seen (ms since epoch). */
  lastActivityAt?: number;
  /** When the first line with a timestamp was written. */
  firstActivityAt?: number;
  lines: number;
  skipped: number;
  /** Assistant message ids already counted (Claude Code writes one line per content block). */
  countedMessages: string[];
}

export function emptyTranscript(): TranscriptState {
  return { runningTools: [], cost: 0, tokens: emptyTokens(), lines: 0, skipped: 0, countedMessages: [] };
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 0);

/** Applies one parsed transcript line (unknown shapes are ignored). Mutates and returns `state`. */
export function applyTranscriptLine(state: TranscriptState, line: unknown): TranscriptState {
  state.lines++;
  if (!isObject(line)) return state;
  const at = Date.parse(str(line.timestamp) ?? '');
  if (Number.isFinite(at)) {
    state.lastActivityAt = Math.max(state.lastActivityAt ?? 0, at);
    state.firstActivityAt ??= at;
  }
  const branch = str(line.gitBranch);
  if (branch) state.gitBranch = plainText(branch, 200);
  // Sub-agent work (sidechains) is its parent's; its tools are not the session's own.
  if (line.isSidechain === true) return state;
  switch (line.type) {
    case 'last-prompt': {
      const prompt = str(line.lastPrompt);
      if (prompt?.trim()) state.lastPrompt = short(prompt);
      break;
    }
    case 'user':
      onUser(state, line);
      break;
    case 'assistant':
      onAssistant(state, line, Number.isFinite(at) ? at : undefined);
      break;
    case 'system':
      // The turn ended: nothing runs any more (an interrupted tool leaves no result line).
      if (line.subtype === 'turn_duration') state.runningTools = [];
      break;
    case 'cost-state':
      onCost(state, line);
      break;
  }
  return state;
}

function onUser(state: TranscriptState, line: Json): void {
  const message = isObject(line.message) ? line.message : undefined;
  const content = message?.content;
  if (typeof content === 'string') {
    // A typed prompt (tool results come as content arrays).
    if (content.trim() && line.isMeta !== true) {
      state.firstPrompt ??= short(content);
      state.lastPrompt = short(content);
    }
    return;
  }
  if (!Array.isArray(content)) return;
  for (const block of content) {
    if (!isObject(block)) continue;
    if (block.type === 'tool_result') {
      const id = str(block.tool_use_id);
      if (id) state.runningTools = state.runningTools.filter((t) => t.callID !== id);
    } else if (block.type === 'text' && line.isMeta !== true && !line.toolUseResult) {
      const t = str(block.text);
      if (t?.trim() && !t.startsWith('<')) {
        state.firstPrompt ??= short(t);
        state.lastPrompt = short(t);
      }
    }
  }
}

function onAssistant(state: TranscriptState, line: Json, at: number | undefined): void {
  const message = isObject(line.message) ? line.message : undefined;
  if (!message) return;
  const model = str(message.model);
  if (model && model !== '<synthetic>') state.modelId = plainText(model, 100);
  countUsage(state, str(message.id), message.usage);
  const content = Array.isArray(message.content) ? message.content : [];
  for (const block of content) {
    if (!isObject(block) || block.type !== 'tool_use') continue;
    const id = str(block.id);
    const name = str(block.name);
    if (!id || !name || state.runningTools.some((t) => t.callID === id)) continue;
    const input = isObject(block.input) ? block.input : undefined;
    const tool: RunningTool = { callID: id.slice(0, 200), name: plainText(name, 100), arg: toolArg(name.toLowerCase(), input) };
    if (at !== undefined) tool.startedAt = at;
    state.runningTools.push(tool);
    if (state.runningTools.length > MAX_RUNNING_TOOLS) state.runningTools.shift();
  }
}

/** Remembered message ids: enough to dedupe the lines of one message, bounded whatever the file holds. */
const MAX_COUNTED = 64;

/**
 * Tokens as the turns go: `cost-state` lines (the exact totals) come only now and then, so each
 * new assistant message's usage is added on top of the last totals.
 */
function countUsage(state: TranscriptState, id: string | undefined, usage: unknown): void {
  if (!id || !isObject(usage) || state.countedMessages.includes(id)) return;
  state.countedMessages.push(id);
  if (state.countedMessages.length > MAX_COUNTED) state.countedMessages.shift();
  state.tokens.input += num(usage.input_tokens);
  state.tokens.output += num(usage.output_tokens);
  state.tokens.cacheRead += num(usage.cache_read_input_tokens);
  state.tokens.cacheWrite += num(usage.cache_creation_input_tokens);
}

/** The session's totals so far: they replace what was added up from messages. */
function onCost(state: TranscriptState, line: Json): void {
  state.cost = num(line.totalCostUSD);
  const tokens = emptyTokens();
  const usage = isObject(line.modelUsage) ? line.modelUsage : {};
  for (const u of Object.values(usage)) {
    if (!isObject(u)) continue;
    tokens.input += num(u.inputTokens);
    tokens.output += num(u.outputTokens);
    tokens.reasoning += num(u.thinkingTokens);
    tokens.cacheRead += num(u.cacheReadInputTokens);
    tokens.cacheWrite += num(u.cacheCreationInputTokens);
  }
  state.tokens = tokens;
}

function short(text: string): string {
  return plainText(text, MAX_TITLE);
}
