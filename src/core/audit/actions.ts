/**
 * From what OpenCode reports to audit actions: a tool part (`{tool, state.input}`: bash
 * `command`/`workdir`, read/write/edit `filePath`, webfetch `url`, apply_patch `patchText`, …) and
 * a permission request (`{permission, patterns, metadata}`). Tolerant of unknown tools and
 * fields: anything it cannot read becomes no action (nothing to score), never an error.
 */
import type { PermissionModel, RunningTool } from '../model/model';
import type { AuditAction } from './engine';

export interface ActionContext {
  /** The session's project folder. */
  projectDir?: string;
  home?: string;
}

type Input = Record<string, unknown> | undefined;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v : undefined);

function pick(input: Input, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = str(input?.[k]);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Files named in an apply_patch text (`*** Update File: a.ts`, `*** Add File:`, `*** Delete File:`). */
export function patchFiles(patch: string): Array<{ kind: 'write' | 'edit'; path: string }> {
  const out: Array<{ kind: 'write' | 'edit'; path: string }> = [];
  const re = /^\*\*\* (Add|Update|Delete) File: (.+)$|^\*\*\* Move to: (.+)$/gm;
  let m: RegExpExecArray | null;
  while ((m = re.exec(patch.slice(0, 1_000_000))) && out.length < 100) {
    if (m[3]) out.push({ kind: 'write', path: m[3].trim() });
    else out.push({ kind: m[1] === 'Update' ? 'edit' : 'write', path: m[2]!.trim() });
  }
  return out;
}

/**
 * The actions of one tool call. Most tools give one; apply_patch gives one per file; tools
 * without a target (todowrite, question, task) give none.
 */
export function actionsFromTool(tool: string, input: Input, ctx: ActionContext = {}): AuditAction[] {
  const base = { projectDir: ctx.projectDir, home: ctx.home };
  const name = tool.toLowerCase();
  switch (name) {
    case 'bash':
    case 'shell':
    case 'run_shell_command': {
      const command = pick(input, 'command', 'cmd');
      if (!command) return [];
      const cwd = pick(input, 'workdir', 'cwd', 'directory');
      return [{ kind: 'bash', command, ...base, ...(cwd ? { cwd } : {}) }];
    }
    case 'read':
    case 'list':
    case 'view':
    case 'grep':
    case 'glob': {
      const path = pick(input, 'filePath', 'file_path', 'path');
      return path ? [{ kind: 'read', path, ...base }] : [];
    }
    case 'write':
    case 'create': {
      const path = pick(input, 'filePath', 'file_path', 'path');
      return path ? [{ kind: 'write', path, ...base }] : [];
    }
    case 'edit':
    case 'multiedit':
    case 'str_replace': {
      const path = pick(input, 'filePath', 'file_path', 'path');
      return path ? [{ kind: 'edit', path, ...base }] : [];
    }
    case 'patch':
    case 'apply_patch': {
      const text = pick(input, 'patchText', 'patch', 'input');
      if (!text) return [];
      return patchFiles(text).map((f) => ({ kind: f.kind, path: f.path, ...base }));
    }
    case 'webfetch':
    case 'fetch':
    case 'web_fetch': {
      const url = pick(input, 'url');
      return url ? [{ kind: 'fetch', url, ...base }] : [];
    }
    default:
      return [];
  }
}

/** The action of a running tool in our model (its `arg` is the command / file / URL, shortened). */
export function actionFromRunningTool(tool: Pick<RunningTool, 'name' | 'arg'>, ctx: ActionContext = {}): AuditAction | undefined {
  const name = tool.name.toLowerCase();
  const key = name === 'bash' ? 'command' : name === 'webfetch' ? 'url' : 'filePath';
  return actionsFromTool(name, { [key]: tool.arg }, ctx)[0];
}

export interface PermissionRequestLike {
  permission: string;
  patterns?: readonly string[];
  metadata?: Record<string, unknown>;
  /** Our model's copy of `metadata.command`. */
  command?: string;
}

/**
 * The actions a permission request asks for: `bash` (metadata.command, else each pattern),
 * `edit`/`write` (metadata.filepath / filePath, else patterns), `read`, `webfetch` (metadata.url,
 * else patterns), `external_directory` (a read outside the project).
 */
export function actionsFromPermission(req: PermissionRequestLike | PermissionModel, ctx: ActionContext = {}): AuditAction[] {
  const base = { projectDir: ctx.projectDir, home: ctx.home };
  const meta = ('metadata' in req ? req.metadata : undefined) ?? {};
  const patterns = (req.patterns ?? []).filter((p): p is string => typeof p === 'string' && p.trim() !== '').slice(0, 50);
  const kind = req.permission.toLowerCase();
  const fromPatterns = (k: AuditAction['kind'], field: 'command' | 'path' | 'url') => patterns.map((p) => ({ kind: k, [field]: p, ...base }) as AuditAction);
  switch (kind) {
    case 'bash': {
      const command = str(req.command) ?? str(meta.command);
      return command ? [{ kind: 'bash', command, ...base }] : fromPatterns('bash', 'command');
    }
    case 'edit':
    case 'write': {
      const path = str(meta.filepath) ?? str(meta.filePath) ?? str(meta.path);
      return path ? [{ kind: kind === 'write' ? 'write' : 'edit', path, ...base }] : fromPatterns(kind === 'write' ? 'write' : 'edit', 'path');
    }
    case 'read':
    case 'list':
    case 'glob':
    case 'grep': {
      const path = str(meta.filepath) ?? str(meta.filePath) ?? str(meta.path);
      return path ? [{ kind: 'read', path, ...base }] : fromPatterns('read', 'path');
    }
    case 'external_directory':
      return (patterns.length > 0 ? patterns : [str(meta.filepath) ?? str(meta.path)].filter((p): p is string => !!p)).map((p) => ({ kind: 'read', path: p.replace(/\/\*+$/, ''), ...base }));
    case 'webfetch': {
      const url = str(meta.url);
      return url ? [{ kind: 'fetch', url, ...base }] : fromPatterns('fetch', 'url');
    }
    default:
      return [];
  }
}
