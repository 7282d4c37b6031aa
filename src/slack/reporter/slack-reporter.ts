/**
 * The Reporter the worker hands the engine for a run: it turns the engine's events into the run's parent
 * message (kept current in place) and thread replies. Every method returns at once; delivery happens in
 * the run's outbox, so a slow or absent Slack never slows or fails the run.
 */
import type { RunRecord } from '../../queue/types.js';
import type { ApprovalRequest, ReportedError, Reporter, RunResult, StepRecord } from '../../setup/ports.js';
import type { StepId } from '../../setup/steps.js';
import {
  type ApprovalOutcome,
  approvalRequestMessage,
  closedApprovalMessage,
  closedApprovalSummary,
} from '../blocks/approval-message.js';
import type { RunView } from '../blocks/run-view.js';
import { retryingReply, runSummaryReply, stepFailedReply } from '../blocks/thread-replies.js';
import { Priority } from '../delivery/slack-sender.js';
import type { Log } from '../log.js';
import type { RunOutbox } from './run-outbox.js';
import { markDelivered, type OwedKind, persist, type SlackLedger } from './slack-ledger.js';

export interface RunReporterContext {
  record: RunRecord;
  view: RunView;
  outbox: RunOutbox;
  approvers: string[];
  /** Records the approval message so that any process can close it later. */
  approvalPosted: (ts: string) => Promise<void>;
  /** The approval request while this process knows it (the closed message then keeps its details). */
  approval: { request: ApprovalRequest | undefined; ts: string | undefined };
  finished: () => void;
  /** What the thread is owed, kept where another worker can deliver it (worker processes only). */
  ledger?: SlackLedger | undefined;
  log?: Log;
}

/** The run's final state as `/gitspaces status` spells it. */
function finalState(result: RunResult): RunView['state'] {
  return result.state === 'failed' ? `failed:${result.step ?? 'preflight'}` : result.state;
}

function setStep(view: RunView, record: StepRecord): void {
  view.steps[record.id] = { ...record };
}

export function createRunReporter(ctx: RunReporterContext): Reporter {
  const { view, outbox, ledger } = ctx;
  const runId = ctx.record.id;
  const warn = (what: string) => (error: unknown) =>
    ctx.log?.warn({ runId, err: String(error) }, `could not record what the thread is owed: ${what}`);

  /** Takes the right to deliver `kind`; without a ledger (or Redis) this process delivers. */
  async function hold(kind: OwedKind): Promise<boolean> {
    return ledger === undefined ? true : ledger.hold(runId, kind);
  }

  function delivered(kind: OwedKind): void {
    if (ledger !== undefined) void markDelivered(ledger, runId, kind).catch(warn(kind));
  }

  function closeApproval(outcome: ApprovalOutcome): void {
    const { request } = ctx.approval;
    const message =
      request === undefined
        ? closedApprovalSummary(view.target.vm, outcome)
        : closedApprovalMessage({ request, requester: view.requester, approvers: ctx.approvers }, outcome);
    outbox.push({ kind: 'edit', ts: () => ctx.approval.ts ?? ctx.record.approvalTs, message });
  }

  return {
    runStarted(info) {
      // Resumed after an attempt that failed (the queue's retry): say so under the failure it reported.
      const failedAt = view.state.startsWith('failed:') ? view.state.slice('failed:'.length) : undefined;
      if (info.resumed && failedAt !== undefined && view.finishedAt === undefined) {
        view.state = `running:${failedAt}` as RunView['state'];
        outbox.push({ kind: 'reply', message: retryingReply(failedAt) });
      }
      view.mode = info.mode;
      outbox.changed();
      if (info.mode === 'setup') {
        void ledger?.owe(runId, 'summary').catch(warn('summary'));
        void ledger?.owe(runId, 'final').catch(warn('final'));
      }
    },
    stepStarted(id: StepId) {
      view.steps[id] = {
        id,
        state: id === 'approval' ? 'waiting' : 'running',
        durationMs: undefined,
        summary: undefined,
      };
      view.state = id === 'approval' ? 'awaiting-approval' : `running:${id}`;
      outbox.changed();
    },
    stepFinished(record) {
      setStep(view, record);
      outbox.changed();
    },
    stepFailed(record: StepRecord, error: ReportedError) {
      setStep(view, record);
      view.state = `failed:${record.id}`;
      outbox.push({ kind: 'reply', message: stepFailedReply(record, error) });
      outbox.changed();
    },
    async approvalRequested(request) {
      // Recorded before the engine notes that it asked: if this worker dies before Slack takes the
      // request, another worker's sweep posts it.
      await ledger?.owe(runId, 'approval', request).catch(warn('approval'));
      if (!(await hold('approval'))) return;
      ctx.approval.request = request;
      view.state = 'awaiting-approval';
      view.approvalExpiresAt = request.expiresAt;
      view.steps.approval = { id: 'approval', state: 'waiting', durationMs: undefined, summary: undefined };
      outbox.push({
        kind: 'reply',
        broadcast: true,
        // A person is waiting for these buttons: they go before any other run's summary in the channel.
        priority: Priority.urgent,
        message: approvalRequestMessage({ request, requester: view.requester, approvers: ctx.approvers }),
        posted: async (ts) => {
          ctx.approval.ts = ts;
          await persist(() => ctx.approvalPosted(ts));
          delivered('approval');
        },
        gaveUp: () => ledger?.release(runId, 'approval'),
      });
      outbox.changed();
    },
    runFinished(result) {
      for (const step of result.steps) setStep(view, step);
      view.unchanged = result.unchanged;
      if (result.state === 'awaiting-approval') {
        outbox.changed();
        return;
      }
      view.state = finalState(result);
      view.finishedAt = Date.now();
      // This process edits the parent to how the run ended, however long the edit waits for Slack's limit:
      // other workers' sweeps leave it alone while this process lives.
      void hold('final').catch(warn('final'));
      // A decision by click already closed the approval message; expiry and cancellation close it here.
      if (result.state === 'expired') closeApproval({ kind: 'expired' });
      if (result.state === 'cancelled') {
        const decision = ctx.record.decision;
        view.decidedBy = decision !== undefined && 'by' in decision ? decision.by : view.decidedBy;
        if (decision?.kind === 'cancelled') closeApproval(decision);
      }
      const summary = runSummaryReply(result, view.mode);
      outbox.changed();
      // Exactly one process tells the thread: this one, or another worker's sweep if this one dies first.
      void hold('summary').then((held) => {
        if (held) {
          outbox.push({
            kind: 'reply',
            message: summary,
            priority: Priority.later,
            posted: async () => delivered('summary'),
            gaveUp: () => ledger?.release(runId, 'summary'),
          });
        }
        ctx.finished();
      });
    },
  };
}
