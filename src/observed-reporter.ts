import { type Logger, runLogger, stepLogger } from './log.js';
import type { Metrics, StepOutcome } from './metrics.js';
import { stateOfResult } from './queue/run-states.js';
import type { Reporter, StepRecord } from './setup/ports.js';

const OUTCOMES: Record<StepRecord['state'], StepOutcome | undefined> = {
  done: 'done',
  unchanged: 'unchanged',
  failed: 'failed',
  cancelled: 'cancelled',
  waiting: 'waiting',
  pending: undefined,
  running: undefined,
};

/**
 * Logs and measures what a run reports, then passes it on: every line carries the run id, the VM and the
 * step. The texts are the engine's, already redacted.
 */
export function observedReporter(
  inner: Reporter,
  run: { runId: string; vm: string },
  parent: Logger,
  metrics?: Metrics,
): Reporter {
  const log = runLogger(parent, run);
  const step = (id: string) => stepLogger(log, id);
  // A resumed run replays the steps it finished before; only steps run here are measured.
  const started = new Set<string>();
  const measure = (record: StepRecord) => {
    if (!started.delete(record.id)) return;
    const outcome = OUTCOMES[record.state];
    if (outcome && record.durationMs !== undefined)
      metrics?.observeStep(record.id, outcome, record.durationMs / 1000);
  };
  return {
    runStarted(info) {
      log.info({ mode: info.mode, resumed: info.resumed }, info.resumed ? 'run resumed' : 'run started');
      return inner.runStarted(info);
    },
    stepStarted(id) {
      started.add(id);
      step(id).info('step started');
      return inner.stepStarted(id);
    },
    stepOutput(id, text) {
      step(id).info(text);
      return inner.stepOutput?.(id, text);
    },
    stepFinished(record) {
      step(record.id).info(
        { state: record.state, durationMs: record.durationMs },
        record.summary ?? record.state,
      );
      measure(record);
      return inner.stepFinished(record);
    },
    stepFailed(record, error) {
      step(record.id).warn(
        { code: error.code, retryable: error.retryable, detail: error.detail },
        error.message,
      );
      measure(record);
      if (/^(SSH_|HOST_KEY_)/.test(error.code)) metrics?.sshFailure(error.code);
      return inner.stepFailed(record, error);
    },
    approvalRequested(request) {
      step('approval').info({ expiresAt: new Date(request.expiresAt).toISOString() }, 'approval requested');
      metrics?.runState('awaiting-approval');
      return inner.approvalRequested(request);
    },
    runFinished(result) {
      log.info({ state: stateOfResult(result), unchanged: result.unchanged }, 'run finished');
      metrics?.runState(stateOfResult(result));
      return inner.runFinished(result);
    },
  };
}
