/**
 * Stops a managed server and everything it started: SIGTERM to its process group and to the
 * descendants that left the group (OpenCode's bash-tool children call setsid), SIGKILL to all of
 * them after the grace period, then a bounded wait until what was found is gone. The set is
 * collected before signalling, so children re-parented when the server dies are still known.
 * Windows: `taskkill /T`, then `/T /F`.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import type { CommandRunner } from '../os/exec';
import { runCommand } from '../os/exec';
import { parseProcStat } from '../os/procStat';
import { describeError } from '../util/describe';
import { collectTree, createProcessTable } from './processTable';
import { opencodePidFromEnviron } from '../os/environ';
import type { ProcEntry, ProcessTable } from './processTable';

export interface TerminateTreeOptions {
  pid: number;
  /** Resolves once the child's 'exit' event fired (Node reaped it). */
  exited: Promise<unknown>;
  hasExited: () => boolean;
  /** SIGTERM → SIGKILL after this long. */
  timeoutMs: number;
  /** How long the rest of the tree gets to go after the process exited, before SIGKILL (default 2 s). */
  leftoverTimeoutMs?: number;
  /** How long SIGKILL may take before we stop waiting (default 5 s). */
  killWaitMs?: number;
  table?: ProcessTable;
  platform?: NodeJS.Platform;
  run?: CommandRunner;
  log?: (line: string) => void;
}

export interface TerminateResult {
  /** From the call to the end of the bounded waits. */
  ms: number;
  /** The process itself needed SIGKILL (taskkill /F). */
  forced: boolean;
  /** The process exited (false only if even SIGKILL did not end it in time). */
  exited: boolean;
  /** Other processes of its tree that were found and signalled. */
  others: number;
  /** Pids of its tree still alive at the end (none, normally). */
  survivors: number[];
}

const POLL_MS = 50;

export async function terminateTree(o: TerminateTreeOptions): Promise<TerminateResult> {
  const platform = o.platform ?? process.platform;
  if (platform === 'win32') return terminateWindows(o);
  const started = Date.now();
  const table = o.table ?? createProcessTable(platform);
  const log = o.log ?? (() => undefined);
  const killWaitMs = o.killWaitMs ?? 5_000;
  const known = new Map<number, ProcEntry>();
  const collect = async (): Promise<void> => {
    try {
      for (const entry of collectTree(o.pid, await table.list())) if (!known.has(entry.pid)) known.set(entry.pid, entry);
    } catch (error) {
      log(`could not list its child processes: ${describeError(error)}`);
    }
  };
  const signalOthers = async (signal: NodeJS.Signals, onlyOutsideGroup: boolean): Promise<void> => {
    for (const entry of known.values()) {
      if (onlyOutsideGroup && entry.pgid === o.pid) continue;
      // Checked right before: a pid that exited may belong to someone else by now.
      if (await table.isAlive(entry)) send(entry.pid, signal);
    }
  };
  const signalMain = (signal: NodeJS.Signals): void => {
    // A live group keeps its id reserved, so -pid reaches only what the server started.
    if (!send(-o.pid, signal) && !o.hasExited()) send(o.pid, signal);
  };

  let forced = false;
  let exited = o.hasExited();
  if (!exited) {
    await collect();
    signalMain('SIGTERM');
    await signalOthers('SIGTERM', true);
    // A stopped (SIGSTOP) process acts on SIGTERM only once continued.
    signalMain('SIGCONT');
    exited = await within(o.exited, o.timeoutMs);
    if (!exited) {
      forced = true;
      log(`still running ${o.timeoutMs} ms after SIGTERM: SIGKILL`);
      await collect();
      signalMain('SIGKILL');
      send(o.pid, 'SIGKILL');
      await signalOthers('SIGKILL', false);
      exited = await within(o.exited, killWaitMs);
      if (!exited) log(`pid ${o.pid} did not exit ${killWaitMs} ms after SIGKILL`);
    }
  }

  // What it leaves behind: processes of its group and tool children that outlive it.
  await collect();
  let alive = await aliveOf(table, known.values());
  if (alive.length > 0) {
    const signal: NodeJS.Signals = forced ? 'SIGKILL' : 'SIGTERM';
    // Once the leader is reaped its group id stays reserved only while members live: signal the
    // group only when a member is known to be alive.
    const hit = (sig: NodeJS.Signals) => {
      if (alive.some((e) => e.pgid === o.pid)) send(-o.pid, sig);
      for (const entry of alive) send(entry.pid, sig);
    };
    hit(signal);
    alive = await untilGone(table, alive, forced ? killWaitMs : (o.leftoverTimeoutMs ?? 2_000));
    if (alive.length > 0 && !forced) {
      log(`${alive.length} child process(es) still running after SIGTERM: SIGKILL ${alive.map((e) => e.pid).join(', ')}`);
      hit('SIGKILL');
      alive = await untilGone(table, alive, killWaitMs);
    }
    if (alive.length > 0) log(`child process(es) survived SIGKILL: ${alive.map((e) => e.pid).join(', ')}`);
  }
  return { ms: Date.now() - started, forced, exited, others: known.size, survivors: alive.map((e) => e.pid) };
}

