/**
 * The watch from Slack: `/gitspaces watch` (the channel's watched VMs, posted in the channel like status),
 * `mute <vm> <duration>`, `unmute <vm>` and `forget <vm>`. Muting and unmuting are for whoever may run
 * setup; forgetting a VM for the one who set it up or an approver.
 */
import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { VmRef } from '../../setup/ports.js';
import type { AppContext } from '../app-context.js';
import { slackDate } from '../blocks/format.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { watchListMessage } from '../blocks/watch-list.js';
import { ephemeral, inChannel } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

const notWatched = (vm: string) =>
  `*${vm}* is not watched: VMs are watched once a setup from Slack succeeds on them.`;

export async function watchCommand(ctx: AppContext, { command, respond }: Args): Promise<void> {
  const entries = await ctx.watch.store.list(command.channel_id);
  await respond(inChannel(watchListMessage(entries, Date.now(), ctx.config.watchIntervalMs)));
}

/** `mute <vm> <duration>` (`until` set) or `unmute <vm>`. */
export async function muteCommand(
  ctx: AppContext,
  { command, respond }: Args,
  vm: VmRef,
  forMs: number | undefined,
): Promise<void> {
  const allowed = await ctx.access.start(command.user_id);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  const until = forMs === undefined ? undefined : Date.now() + forMs;
  if (!(await ctx.watch.store.mute(vm.name, until))) {
    await respond(ephemeral(noticeMessage(notWatched(vm.name))));
    return;
  }
  ctx.log.info(
    { vm: vm.name, by: command.user_id, until },
    until === undefined ? 'watch unmuted' : 'watch muted',
  );
  const said =
    until === undefined
      ? `:bell: *${vm.name}* is no longer muted: the next probe tells this channel if its state changed since the last notice.`
      : `:no_bell: No notices about *${vm.name}* until ${slackDate(until)} (\`/gitspaces unmute ${vm.name}\` ends it sooner).`;
  await respond(ephemeral(noticeMessage(said)));
}

export async function forgetCommand(ctx: AppContext, { command, respond }: Args, vm: VmRef): Promise<void> {
  const entry = await ctx.watch.store.get(vm.name);
  if (entry === undefined) {
    await respond(ephemeral(noticeMessage(notWatched(vm.name))));
    return;
  }
  const allowed = await ctx.access.forget(command.user_id, entry.vm.requester);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  await ctx.watch.unschedule(vm.name);
  await ctx.watch.store.forget(vm.name);
  ctx.log.info({ vm: vm.name, by: command.user_id }, 'watch forgotten');
  await respond(
    ephemeral(
      noticeMessage(
        `:wave: *${vm.name}* is no longer watched. Its containers are left as they are; the next successful setup watches it again.`,
      ),
    ),
  );
}
