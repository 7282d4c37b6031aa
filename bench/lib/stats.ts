/** Latency summaries: nearest-rank percentiles over all samples, in milliseconds rounded to 0.1 ms. */
export interface Summary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

const round = (value: number) => Math.round(value * 10) / 10;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, v) => sum + v, 0) / Math.max(1, sorted.length);
  return {
    n: sorted.length,
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted.at(-1) ?? Number.NaN),
    mean: round(mean),
  };
}

export function median(values: number[]): number {
  return summarize(values).p50;
}

/** `p50 12.3 ms · p99 40.1 ms (n=2000)` */
export function describe(s: Summary, unit = 'ms'): string {
  return `p50 ${s.p50} ${unit} · p99 ${s.p99} ${unit} (n=${s.n})`;
}
