import type { AllMiddlewareArgs, SlackActionMiddlewareArgs } from '@slack/bolt';
import type { AppContext } from '../app-context.js';

/** Buttons the bot does not know (an old message, another app's id): acked so Slack shows no error, and logged. */
export function unknownAction(ctx: AppContext) {
  return async function onUnknownAction({
    ack,
    payload,
  }: SlackActionMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
    await ack();
    const actionId = 'action_id' in payload ? payload.action_id : undefined;
    ctx.log.warn({ actionId }, 'ignored an unknown action');
  };
}
