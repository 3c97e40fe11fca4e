/** Summaries of repeated measurements, as results.json and the table report them. */
export interface Summary {
  n: number;
  median: number;
  p95: number;
  min: number;
  max: number;
  /** Every sample, in measurement order. */
  samples: number[];
}

export function summarize(samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => {
    if (sorted.length === 0) return NaN;
    // Nearest rank: p95 of 15 samples is the 15th, never an interpolation below a real sample.
    const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
    return sorted[rank - 1]!;
  };
  const median = sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  return {
    n: sorted.length,
    median: round(median),
    p95: round(at(0.95)),
    min: round(sorted[0] ?? NaN),
    max: round(sorted[sorted.length - 1] ?? NaN),
    samples: samples.map(round),
  };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

export function fmt(value: number, unit = 'ms'): string {
  if (!Number.isFinite(value)) return '—';
  const text = Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text} ${unit}`.trim();
}

export function fmtSummary(s: Summary | undefined, unit = 'ms'): string {
  if (!s || s.n === 0) return '—';
  return `${fmt(s.median, unit)} (p95 ${fmt(s.p95, unit)}, ${fmt(s.min, '')}–${fmt(s.max, unit)}, n=${s.n})`;
}

/** Milliseconds on a clock shared by every process of the bench (wall time with sub-ms resolution). */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}
