import type { SlackCommandMiddlewareArgs } from '@slack/bolt';
import type { CancelOutcome } from '../../queue/run-service.js';
import { resultOfRecord } from '../../queue/run-states.js';
import type { VmRef } from '../../setup/ports.js';
import type { AppContext } from '../app-context.js';
import { noticeMessage } from '../blocks/usage-message.js';
import { ephemeral } from '../replies.js';

type Args = Pick<SlackCommandMiddlewareArgs, 'command' | 'respond'>;

function explain(vm: string, outcome: Exclude<CancelOutcome, { ok: true }>): string {
  switch (outcome.reason) {
    case 'not-found':
      return `No run of *${vm}* is queued or waiting for approval.`;
    case 'running':
      return `The run of *${vm}* is in a step (\`${outcome.run.state}\`) and is not interrupted; a run can be cancelled while it is queued or waiting for approval.`;
    case 'already-decided':
      return `The approval for *${vm}* was already decided; the run goes on from there.`;
    case 'expired':
      return `The approval request for *${vm}* already expired; the run is ending.`;
  }
}

/** `/gitspaces cancel <vm>`: the requester or an approver ends a queued or waiting run. */
export async function cancelCommand(ctx: AppContext, { command, respond }: Args, vm: VmRef): Promise<void> {
  const active = await ctx.runs.activeForVm(vm.name);
  if (active === undefined) {
    await respond(ephemeral(noticeMessage(explain(vm.name, { ok: false, reason: 'not-found' }))));
    return;
  }
  const allowed = await ctx.access.cancel(command.user_id, active);
  if (!allowed.ok) {
    await respond(ephemeral(noticeMessage(allowed.why)));
    return;
  }
  const outcome = await ctx.runs.cancel({ vm: vm.name, userId: command.user_id });
  if (!outcome.ok) {
    await respond(ephemeral(noticeMessage(explain(vm.name, outcome))));
    return;
  }
  if (active.state === 'queued') {
    // No worker will pick this run up: its parent message is ended here.
    await ctx.delivery.reporterFor(outcome.run).runFinished(resultOfRecord(outcome.run));
  }
  await respond(ephemeral(noticeMessage(`:no_entry_sign: Cancelled the run of *${vm.name}*.`)));
}
