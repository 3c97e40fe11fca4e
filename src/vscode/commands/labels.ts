/** "Label Session…": the user's own name for a session, kept in the per-user labels file. */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { LabelStore } from '../../core/labels/labelStore';
import { MAX_LABEL_LENGTH } from '../../core/model/labelText';
import type { Monitor } from '../../core/monitor/monitor';
import { reportFailure, resolveSession } from './targets';

export async function labelSession(monitor: Monitor, labels: LabelStore, logger: Logger, arg: unknown): Promise<void> {
  const session = await resolveSession(monitor, arg, { placeHolder: 'Label which session?', none: 'No session found.' });
  if (!session) return;
  const text = await vscode.window.showInputBox({
    title: 'Label Session',
    prompt: `A label for “${session.title.trim() || session.id}”, shown instead of its title everywhere (empty removes it)`,
    value: session.label ?? '',
    placeHolder: 'e.g. review MR, flaky test',
    validateInput: (value) => ([...value.trim()].length > MAX_LABEL_LENGTH ? `At most ${MAX_LABEL_LENGTH} characters (longer labels are cut).` : undefined),
  });
  if (text === undefined) return; // cancelled
  try {
    const stored = await labels.set(session.id, text);
    logger.info(stored ? `Labelled ${session.id} “${stored}”` : `Removed the label of ${session.id}`);
  } catch (error) {
    reportFailure(logger, 'Labelling the session', error);
  }
}
