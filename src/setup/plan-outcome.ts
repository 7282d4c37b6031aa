import type { RunResult } from './ports.js';

/** The steps a plan found not in place: what setup would change. */
export function stepsThatWouldChange(result: Pick<RunResult, 'steps'>): string[] {
  return result.steps.filter((step) => step.state === 'pending').map((step) => step.id);
}

/** What a finished plan found, in one sentence: only a VM where nothing would change is "set up". */
export function planVerdict(result: Pick<RunResult, 'steps' | 'vm'>): string {
  const changes = stepsThatWouldChange(result);
  if (changes.length === 0) return `${result.vm} is set up: nothing would change.`;
  const steps = changes.length === 1 ? '1 step would change' : `${changes.length} steps would change`;
  return `${steps} on ${result.vm}: ${changes.join(', ')}. Nothing was changed.`;
}
