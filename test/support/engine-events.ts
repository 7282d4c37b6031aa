import type { ApprovalRequest, ReportedError, Reporter, RunResult, StepRecord } from '../../src/setup/ports.js';
import type { StepId } from '../../src/setup/steps.js';

/** A Reporter that keeps everything it was told, for assertions on what a person would have seen. */
export function eventLog() {
  const started: StepId[] = [];
  const finished: StepRecord[] = [];
  const failed: { record: StepRecord; error: ReportedError }[] = [];
  const approvals: ApprovalRequest[] = [];
  const results: RunResult[] = [];
  const text: string[] = [];
  const reporter: Reporter = {
    runStarted: (info) => void text.push(JSON.stringify(info)),
    stepStarted: (id) => void started.push(id),
    stepOutput: (id, out) => void text.push(`${id}: ${out}`),
    stepFinished: (r) => void (finished.push(r), text.push(JSON.stringify(r))),
    stepFailed: (record, error) => void (failed.push({ record, error }), text.push(JSON.stringify({ record, error }))),
    approvalRequested: (r) => void (approvals.push(r), text.push(JSON.stringify(r))),
    runFinished: (r) => void (results.push(r), text.push(JSON.stringify(r))),
  };
  return {
    reporter,
    started,
    finished,
    failed,
    approvals,
    results,
    all: () => text.join('\n'),
    stateOf: (id: StepId) => [...finished, ...failed.map((f) => f.record)].filter((r) => r.id === id).at(-1)?.state,
  };
}
