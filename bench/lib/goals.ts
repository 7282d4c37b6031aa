/** One row of the results table: what we hold ourselves to, what this run measured, and whether it held. */
export interface GoalRow {
  /** e.g. `1a` */
  id: string;
  what: string;
  goal: string;
  measured: string;
  /** `null` when this run could not tell (a benchmark was skipped or broke). */
  met: boolean | null;
  /** The benchmark that measured it (set by bench/run.ts). */
  bench?: string;
}

export function row(id: string, what: string, goal: string, measured: string, met: boolean | null): GoalRow {
  return { id, what, goal, measured, met };
}

const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');

export { fmt };
