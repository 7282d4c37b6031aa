import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { VmRef } from '../../setup/ports.js';
import type { AppContext } from '../app-context.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral } from '../replies.js';
import { announceRun, reserveRun } from '../runs/start-run.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

/** `/gitspaces setup <vm> [<vm>…]`: one run per VM, each with its own parent message and thread. */
export async function setupCommand(ctx: AppContext, { command, respond }: Args, vms: VmRef[]): Promise<void> {
  const allowed = await ctx.access.start(command.user_id);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  const refusals: string[] = [];
  for (const vm of vms) {
    const reserved = await reserveRun(ctx, {
      target: { vm: vm.name, project: vm.project, zone: vm.zone },
      requester: command.user_id,
      channel: command.channel_id,
    });
    if (!reserved.ok) {
      refusals.push(reserved.refusal);
      continue;
    }
    const problem = await announceRun(ctx, reserved.run);
    if (problem !== undefined) {
      refusals.push(problem);
      break;
    }
  }
  if (refusals.length > 0) await respond(ephemeral(noticeMessage(refusals.join('\n'))));
}