async function terminateWindows(o: TerminateTreeOptions): Promise<TerminateResult> {
  const started = Date.now();
  const run = o.run ?? runCommand;
  const log = o.log ?? (() => undefined);
  /** True when taskkill says it asked every process to end. */
  const taskkill = async (force: boolean): Promise<boolean> => {
    try {
      const result = await run('taskkill', ['/pid', String(o.pid), '/T', ...(force ? ['/F'] : [])], { timeoutMs: 10_000 });
      if (result.code !== 0) log(`taskkill${force ? ' /F' : ''} exited ${result.code}: ${result.stderr.trim()}`);
      return result.code === 0;
    } catch (error) {
      log(`taskkill failed: ${describeError(error)}`);
      return false;
    }
  };
  let forced = false;
  let exited = o.hasExited();
  if (!exited) {
    // A console process without a window cannot be asked to close: then force at once, not after the timeout.
    const asked = await taskkill(false);
    exited = asked ? await within(o.exited, o.timeoutMs) : o.hasExited();
    if (!exited) {
      forced = true;
      log(`still running ${o.timeoutMs} ms after taskkill: taskkill /F`);
      await taskkill(true);
      exited = await within(o.exited, o.killWaitMs ?? 5_000);
    }
  }
  return { ms: Date.now() - started, forced, exited, others: 0, survivors: [] };
}

/**
 * For exit hooks, where nothing asynchronous runs any more: SIGKILL the group, the process and
 * (Linux) every process of its tree found in /proc right now.
 */
export function killTreeSync(pid: number, platform: NodeJS.Platform = process.platform): void {
  if (platform === 'win32') {
    try {
      execFileSync('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true, timeout: 5_000 });
    } catch {
      // gone already, or taskkill missing: nothing more can be done from an exit hook
    }
    return;
  }
  const others = platform === 'linux' ? collectTree(pid, listProcSync()) : [];
  send(-pid, 'SIGKILL');
  send(pid, 'SIGKILL');
  for (const entry of others) send(entry.pid, 'SIGKILL');
}

function listProcSync(): ProcEntry[] {
  const out: ProcEntry[] = [];
  let names: string[];
  try {
    names = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const name of names) {
    try {
      const s = parseProcStat(fs.readFileSync(`/proc/${name}/stat`, 'utf8'));
      if (!s) continue;
      const entry: ProcEntry = { pid: s.pid, ppid: s.ppid, pgid: s.pgrp, state: s.state, startTicks: s.startTicks };
      try {
        const owner = opencodePidFromEnviron(fs.readFileSync(`/proc/${name}/environ`, 'latin1'));
        if (owner !== undefined) entry.opencodePid = owner;
      } catch {
        // not ours to read
      }
      out.push(entry);
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function send(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve(true);
      },
      () => {
        clearTimeout(timer);
        resolve(true);
      },
    );
  });
}

async function aliveOf(table: ProcessTable, entries: Iterable<ProcEntry>): Promise<ProcEntry[]> {
  const list = [...entries];
  const alive = await Promise.all(list.map((e) => table.isAlive(e)));
  return list.filter((_, i) => alive[i]);
}

async function untilGone(table: ProcessTable, entries: ProcEntry[], timeoutMs: number): Promise<ProcEntry[]> {
  const deadline = Date.now() + timeoutMs;
  let alive = await aliveOf(table, entries);
  while (alive.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    alive = await aliveOf(table, alive);
  }
  return alive;
}
