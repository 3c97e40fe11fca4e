/** Test helpers for the usage feature: a fake clock, scripted credentials and client, temp homes. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { CredentialLookup, CredentialProvider } from '../../../src/core/usage/usageCredential';
import { UsageCredential } from '../../../src/core/usage/usageCredential';
import type { UsageData, UsageFetcher } from '../../../src/core/usage/usageClient';
import type { Clock } from '../../../src/core/usage/usagePoller';
import { Emitter } from '../../../src/core/util/events';
import type { Disposable } from '../../../src/core/util/events';

/** A secret that must never show up anywhere but the Authorization header. */
export function secretToken(): string {
  return `sk-ant-oat01-${randomBytes(24).toString('base64url')}`;
}

export class FakeClock implements Clock {
  private time: number;
  private seq = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();

  constructor(start = Date.UTC(2026, 8, 1, 12, 0, 0)) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** The earliest pending timer, as a delay from now. */
  nextDelay(): number | undefined {
    const ats = [...this.timers.values()].map((t) => t.at);
    return ats.length ? Math.min(...ats) - this.time : undefined;
  }

  /** Moves time forward, firing due timers in order (synchronously). */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at || a[0] - b[0])[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].callback();
    }
    this.time = end;
  }
}

export class FakeCredentials implements CredentialProvider {
  lookup: CredentialLookup;
  resolves = 0;
  private readonly changes = new Emitter<void>();

  constructor(lookup: CredentialLookup) {
    this.lookup = lookup;
  }

  static withToken(token: string, expiresAt?: number, source: UsageCredential['source'] = 'claude-code'): FakeCredentials {
    return new FakeCredentials({ ok: true, credential: new UsageCredential(token, source, expiresAt) });
  }

  setToken(token: string, expiresAt?: number, source: UsageCredential['source'] = 'claude-code'): void {
    this.lookup = { ok: true, credential: new UsageCredential(token, source, expiresAt) };
  }

  resolve(): Promise<CredentialLookup> {
    this.resolves++;
    return Promise.resolve(this.lookup);
  }

  onDidChange(listener: () => void): Disposable {
    return this.changes.event(listener);
  }

  fire(): void {
    this.changes.fire(undefined);
  }
}

export type Outcome = UsageData | Error | (() => Promise<UsageData>);

export class ScriptedClient implements UsageFetcher {
  readonly calls: Array<{ token: string; at?: number }> = [];
  private readonly queue: Outcome[] = [];
  fallback: Outcome = { fiveHour: { percent: 1 } };

  constructor(private readonly clock?: Clock) {}

  push(...outcomes: Outcome[]): this {
    this.queue.push(...outcomes);
    return this;
  }

  async fetchUsage(credential: UsageCredential): Promise<UsageData> {
    this.calls.push({ token: credential.bearer(), ...(this.clock ? { at: this.clock.now() } : {}) });
    const next = this.queue.shift() ?? this.fallback;
    if (next instanceof Error) throw next;
    if (typeof next === 'function') return next();
    return next;
  }
}

export function tempDir(prefix = 'ocm-usage-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function writeJson(file: string, value: unknown, mode = 0o600): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value), { mode });
}

export function claudeCredentials(token: string, expiresAt: number, extra: Record<string, unknown> = {}): unknown {
  return {
    claudeAiOauth: {
      accessToken: token,
      refreshToken: 'sk-ant-ort01-refresh-never-used',
      expiresAt,
      scopes: ['user:inference', 'user:profile'],
      subscriptionType: 'max',
      ...extra,
    },
  };
}

/** Every file under `dir` (recursively) with its content. */
export function readTree(dir: string): Array<{ file: string; content: string }> {
  const out: Array<{ file: string; content: string }> = [];
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d)) {
      const full = path.join(d, name);
      const st = fs.lstatSync(full);
      if (st.isDirectory()) walk(full);
      else if (st.isFile()) out.push({ file: full, content: fs.readFileSync(full, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

/** Lets pending promise callbacks (and I/O callbacks already queued) run. */
export async function flush(times = 5): Promise<void> {
  for (let i = 0; i < times; i++) await new Promise((resolve) => setImmediate(resolve));
}
