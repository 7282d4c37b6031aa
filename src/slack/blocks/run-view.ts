import { unchangedRun } from '../../queue/run-states.js';
import type { RunRecord, RunTarget } from '../../queue/types.js';
import type { StepRecord } from '../../setup/ports.js';
import { type RunState, STEP_IDS, type StepId } from '../../setup/step-ids.js';

/** What the parent message of a run shows, built from its record when the message is sent. */
export interface RunView {
  runId: string;
  target: RunTarget;
  requester: string;
  mode: 'setup' | 'plan';
  state: RunState;
  steps: Record<StepId, StepRecord>;
  /** When the approval request runs out (while waiting). */
  approvalExpiresAt: number | undefined;
  /** Who ended the run by a decision (rejected, cancelled), for the status line. */
  decidedBy: string | undefined;
  /** True when a finished run found every step already in place. */
  unchanged: boolean;
  startedAt: number;
  finishedAt: number | undefined;
}

export function pendingSteps(): Record<StepId, StepRecord> {
  const steps = {} as Record<StepId, StepRecord>;
  for (const id of STEP_IDS) steps[id] = { id, state: 'pending', durationMs: undefined, summary: undefined };
  return steps;
}

export function runViewFromRecord(record: RunRecord, mode: 'setup' | 'plan' = 'setup'): RunView {
  const steps = pendingSteps();
  for (const step of record.steps) steps[step.id] = { ...step };
  const decision = record.decision;
  // A queued run cancelled before it started has no decision, only its audit entry.
  const ender = [...record.audit].reverse().find((e) => e.event === 'cancelled' || e.event === 'rejected');
  return {
    runId: record.id,
    target: record.target,
    requester: record.requester,
    mode,
    state: record.state,
    steps,
    approvalExpiresAt: record.approvalExpiresAt,
    decidedBy: decision !== undefined && 'by' in decision ? decision.by : ender?.by,
    unchanged: record.finishedAt !== undefined && unchangedRun(record),
    startedAt: record.createdAt,
    finishedAt: record.finishedAt,
  };
}

/** `project/zone/vm` with the parts that are known. */
export function targetLabel(target: RunTarget): string {
  return [target.project, target.zone, target.vm].filter((p) => p !== undefined).join('/');
}
