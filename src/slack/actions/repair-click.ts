import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { isGitspacesError } from '../../errors.js';
import { parseVmRef } from '../../setup/vm-ref.js';
import type { AppContext } from '../app-context.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { startSetups } from '../commands/setup-command.js';
import { answering, ephemeral } from '../replies.js';

type Args = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/**
 * **Repair** on a watch notice (value: `project/zone/vm`): `/gitspaces setup <vm>` as the person who
 * clicked, in the notice's channel, with the same access rules and the same refusal when a run is active.
 */
export function repairClick(ctx: AppContext) {
  return async function onRepairClick({ ack, body, action, respond }: Args): Promise<void> {
    await ack();
    await answering(respond, ctx.log, async () => {
      const channel = body.channel?.id ?? body.container?.channel_id;
      const here = channel === undefined ? undefined : ctx.access.channel(channel);
      if (channel === undefined || here === undefined) {
        await respond(ephemeral(noticeMessage('Repair works from the channel of the notice.')));
        return;
      }
      if (!here.ok) {
        await respond(ephemeral(noticeMessage(here.why)));
        return;
      }
      let vm: ReturnType<typeof parseVmRef>;
      try {
        vm = parseVmRef(action.value ?? '', ctx.config.gcp);
      } catch (error) {
        if (!isGitspacesError(error)) throw error;
        await respond(ephemeral(noticeMessage(`${error.message} Nothing was started.`)));
        return;
      }
      ctx.log.info({ vm: vm.name, by: body.user.id }, 'repair asked from a watch notice');
      await startSetups(ctx, { user: body.user.id, channel, respond }, [vm]);
    });
  };
}
