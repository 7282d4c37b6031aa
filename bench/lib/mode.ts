/**
 * How much to measure. `BENCH_QUICK=1` takes small samples so the whole bench smoke-runs in a couple of
 * minutes (its numbers are not the published ones); `BENCH_ONLY=ack,fleet` runs some benchmarks only.
 */
export const QUICK = process.env.BENCH_QUICK === '1';

const only = new Set(
  (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);

/** True when only some benchmarks run. */
export const partial = only.size > 0;

export function selected(name: string): boolean {
  return only.size === 0 || only.has(name);
}

/** The quick value in quick mode, the full one otherwise. */
export function size<T>(quick: T, full: T): T {
  return QUICK ? quick : full;
}

/** `BENCH_CPU_PROF=1`: child processes write V8 CPU profiles to bench/profiles/. */
export const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
