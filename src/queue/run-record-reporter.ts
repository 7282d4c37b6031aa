/**
 * A Reporter that mirrors a run's progress into its record (state, steps, audit) before the person
 * watching hears of it, so `/gitspaces status` never lags the thread, and an approval click that follows
 * the request always finds the run waiting.
 *
 * `runFinished` is deliberately not passed on: the worker first decides what the result means (a final
 * state, a retry, a parked run), ends the record, and then tells the inner reporter itself.
 */
import { formatDuration } from '../duration.js';
import type { Reporter, StepRecord } from '../setup/ports.js';
import type { StepId } from '../setup/step-ids.js';
import type { RunStore } from './run-store.js';

function stepDetail(record: StepRecord, extra?: string): string {
  const parts: string[] = [record.state];
  if (record.durationMs !== undefined) parts.push(`in ${formatDuration(record.durationMs)}`);
  const text = parts.join(' ');
  const said = extra ?? record.summary;
  return said === undefined ? text : `${text}: ${said}`;
}

export function runRecordReporter(store: RunStore, runId: string, inner: Reporter): Reporter {
  const system = (step: StepId, detail: string) => ({
    at: Date.now(),
    by: 'system',
    event: 'step' as const,
    step,
    detail,
  });

  const reporter: Reporter = {
    async runStarted(info) {
      await inner.runStarted(info);
    },
    async stepStarted(id) {
      const state = id === 'approval' ? 'awaiting-approval' : (`running:${id}` as const);
      await store.update(runId, {
        state,
        step: { id, state: 'running', durationMs: undefined, summary: undefined },
      });
      await inner.stepStarted(id);
    },
    async stepFinished(record) {
      await store.update(runId, { step: record }, system(record.id, stepDetail(record)));
      await inner.stepFinished(record);
    },
    async stepFailed(record, error) {
      await store.update(
        runId,
        { step: record },
        system(record.id, stepDetail(record, `${error.code}: ${error.message}`)),
      );
      await inner.stepFailed(record, error);
    },
    async approvalRequested(request) {
      await store.update(runId, { state: 'awaiting-approval', approvalExpiresAt: request.expiresAt });
      await inner.approvalRequested(request);
    },
    async runFinished() {
      // Passed on by the worker once the record is final (see above).
    },
  };
  if (inner.stepOutput !== undefined) {
    const forward = inner.stepOutput.bind(inner);
    reporter.stepOutput = (id, text) => forward(id, text);
  }
  return reporter;
}
