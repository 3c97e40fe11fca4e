/**
 * Multi-step patterns (rules.ts `sequences`): tags set by rules, in order, within a window of
 * actions. Used inside one command line (`cat ~/.aws/credentials | curl -d @- …`), over a
 * session's live actions (SequenceDetector, bounded memory) and over a whole history
 * (detectSequences, pure).
 */
import { levelOf } from './levels';
import type { RiskLevel } from './levels';
import type { Sequence } from './ruleSchema';

export interface SequenceMatch {
  sequenceId: string;
  score: number;
  level: RiskLevel;
  reason: string;
  techniques: string[];
  /** Indexes (or ids, for the detector) of the actions that made each step. */
  steps: number[];
}

interface Progress {
  next: number;
  steps: number[];
}

/** Advances one sequence's progress with an item's tags; returns a match when it completes. */
function advance(seq: Sequence, p: Progress, index: number, tags: ReadonlySet<string>, multiStep = false): SequenceMatch | undefined {
  if (p.next > 0 && index - p.steps[0]! >= seq.within) {
    p.next = 0;
    p.steps = [];
  }
  // Across actions, one action fills one step (order matters). Inside one command
  // (`curl -d @~/.aws/credentials …`) one command may fill consecutive steps.
  if (tags.has(seq.steps[p.next]!)) {
    do {
      p.steps.push(index);
      p.next++;
    } while (multiStep && p.next < seq.steps.length && tags.has(seq.steps[p.next]!));
  } else if (p.next > 0 && tags.has(seq.steps[0]!)) {
    // A fresher start keeps the window short.
    if (p.next === 1) p.steps = [index];
  }
  if (p.next === seq.steps.length) {
    const match: SequenceMatch = { sequenceId: seq.id, score: seq.score, level: levelOf(seq.score), reason: seq.reason, techniques: [...seq.techniques], steps: p.steps };
    p.next = 0;
    p.steps = [];
    return match;
  }
  return undefined;
}

/** Two sequences completed by the very same actions (send vs contact): keep the stronger one. */
function strongest(matches: SequenceMatch[]): SequenceMatch[] {
  if (matches.length < 2) return matches;
  const best = new Map<string, SequenceMatch>();
  for (const m of matches) {
    const key = m.steps.join(',');
    const had = best.get(key);
    if (!had || m.score > had.score) best.set(key, m);
  }
  return matches.filter((m) => best.get(m.steps.join(',')) === m);
}

/** Pure: every sequence completed over an ordered list of tag sets. */
export function detectSequences(items: ReadonlyArray<ReadonlySet<string> | readonly string[]>, sequences: readonly Sequence[], options: { multiStep?: boolean } = {}): SequenceMatch[] {
  const progress = sequences.map(() => ({ next: 0, steps: [] as number[] }));
  const out: SequenceMatch[] = [];
  items.forEach((item, index) => {
    const tags = item instanceof Set ? item : new Set(item as readonly string[]);
    sequences.forEach((seq, s) => {
      const m = advance(seq, progress[s]!, index, tags, options.multiStep);
      if (m) out.push(m);
    });
  });
  return strongest(out);
}

export interface DetectorInput {
  /** Tags of the scored action (RiskScore.tags). */
  tags: readonly string[];
}

/**
 * Stateful: fed one session's (and its sub-agents') scored actions in order. Memory is one
 * progress record per sequence, whatever the number of actions.
 */
export class SequenceDetector {
  private readonly progress: Progress[];
  private count = 0;

  constructor(private readonly sequences: readonly Sequence[]) {
    this.progress = sequences.map(() => ({ next: 0, steps: [] }));
  }

  /** Feeds the next action; returns the sequences it completes (steps are action ordinals). */
  push(action: DetectorInput): SequenceMatch[] {
    const index = this.count++;
    if (action.tags.length === 0) {
      // Still ages the windows.
      this.sequences.forEach((seq, s) => {
        const p = this.progress[s]!;
        if (p.next > 0 && index - p.steps[0]! >= seq.within) {
          p.next = 0;
          p.steps = [];
        }
      });
      return [];
    }
    const tags = new Set(action.tags);
    const out: SequenceMatch[] = [];
    this.sequences.forEach((seq, s) => {
      const m = advance(seq, this.progress[s]!, index, tags);
      if (m) out.push(m);
    });
    return strongest(out);
  }

  /** Actions seen so far. */
  get seen(): number {
    return this.count;
  }
}

/**
 * Detectors for many sessions, keyed by root session (sub-agents feed their parent's), bounded
 * to `maxSessions` (least recently fed dropped first).
 */
export class SessionSequences {
  private readonly detectors = new Map<string, SequenceDetector>();

  constructor(
    private readonly sequences: readonly Sequence[],
    private readonly maxSessions = 500,
  ) {}

  push(rootSessionId: string, action: DetectorInput): SequenceMatch[] {
    let d = this.detectors.get(rootSessionId);
    if (d) this.detectors.delete(rootSessionId);
    else d = new SequenceDetector(this.sequences);
    this.detectors.set(rootSessionId, d);
    while (this.detectors.size > this.maxSessions) this.detectors.delete(this.detectors.keys().next().value!);
    return d.push(action);
  }

  forget(rootSessionId: string): void {
    this.detectors.delete(rootSessionId);
  }

  get size(): number {
    return this.detectors.size;
  }
}

/** The root of a session through its parents (cycles and depth bounded). */
export function rootSessionId(sessionId: string, parentOf: (id: string) => string | undefined): string {
  let id = sessionId;
  for (let i = 0; i < 64; i++) {
    const parent = parentOf(id);
    if (!parent || parent === id) return id;
    id = parent;
  }
  return id;
}
