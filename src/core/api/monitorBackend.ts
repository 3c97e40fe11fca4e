/** The API backend of a headless host: a Monitor, the labels file, and tmux for focus. */
import type { Monitor } from '../monitor/monitor';
import type { LabelStore } from '../labels/labelStore';
import type { CommandRunner } from '../os/exec';
import { runCommand } from '../os/exec';
import { focusTerminalOf } from '../platform/headlessFocus';
import type { ApiBackend } from './protocol';

export function monitorBackend(monitor: Monitor, labels: LabelStore, run: CommandRunner = runCommand): ApiBackend {
  return {
    snapshot: () => monitor.snapshot(),
    setLabel: (sessionId, text) => labels.set(sessionId, text),
    focus: (_session, instance) => focusTerminalOf(instance?.tty, run),
    stop: (sessionId) => monitor.abort(sessionId),
  };
}
