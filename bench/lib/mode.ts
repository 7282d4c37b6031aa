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

const phases = new Set(
  (process.env.BENCH_PHASES ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== ''),
);

/**
 * `BENCH_PHASES=single,spread-2-workers`: only those fleet phases, for looking into one of them. Such a run
 * writes bench/results-phases.json only: its rows are not comparable with a full run's.
 */
export function phaseSelected(name: string): boolean {
  return phases.size === 0 || phases.has(name);
}

/** `BENCH_SETTLE=0` (with `BENCH_PHASES`): end each fleet phase when its runs end, not when Slack settles. */
export const SKIP_SETTLE = phases.size > 0 && process.env.BENCH_SETTLE === '0';

/** Where this run's results go: a quick or a phases run never replaces the published ones. */
export const RESULTS_FILE = QUICK
  ? 'results-quick.json'
  : phases.size > 0
    ? 'results-phases.json'
    : 'results.json';

/** Whether this run's table goes into docs/performance.md. */
export const PUBLISHED = RESULTS_FILE === 'results.json';

/** `BENCH_CPU_PROF=1`: child processes write V8 CPU profiles to bench/profiles/. */
export const CPU_PROF = process.env.BENCH_CPU_PROF === '1';
