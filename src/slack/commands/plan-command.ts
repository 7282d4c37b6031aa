import { randomBytes } from 'node:crypto';
import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import { queuedRun } from '../../queue/queued-run.js';
import { stateOfResult } from '../../queue/run-states.js';
import type { Reporter, VmRef } from '../../setup/ports.js';
import type { AppContext } from '../app-context.js';
import { runMessage, type SlackMessage } from '../blocks/run-message.js';
import { runViewFromRecord } from '../blocks/run-view.js';
import { runSummaryReply, stepFailedReply } from '../blocks/thread-replies.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

/** Plans are not queued runs: they change nothing, hold no VM and keep no record. */
export const PLAN_ID_PREFIX = 'plan-';

/** A person waits for the plan: its messages are tried again for this long. */
const POST_FOR_MS = 60_000;

/**
 * `/gitspaces plan <vm>`: the checks alone, shown in the channel as a checklist like a setup's, with steps
 * already in place marked and the rest left pending (what setup would do), and the verdict in its thread.
 * A plan keeps no record, so its messages are posted once it is over, not kept current as a run's are.
 */
export async function planCommand(ctx: AppContext, { command, respond }: Args, vm: VmRef): Promise<void> {
  const allowed = await ctx.access.start(command.user_id);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  if (ctx.planVm === undefined) {
    await respond(ephemeral(noticeMessage('Plans are not enabled in this process.')));
    return;
  }
  const now = Date.now();
  const run = queuedRun(`${PLAN_ID_PREFIX}${now.toString(36)}-${randomBytes(6).toString('base64url')}`, now, {
    target: { vm: vm.name, project: vm.project, zone: vm.zone },
    requester: command.user_id,
    channel: command.channel_id,
  });
  const view = runViewFromRecord(run, 'plan');
  // The steps come with the result; only the failures' details are heard on the way.
  const failures: SlackMessage[] = [];
  const reporter: Reporter = {
    runStarted: () => undefined,
    stepStarted: () => undefined,
    stepFinished: () => undefined,
    stepFailed: (record, error) => {
      failures.push(stepFailedReply(record, error));
    },
    approvalRequested: () => undefined,
    runFinished: () => undefined,
  };
  const result = await ctx.planVm({ runId: run.id, target: run.target, requester: run.requester }, reporter);
  for (const step of result.steps) view.steps[step.id] = step;
  view.state = stateOfResult(result);
  view.finishedAt = Date.now();
  const post = (message: SlackMessage, thread?: string) =>
    ctx.calls.call(
      'chat.postMessage',
      { channel: run.channel, ...(thread === undefined ? {} : { thread_ts: thread }), ...message },
      { deadlineMs: POST_FOR_MS },
    );
  const parent = await post(runMessage(view));
  for (const message of [...failures, runSummaryReply(result, 'plan')])
    await post(message, String(parent.ts));
}
