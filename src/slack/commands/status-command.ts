import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import { asGitspacesError } from '../../errors.js';
import type { VmRef } from '../../setup/ports.js';
import { withTimeout } from '../../timeout.js';
import type { AppContext } from '../app-context.js';
import { probeChecks } from '../blocks/probe-checks.js';
import { recentRunsMessage, type VmStatusView, vmStatusMessage } from '../blocks/status-message.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral, inChannel } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

/** Runs listed by `/gitspaces status`: the newest of this channel. */
const RECENT = 20;
/** A live check connects over SSH; give up long before the response URL (30 min) does. */
const PROBE_TIMEOUT_MS = 90_000;

/** `/gitspaces status`: the channel's recent runs. `/gitspaces status <vm>`: what is live on it, and its last run. */
export async function statusCommand(
  ctx: AppContext,
  { command, respond }: Args,
  vm: VmRef | undefined,
): Promise<void> {
  if (vm === undefined) {
    const runs = await ctx.runs.recent({ channel: command.channel_id, limit: RECENT });
    await respond(inChannel(recentRunsMessage(runs)));
    return;
  }
  const allowed = await ctx.access.start(command.user_id);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  const lastRun = await ctx.runs.lastForVm(vm.name);
  const view: VmStatusView = { vm: vm.name, checks: undefined, error: undefined, lastRun };
  if (ctx.probeVm === undefined) {
    view.error = 'live checks are not enabled in this process.';
  } else {
    await respond(ephemeral(noticeMessage(`:mag: Checking *${vm.name}* over SSH…`)));
    try {
      const probe = ctx.probeVm({ vm: vm.name, project: vm.project, zone: vm.zone });
      view.checks = probeChecks(
        await withTimeout(
          probe,
          PROBE_TIMEOUT_MS,
          () => new Error(`no answer within ${PROBE_TIMEOUT_MS / 1000}s`),
        ),
      );
    } catch (error) {
      view.error = asGitspacesError(error).message;
    }
  }
  await respond(inChannel(vmStatusMessage(view)));
}
