/**
 * How an engine result and a run record spell a run's state (`failed:<step>` and the like), in one place:
 * the worker settling a run, its log lines and metrics, and the Slack messages rendered from the record.
 */
import type { RunResult } from '../setup/ports.js';
import type { RunState, StepId } from '../setup/step-ids.js';
import type { FinalRunState, RunRecord } from './types.js';

/** The run state a result stands for, as `/gitspaces status` spells it. */
export function stateOfResult(result: Pick<RunResult, 'state' | 'step'>): RunState {
  return result.state === 'failed' ? `failed:${result.step ?? 'preflight'}` : result.state;
}

/** The final state of a result the engine ended with (it did not park at approval). */
export function finalStateOf(result: Pick<RunResult, 'state' | 'step'>): FinalRunState {
  const state = stateOfResult(result);
  return state === 'awaiting-approval' ? 'failed:approval' : (state as FinalRunState);
}

/** The step a `failed:<step>` state names. */
export function failedStep(state: RunState): StepId | undefined {
  return state.startsWith('failed:') ? (state.slice('failed:'.length) as StepId) : undefined;
}

/** A finished run found every step already in place. */
export function unchangedRun(run: Pick<RunRecord, 'steps'>): boolean {
  return run.steps.length > 0 && run.steps.every((step) => step.state === 'unchanged');
}

/** How a finished run ended, as the engine would have told it, from its record (no error message). */
export function resultOfRecord(run: RunRecord): RunResult {
  const step = failedStep(run.state);
  return {
    runId: run.id,
    vm: run.target.vm,
    state: step === undefined ? (run.state as RunResult['state']) : 'failed',
    step,
    steps: run.steps,
    error: undefined,
    unchanged: unchangedRun(run),
  };
}
