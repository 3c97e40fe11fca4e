/** Todo lists in the model: what the live API and the DB both reduce to. */
import type { TodoSummary } from './model';

/** A todo as OpenCode sends it (API) or stores it (DB); a type alias so loose wire types fit. */
export type TodoInput = {
  content: string;
  status: string;
  priority?: string;
};

export function summarizeTodos(todos: readonly TodoInput[]): TodoSummary {
  const items = todos.map((t) => ({ content: t.content, status: t.status, ...(t.priority ? { priority: t.priority } : {}) }));
  const pending = todos.filter((t) => t.status === 'pending');
  const inProgress = todos.filter((t) => t.status === 'in_progress');
  return {
    pending: pending.length,
    inProgress: inProgress.length,
    completed: todos.filter((t) => t.status === 'completed').length,
    total: todos.length,
    currentLabel: inProgress[0]?.content,
    nextLabel: pending[0]?.content,
    items,
  };
}
