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
import { runSummaryReply, stepFailedReply } from '../blocks/thread-replies.js';
import { Priority } from '../delivery/slack-sender.js';
import type { RunOutbox } from './run-outbox.js';

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
}

/** The run's final state as `/gitspaces status` spells it. */
function finalState(result: RunResult): RunView['state'] {
  return result.state === 'failed' ? `failed:${result.step ?? 'preflight'}` : result.state;
}

function setStep(view: RunView, record: StepRecord): void {
  view.steps[record.id] = { ...record };
}

export function createRunReporter(ctx: RunReporterContext): Reporter {
  const { view, outbox } = ctx;

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
      view.mode = info.mode;
      outbox.changed();
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
    approvalRequested(request) {
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
          await ctx.approvalPosted(ts);
        },
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
      // A decision by click already closed the approval message; expiry and cancellation close it here.
      if (result.state === 'expired') closeApproval({ kind: 'expired' });
      if (result.state === 'cancelled') {
        const decision = ctx.record.decision;
        view.decidedBy = decision !== undefined && 'by' in decision ? decision.by : view.decidedBy;
        if (decision?.kind === 'cancelled') closeApproval(decision);
      }
      outbox.push({ kind: 'reply', message: runSummaryReply(result, view.mode), priority: Priority.later });
      outbox.changed();
      ctx.finished();
    },
  };
}
