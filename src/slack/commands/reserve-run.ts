/**
 * Reserving a VM for a run from Slack (the command and the modal): the run is recorded (Redis, quick); its
 * parent message is then asked of delivery, which posts it at the channel's pace and records it (starting
 * the queued run at once). A second setup of a VM with an active run is refused with a link to its thread.
 */
import type { StartInput } from '../../queue/run-service.js';
import type { RunRecord } from '../../queue/types.js';
import type { AppContext } from '../app-context.js';
import { archiveLink, mention } from '../blocks/format.js';

export type Started = { ok: true; run: RunRecord } | { ok: false; refusal: string };

export async function reserveRun(ctx: AppContext, input: StartInput): Promise<Started> {
  const outcome = await ctx.runs.start(input);
  if (outcome.ok) return outcome;
  return { ok: false, refusal: await activeRunRefusal(ctx, outcome.active) };
}

/** Where to look instead: a link to the active run's thread. */
export async function activeRunRefusal(ctx: AppContext, active: RunRecord): Promise<string> {
  const vm = `*${active.target.vm}*`;
  const what = `\`${active.state}\`, requested by ${mention(active.requester)}`;
  const wait = `Wait for it, or \`/gitspaces cancel ${active.target.vm}\`.`;
  if (active.messageTs === undefined)
    return `:no_entry: ${vm} already has a run in progress (${what}). ${wait}`;
  const link = await permalink(ctx, active.channel, active.messageTs);
  return `:no_entry: ${vm} already has a run in progress (${what}): <${link}|see its thread>. ${wait}`;
}

async function permalink(ctx: AppContext, channel: string, ts: string): Promise<string> {
  try {
    const result = await ctx.calls.call(
      'chat.getPermalink',
      { channel, message_ts: ts },
      { deadlineMs: 1500 },
    );
    return typeof result.permalink === 'string' ? result.permalink : archiveLink(channel, ts);
  } catch {
    return archiveLink(channel, ts);
  }
}
