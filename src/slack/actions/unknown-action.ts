import type { AllMiddlewareArgs, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { answering, ephemeral } from '../replies.js';

/**
 * Buttons the bot does not know (an old message, another app's id): acked so Slack shows no error, logged,
 * and the person who clicked is told that nothing happened.
 */
export function unknownAction(ctx: AppContext) {
  return async function onUnknownAction({
    ack,
    payload,
    respond,
  }: SlackActionMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
    await ack();
    const actionId = 'action_id' in payload ? payload.action_id : undefined;
    ctx.log.warn({ actionId }, 'ignored an unknown action');
    await answering(respond, ctx.log, async () => {
      await respond(
        ephemeral(
          noticeMessage(
            'gitspaces-bot does not know this button (it may belong to an old message): nothing was changed.',
          ),
        ),
      );
    });
  };
}
