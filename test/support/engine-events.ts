import type {
  ApprovalRequest,
  ReportedError,
  Reporter,
  RunResult,
  StepRecord,
} from '../../src/setup/ports.js';
import type { StepId } from '../../src/setup/step-ids.js';

/** A Reporter that keeps everything it was told, for assertions on what a person would have seen. */
export function eventLog() {
  const started: StepId[] = [];
  const finished: StepRecord[] = [];
  const failed: { record: StepRecord; error: ReportedError }[] = [];
  const approvals: ApprovalRequest[] = [];
  const results: RunResult[] = [];
  const text: string[] = [];
  const note = (value: unknown) => {
    text.push(typeof value === 'string' ? value : JSON.stringify(value));
  };
  const reporter: Reporter = {
    runStarted: (info) => note(info),
    stepStarted: (id) => {
      started.push(id);
    },
    stepOutput: (id, out) => note(`${id}: ${out}`),
    stepFinished: (r) => {
      finished.push(r);
      note(r);
    },
    stepFailed: (record, error) => {
      failed.push({ record, error });
      note({ record, error });
    },
    approvalRequested: (r) => {
      approvals.push(r);
      note(r);
    },
    runFinished: (r) => {
      results.push(r);
      note(r);
    },
  };
  return {
    reporter,
    started,
    finished,
    failed,
    approvals,
    results,
    all: () => text.join('\n'),
    stateOf: (id: StepId) =>
      [...finished, ...failed.map((f) => f.record)].filter((r) => r.id === id).at(-1)?.state,
  };
}
