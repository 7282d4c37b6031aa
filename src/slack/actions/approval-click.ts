import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  types,
} from '@slack/bolt';
import type { DecideOutcome } from '../../queue/run-service.js';
import type { AppContext } from '../app-context.js';
import { type ApprovalOutcome, closedApprovalBlocks, outcomeLine } from '../blocks/approval-message.js';
import { slackDate } from '../blocks/format.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { Priority } from '../delivery/slack-sender.js';
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
 * run service records the first decision atomically, and only that click edits the request message
 * (buttons replaced by who decided and when). Every other click gets an ephemeral explanation.
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
      await closeRequest(
        ctx,
        body,
        outcome.run.decision ?? {
          kind: decision === 'approve' ? 'approved' : 'rejected',
          by: body.user.id,
          at: Date.now(),
        },
      );
    });
  };
}

/** Edits the clicked message: the same details, the buttons replaced by the decision. */
async function closeRequest(ctx: AppContext, body: BlockAction, outcome: ApprovalOutcome): Promise<void> {
  const channel = body.channel?.id ?? body.container.channel_id;
  const ts = body.message?.ts ?? body.container.message_ts;
  if (channel === undefined || ts === undefined) return;
  const original = (body.message?.blocks ?? []) as types.KnownBlock[];
  await ctx.sender.call(
    'chat.update',
    {
      channel,
      ts,
      text: `Approval to install the Harness delegate: ${outcome.kind}`,
      blocks: closedApprovalBlocks(original, outcome),
    },
    // The person who clicked waits to see the decision; it goes before other edits and is never dropped
    // for being late (with many runs at once, Slack's edits a minute can hold it back for a while).
    { priority: Priority.urgent },
  );
}
