/** Answer a pending question (a quick pick of its options, or free text) or dismiss it. */
import * as vscode from 'vscode';
import type { Logger } from '../../core/log';
import type { QuestionModel } from '../../core/model/model';
import type { Monitor } from '../../core/monitor/monitor';
import { questionLabel, sessionLabel } from '../../core/present/tree';
import { plainText } from '../../core/present/neutralize';
import { reportFailure, resolveQuestion } from './targets';

type Question = QuestionModel['questions'][number];

interface Choice extends vscode.QuickPickItem {
  custom?: boolean;
  /** The option as the server sent it: the answer (the label shown is neutralised). */
  answer?: string;
}

const CUSTOM: Choice = { label: '$(edit) Type your own answer…', custom: true, alwaysShow: true };

export async function answerQuestion(monitor: Monitor, logger: Logger, arg: unknown): Promise<void> {
  const target = await resolveQuestion(monitor, arg);
  if (!target) return;
  const { session, question } = target;
  const answers: string[][] = [];
  for (const [index, q] of question.questions.entries()) {
    const step = question.questions.length > 1 ? ` (${index + 1}/${question.questions.length})` : '';
    const answer = await ask(q, `${plainText(sessionLabel(session))}${step}`);
    if (!answer) return; // cancelled: send nothing
    answers.push(answer);
  }
  try {
    await monitor.replyQuestion(session.id, question.id, answers);
    logger.info(`Answered “${questionLabel(question)}” for “${sessionLabel(session)}” (${question.id})`);
  } catch (error) {
    reportFailure(logger, `Answering “${questionLabel(question)}”`, error);
  }
}

async function ask(q: Question, title: string): Promise<string[] | undefined> {
  const allowCustom = q.custom !== false || q.options.length === 0;
  if (q.options.length === 0) return typed(q, title);
  const items: Choice[] = q.options.map((o) => ({ label: plainText(o.label), answer: o.label, ...(o.description ? { detail: plainText(o.description) } : {}) }));
  if (allowCustom) items.push(CUSTOM);
  const options = { title: q.header ? `${plainText(q.header)} — ${title}` : title, placeHolder: plainText(q.question), ignoreFocusOut: true };
  if (q.multiple) {
    const picked = await vscode.window.showQuickPick(items, { ...options, canPickMany: true });
    if (!picked || picked.length === 0) return undefined;
    const labels = picked.filter((p) => !p.custom).map((p) => p.answer ?? p.label);
    if (picked.some((p) => p.custom)) {
      const text = await typed(q, title);
      if (!text) return undefined;
      labels.push(...text);
    }
    return labels;
  }
  const picked = await vscode.window.showQuickPick(items, options);
  if (!picked) return undefined;
  return picked.custom ? typed(q, title) : [picked.answer ?? picked.label];
}

async function typed(q: Question, title: string): Promise<string[] | undefined> {
  const text = await vscode.window.showInputBox({ title: q.header ? `${plainText(q.header)} — ${title}` : title, prompt: plainText(q.question), ignoreFocusOut: true });
  return text?.trim() ? [text.trim()] : undefined;
}

export async function dismissQuestion(monitor: Monitor, logger: Logger, arg: unknown): Promise<void> {
  const target = await resolveQuestion(monitor, arg);
  if (!target) return;
  const { session, question } = target;
  try {
    await monitor.rejectQuestion(session.id, question.id);
    logger.info(`Dismissed “${questionLabel(question)}” for “${sessionLabel(session)}” (${question.id})`);
  } catch (error) {
    reportFailure(logger, `Dismissing “${questionLabel(question)}”`, error);
  }
}
