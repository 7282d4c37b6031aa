import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { setupModal } from '../blocks/setup-modal.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs & AllMiddlewareArgs, 'command' | 'respond' | 'client'>;

/**
 * `/gitspaces setup` alone opens the form. The trigger id lives 3 s and works once, so the modal is opened
 * right after the ack. https://docs.slack.dev/reference/methods/views.open
 */
export async function openSetupModal(ctx: AppContext, { command, respond, client }: Args): Promise<void> {
  const allowed = await ctx.access.start(command.user_id);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  await client.views.open({
    trigger_id: command.trigger_id,
    view: setupModal({
      channel: command.channel_id,
      project: ctx.config.gcp.project,
      zone: ctx.config.gcp.zone,
      delegateName: ctx.config.delegateName,
      tags: ctx.config.delegateTags,
    }),
  });
}
