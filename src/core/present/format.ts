/** Small text helpers shared by every view of the model (CLI table, tree, status bar). */
import type { InstanceModel, SessionModel } from '../model/model';

/** `4m`, `1h 05m`, `12s`: how long something has been going on. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `12 s`, `4 min`, `1 h 05 min`, `2 d 3 h`: how long a session has been waiting for the user. */
export function formatWaited(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : text.slice(0, Math.max(0, max - 1)) + '…';
}

export function basename(path: string | undefined): string {
  if (!path) return '';
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

/** What an instance is called in lists: its project folder and port (or "no port"). */
export function instanceLabel(instance: InstanceModel): string {
  const name = instance.label || basename(instance.cwd) || (instance.url ? instance.url.replace(/^https?:\/\//, '') : instance.id);
  // Only a port-less TUI (`limited`) has no port: a server whose port is not confirmed yet, or a
  // managed server between two processes, just has none shown for a moment. Claude Code has no
  // port at all: "(no port)" would read as a limitation.
  const where = instance.kind === 'endpoint' || instance.agent !== 'opencode' ? '' : instance.port ? `:${instance.port}` : instance.connection === 'limited' ? ' (no port)' : '';
  return `${name}${where}`;
}

/** One line on what a session is doing right now. */
export function sessionActivity(session: SessionModel, now: number): string {
  if (session.needsAttention) {
    const waited = session.waitingSince ? ` ${formatWaited(now - session.waitingSince)}` : '';
    const what =
      session.attentionReason === 'question'
        ? 'question'
        : session.attentionReason === 'heuristic'
          ? 'maybe waiting for permission'
          : 'permission';
    return `waiting${waited} (${what})`;
  }
  if (session.status === 'retry') {
    const next = session.retry?.next ? ` in ${formatDuration(session.retry.next - now)}` : '';
    return `retry #${session.retry?.attempt ?? '?'}${next}: ${truncate(session.retry?.message ?? '', 60)}`;
  }
  if (session.status === 'busy') {
    const tool = session.runningTools[session.runningTools.length - 1];
    if (tool) {
      const elapsed = tool.startedAt ? ` ${formatDuration(now - tool.startedAt)}` : '';
      return `${tool.name}${tool.arg ? ': ' + truncate(tool.arg, 50) : ''}${elapsed}`;
    }
    return 'busy';
  }
  return session.lastError ? `idle (${truncate(session.lastError, 60)})` : 'idle';
}
