import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { AppContext } from '../app-context.js';
import { noticeMessage, usageMessage } from '../blocks/usage-message.js';
import { answering, ephemeral } from '../replies.js';
import { cancelCommand } from './cancel-command.js';
import { createFollowUps } from './follow-ups.js';
import { logsCommand } from './logs-command.js';
import { openSetupModal } from './open-setup-modal.js';
import { parseCommand } from './parse-command.js';
import { planCommand } from './plan-command.js';
import { setupCommand } from './setup-command.js';
import { statusCommand } from './status-command.js';
import { forgetCommand, muteCommand, watchCommand } from './watch-commands.js';

/**
 * `/gitspaces …`: usage, bad input and channel refusals go back in the ack itself (no extra call); anything
 * else is acked at once and done afterwards, once no other command is waiting for its ack.
 * https://docs.slack.dev/interactivity/implementing-slash-commands#responding_to_commands
 */
export function gitspacesCommand(ctx: AppContext) {
  const followUps = createFollowUps();
  return async function onGitspaces(args: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> {
    followUps.arrived();
    const { command, ack, respond } = args;
    // Slack always sends both; a request without them cannot be authorised or answered in a channel.
    if (!command.user_id)
      return ack(
        ephemeral(
          noticeMessage(
            'This request does not say who sent it: it was not allowed, and nothing was changed.',
          ),
        ),
      );
    if (!command.channel_id)
      return ack(
        ephemeral(
          noticeMessage(
            'This request does not say which channel it came from: run the command in a channel.',
          ),
        ),
      );
    const parsed = parseCommand(command.text, ctx.config.gcp);
    if (parsed.kind === 'help') return ack(ephemeral(usageMessage()));
    if (parsed.kind === 'invalid') return ack(ephemeral(usageMessage(parsed.problem)));
    const channel = ctx.access.channel(command.channel_id);
    if (!channel.ok) return ack(ephemeral(noticeMessage(channel.why)));
    await ack();
    // The modal's trigger id lives 3 s: it cannot wait its turn.
    if (parsed.kind === 'setup-modal') return answering(respond, ctx.log, () => openSetupModal(ctx, args));
    await answering(respond, ctx.log, () => followUps.run(() => answer(ctx, args, parsed)));
  };
}

type Parsed = Exclude<ReturnType<typeof parseCommand>, { kind: 'help' | 'invalid' | 'setup-modal' }>;

/** What a command does once acked. */
async function answer(ctx: AppContext, args: SlackCommandMiddlewareArgs, parsed: Parsed): Promise<void> {
  switch (parsed.kind) {
    case 'setup':
      return setupCommand(ctx, args, parsed.vms);
    case 'upgrade':
      return setupCommand(ctx, args, parsed.vms, { kind: 'upgrade', images: parsed.images });
    case 'status':
      return statusCommand(ctx, args, parsed.vm);
    case 'plan':
      return planCommand(ctx, args, parsed.vm);
    case 'cancel':
      return cancelCommand(ctx, args, parsed.vm);
    case 'logs':
      return logsCommand(ctx, args, parsed);
    case 'watch':
      return watchCommand(ctx, args);
    case 'mute':
      return muteCommand(ctx, args, parsed.vm, parsed.forMs);
    case 'unmute':
      return muteCommand(ctx, args, parsed.vm, undefined);
    case 'forget':
      return forgetCommand(ctx, args, parsed.vm);
  }
}
