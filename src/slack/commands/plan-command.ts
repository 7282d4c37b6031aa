import { randomBytes } from 'node:crypto';
import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import { queuedRun } from '../../queue/queued-run.js';
import type { VmRef } from '../../setup/ports.js';
import type { AppContext } from '../app-context.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

/** Plans are not queued runs: they change nothing, hold no VM and keep no record. */
export const PLAN_ID_PREFIX = 'plan-';

/**
 * `/gitspaces plan <vm>`: the checks alone, shown in the channel as a checklist like a setup's, with steps
 * already in place marked and the rest left pending (what setup would do).
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
  await ctx.planVm(
    { runId: run.id, target: run.target, requester: run.requester },
    ctx.reporters.reporterFor(run),
  );
}
