import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { DecideOutcome } from '../../queue/run-service.js';
import type { AppContext } from '../app-context.js';
import { outcomeLine } from '../blocks/approval-message.js';
import { slackDate } from '../blocks/format.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { Priority } from '../delivery/run-reporter.js';
import { answering, ephemeral } from '../replies.js';
import { clickedRequestProblem } from './clicked-request.js';

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

function explain(outcome: Exclude<DecideOutcome, { ok: true }>): string {
  if (outcome.reason === 'not-found')
    return 'This approval request is not known (any more); nothing was changed.';
  const { run } = outcome;
  switch (outcome.reason) {
    case 'already-decided':
      return run.decision === undefined
        ? 'This request was already decided; nothing was changed.'
        : `Already decided: ${outcomeLine(run.decision, run.approvalExpiresAt)}. Nothing was changed.`;
    case 'expired':
      return `This request expired${run.approvalExpiresAt === undefined ? '' : ` at ${slackDate(run.approvalExpiresAt)}`}; nothing was changed. Run \`/gitspaces setup ${run.target.vm}\` again to ask again.`;
    case 'not-waiting':
      return `The run of *${run.target.vm}* is not waiting for approval (\`${run.state}\`); nothing was changed.`;
  }
}

/**
 * A click on `delegate_approve` or `delegate_reject` (value: the run id), on that run's own request message.
 * Checked here whoever clicks; the
 * run service records the first decision atomically, and only that click asks for the request message to
 * be closed (buttons replaced by who decided and when). Every other click gets an ephemeral explanation.
 */
export function approvalClick(ctx: AppContext, decision: 'approve' | 'reject') {
  return async function onApprovalClick({ ack, body, action, respond }: Args): Promise<void> {
    await ack();
    await answering(respond, ctx.log, async () => {
      const run = await ctx.runs.get(action.value ?? '');
      if (run === undefined) {
        await respond(ephemeral(noticeMessage(explain({ ok: false, reason: 'not-found' }))));
        return;
      }
      const allowed = await ctx.access.decide(body.user.id, run);
      if (!allowed.ok) {
        await respond(ephemeral(noticeMessage(allowed.why)));
        return;
      }
      // A decided or finished run cannot change: the run service says why. An open one only from its request.
      const open = run.decision === undefined && run.finishedAt === undefined;
      const mismatch = open ? clickedRequestProblem(body, run) : undefined;
      if (mismatch !== undefined) {
        ctx.log.warn({ runId: run.id, by: body.user.id }, 'approval click on another run’s message refused');
        await respond(ephemeral(noticeMessage(mismatch)));
        return;
      }
      const outcome = await ctx.runs.decide({ runId: run.id, userId: body.user.id, decision });
      if (!outcome.ok) {
        await respond(ephemeral(noticeMessage(explain(outcome))));
        return;
      }
      ctx.log.info({ runId: run.id, decision, by: body.user.id }, 'approval decided');
      // The request clicked is the run's (checked above), also when its ts was not recorded yet.
      const ts = body.message?.ts ?? body.container.message_ts;
      if (run.approvalTs === undefined && ts !== undefined)
        await ctx.runs.attachMessage(run.id, { approvalTs: ts });
      // The request is closed ahead of every progress edit.
      await ctx.delivery.sync(run.id, 'edit', Priority.urgent);
    });
  };
}
