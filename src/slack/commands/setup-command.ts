import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { RunImages, RunRecord } from '../../queue/types.js';
import type { VmRef } from '../../setup/ports.js';
import type { AppContext } from '../app-context.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { Priority } from '../delivery/run-reporter.js';
import { ephemeral } from '../replies.js';
import { reserveRun } from './reserve-run.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

/**
 * `/gitspaces setup <vm> [<vm>…]` (and `upgrade`, a setup run with the images given): one run per VM, each
 * with its own parent message and thread, which the delivery queue posts at the channel's pace.
 */
export function setupCommand(
  ctx: AppContext,
  { command, respond }: Args,
  vms: VmRef[],
  upgrade?: { kind: 'upgrade'; images: RunImages },
): Promise<void> {
  return startSetups(ctx, { user: command.user_id, channel: command.channel_id, respond }, vms, upgrade);
}

/** Starts a run per VM for `user` in `channel` (a command, or a watch notice's Repair button). */
export async function startSetups(
  ctx: AppContext,
  { user, channel, respond }: { user: string; channel: string; respond: Args['respond'] },
  vms: VmRef[],
  upgrade?: { kind: 'upgrade'; images: RunImages },
): Promise<void> {
  const allowed = await ctx.access.start(user);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  const refusals: string[] = [];
  const runs: RunRecord[] = [];
  for (const vm of vms) {
    const reserved = await reserveRun(ctx, {
      target: { vm: vm.name, project: vm.project, zone: vm.zone },
      requester: user,
      channel,
      ...(upgrade ?? {}),
    });
    if (reserved.ok) runs.push(reserved.run);
    else refusals.push(reserved.refusal);
  }
  // Their parents: a person waits for them, so they go first in the channel.
  await Promise.all(runs.map((run) => ctx.delivery.sync(run.id, 'post', Priority.urgent)));
  if (refusals.length > 0) await respond(ephemeral(noticeMessage(refusals.join('\n'))));
}
