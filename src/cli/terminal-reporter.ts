import { formatDuration } from '../duration.js';
import { planVerdict } from '../setup/plan-outcome.js';
import type { ApprovalRequest, ReportedError, Reporter, RunResult, StepRecord } from '../setup/ports.js';
import { STEP_IDS, type StepId, type StepState } from '../setup/step-ids.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const MARK: Record<StepState, string> = {
  pending: '·',
  running: '▶',
  done: '✓',
  unchanged: '=',
  waiting: '…',
  failed: '✗',
  cancelled: '−',
};
const WIDTH = Math.max(...STEP_IDS.map((s) => s.length));

export interface TerminalOutput {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * Progress in a terminal: on a TTY the running step has a spinner and a live elapsed time; elsewhere (CI, pipes)
 * one plain line per event.
 */
export function terminalReporter(
  out: TerminalOutput,
  now: () => number = Date.now,
): Reporter & { stop(): void } {
  const tty = out.isTTY === true;
  let live: { id: StepId; started: number; timer: NodeJS.Timeout } | undefined;
  let frame = 0;

  const liveLine = () => {
    if (!live) return;
    frame = (frame + 1) % SPINNER.length;
    out.write(
      `\r\x1b[K${SPINNER[frame]} ${live.id.padEnd(WIDTH)}  running  ${formatDuration(now() - live.started)}`,
    );
  };
  const endLive = () => {
    if (!live) return;
    clearInterval(live.timer);
    out.write('\r\x1b[K');
    live = undefined;
  };
  const line = (text: string) => {
    const wasLive = live;
    if (tty && wasLive) out.write('\r\x1b[K');
    out.write(`${text}\n`);
    if (tty && wasLive) liveLine();
  };
  const stepLine = (r: StepRecord) =>
    `${MARK[r.state]} ${r.id.padEnd(WIDTH)}  ${r.state.padEnd(9)} ${r.durationMs === undefined ? '' : formatDuration(r.durationMs).padStart(6)}  ${r.summary ?? ''}`.trimEnd();

  let mode: 'setup' | 'plan' = 'setup';
  return {
    runStarted({ vm, mode: started, resumed }) {
      mode = started;
      line(`${started === 'plan' ? 'Plan for' : 'Setting up'} ${vm}${resumed ? ' (resuming)' : ''}`);
    },
    stepStarted(id) {
      endLive();
      if (!tty) return void line(`${MARK.running} ${id.padEnd(WIDTH)}  running`);
      live = { id, started: now(), timer: setInterval(liveLine, 100) };
      live.timer.unref();
      liveLine();
    },
    stepOutput(id, text) {
      line(`  ${id}: ${text}`);
    },
    stepFinished(record) {
      endLive();
      line(stepLine(record));
    },
    stepFailed(record: StepRecord, error: ReportedError) {
      endLive();
      line(stepLine(record));
      if (error.detail) line(error.detail.replace(/^/gm, '    │ '));
    },
    approvalRequested(request: ApprovalRequest) {
      endLive();
      const changes = request.changes ?? [];
      line(
        changes.length > 0
          ? `Approval needed to change ${request.vm}:\n${changes.map((c) => `  ${c}`).join('\n')}`
          : `Approval needed to install the delegate ${request.delegateName} (${request.delegateImage}) on ${request.vm}`,
      );
      line(
        `  account ${request.accountId}, tags "${request.tags}", host key ${request.hostKeyFingerprint}${request.delegateAge ? `\n  ${request.delegateAge}` : ''}`,
      );
    },
    runFinished(result: RunResult) {
      endLive();
      line(mode === 'plan' && result.state === 'succeeded' ? planVerdict(result) : summary(result));
    },
    stop: endLive,
  };
}

export function summary(result: RunResult): string {
  switch (result.state) {
    case 'succeeded':
      return result.unchanged
        ? `Every step was already in place on ${result.vm}: nothing changed.`
        : `${result.vm} is set up: runner and delegate are up.`;
    case 'failed':
      return `Setup of ${result.vm} failed at ${result.step}: ${result.error?.message ?? ''}`;
    case 'rejected':
      return `The delegate install on ${result.vm} was rejected.`;
    case 'expired':
      return `No approver decided in time: ${result.vm} was left without a delegate.`;
    case 'cancelled':
      return `The run on ${result.vm} was cancelled.`;
    case 'awaiting-approval':
      return `Stopped at approval: ${result.vm} has everything but the delegate.`;
  }
}
