/**
 * The Reporter the worker hands the engine for a run. The run record is already current when it is told
 * (see queue/run-record-reporter.ts), so it only says what Slack should catch up with: an edit of the
 * parent, or a thread reply. Progress edits are asked for and forgotten (a later one supersedes them);
 * replies, the approval request and the end of a run are in Redis before it returns.
 */
import type { Log } from '../../log.js';
import type { RunRecord } from '../../queue/types.js';
import type { Reporter } from '../../setup/ports.js';
import { approvalRequestMessage } from '../blocks/approval-message.js';
import { retryingReply, runSummaryReply, stepFailedReply } from '../blocks/thread-replies.js';
import type { Reply } from './thread-outbox.js';

/** BullMQ priorities (1 goes first): parents, approval requests and decisions; failures and final states; progress. */
export const Priority = { urgent: 1, news: 2, progress: 3 } as const;

/** What a run's reporter asks of Slack delivery (slack-delivery.ts). */
export interface DeliveryRequests {
  /** The run's parent (and thread) or its edits should catch up with its record. */
  sync(runId: string, kind: 'post' | 'edit', priority?: number): Promise<void>;
  /** Queues a thread reply (once per run for a keyed one) and the job that posts it. */
  reply(runId: string, reply: Omit<Reply, 'id'>): Promise<void>;
}

export function createRunReporter(
  delivery: DeliveryRequests,
  run: RunRecord,
  approvers: string[],
  log: Log,
): Reporter {
  const unasked = (error: unknown) =>
    log.warn({ runId: run.id, err: String(error) }, 'could not ask for an edit');
  const edit = (priority: number = Priority.progress) =>
    void delivery.sync(run.id, 'edit', priority).catch(unasked);
  return {
    async runStarted(info) {
      // The parent is posted now if the app could not (Slack or the app was away).
      await delivery.sync(run.id, 'post', Priority.urgent);
      // Resumed after an attempt that failed (the queue's retry): said once under the failure it reported.
      const last = run.audit.at(-1);
      if (info.resumed && last?.event === 'retry' && last.step !== undefined) {
        const key = `retry-${run.audit.length}` as const;
        await delivery.reply(run.id, { message: retryingReply(last.step), key, priority: Priority.news });
      }
      edit();
    },
    stepStarted: () => edit(),
    stepFinished: () => edit(),
    async stepFailed(record, error) {
      await delivery.reply(run.id, { message: stepFailedReply(record, error), priority: Priority.news });
      edit(Priority.news);
    },
    async approvalRequested(request) {
      const message = approvalRequestMessage({ request, requester: run.requester, approvers });
      await delivery.reply(run.id, { message, broadcast: true, key: 'approval', priority: Priority.urgent });
      edit(Priority.news);
    },
    async runFinished(result) {
      const summary = { message: runSummaryReply(result), key: 'summary', priority: Priority.news } as const;
      if (result.state !== 'awaiting-approval') await delivery.reply(run.id, summary);
      // The parent's final state, and an expired or cancelled request's close.
      await delivery.sync(run.id, 'edit', Priority.news);
    },
  };
}
