/**
 * Claude Code's per-process session registry, `~/.claude/sessions/<pid>.json` (measured on
 * 2.1.332, see docs): one file per interactive process, rewritten when its state changes.
 * Parsed with zod at the edge; unknown fields are ignored, unknown status values kept as text.
 */
import * as z from 'zod';
import { plainText } from './plainText';

/** Larger registry files are not read: a real one is well under 1 KB. */
export const MAX_REGISTRY_BYTES = 64 * 1024;

const text = (max: number) => z.string().transform((s) => plainText(s, max));

const registrySchema = z
  .object({
    pid: z.number().int().positive(),
    sessionId: z.string().max(200),
    cwd: z.string().max(4096),
    startedAt: z.number().optional(),
    /** Process start in clock ticks after boot (field 22 of /proc/PID/stat), as a string. */
    procStart: z.union([z.string(), z.number()]).transform(String).optional(),
    version: text(100).optional(),
    kind: text(50).optional(),
    tmux: text(200).optional(),
    name: text(500).optional(),
    status: text(50).optional(),
    waitingFor: text(500).optional(),
    updatedAt: z.number().optional(),
    statusUpdatedAt: z.number().optional(),
  })
  .passthrough();

export interface RegistryEntry {
  pid: number;
  sessionId: string;
  cwd: string;
  startedAt?: number;
  procStart?: string;
  version?: string;
  kind?: string;
  /** `session:@window.%pane` when it runs inside tmux. */
  tmux?: string;
  name?: string;
  /** `idle`, `busy`, `waiting` seen; anything else is kept as is. */
  status?: string;
  /** e.g. `permission prompt` while status is `waiting`. */
  waitingFor?: string;
  updatedAt?: number;
  statusUpdatedAt?: number;
}

export type RegistryParse = { ok: true; entry: RegistryEntry } | { ok: false; error: string };

/** A registry file's text → its entry, or why it is not one. Never throws. */
export function parseRegistry(raw: string): RegistryParse {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    return { ok: false, error: `not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
  const parsed = registrySchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, error: `unexpected shape${issue ? ` at ${issue.path.join('.') || '(root)'}: ${issue.message}` : ''}` };
  }
  const d = parsed.data;
  const entry: RegistryEntry = { pid: d.pid, sessionId: d.sessionId, cwd: d.cwd };
  for (const key of ['startedAt', 'procStart', 'version', 'kind', 'tmux', 'name', 'status', 'waitingFor', 'updatedAt', 'statusUpdatedAt'] as const) {
    if (d[key] !== undefined) (entry as unknown as Record<string, unknown>)[key] = d[key];
  }
  return { ok: true, entry };
}

/** `12345.json` → 12345; anything else (the `.key` files, temp files) → undefined. */
export function registryPid(fileName: string): number | undefined {
  const m = /^(\d{1,10})\.json$/.exec(fileName);
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * Where Claude Code keeps a session's transcript: the cwd with every `/` replaced by `-`
 * (measured); other characters are also replaced by some versions, so both forms are tried.
 */
export function transcriptFolderNames(cwd: string): string[] {
  const slashes = cwd.replace(/[\\/]/g, '-');
  const allNonAlnum = cwd.replace(/[^a-zA-Z0-9]/g, '-');
  return slashes === allNonAlnum ? [slashes] : [slashes, allNonAlnum];
}
