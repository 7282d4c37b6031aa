import type { SlackEventMiddlewareArgs } from '@slack/bolt';
import type { RunRecord } from '../../queue/types.js';
import type { AppContext } from '../app-context.js';
import { homeView } from '../blocks/home-view.js';

type Args = Pick<SlackEventMiddlewareArgs<'app_home_opened'>, 'event'>;

/** The runs `user` may decide on; undefined when the user is no approver (the tab then has no such section). */
async function awaitingFor(ctx: AppContext, user: string): Promise<RunRecord[] | undefined> {
  if (!(await ctx.access.approver(user))) return undefined;
  const waiting = await ctx.runs.awaiting();
  // The policy also leaves out the user's own requests when self-approval is off.
  const allowed = await Promise.all(waiting.map((run) => ctx.access.decide(user, run)));
  return waiting.filter((_, i) => allowed[i]?.ok === true);
}

/**
 * Publishes the user's Home tab each time they open it. Slack sends the event for the Messages tab too,
 * where there is nothing to publish. https://docs.slack.dev/reference/events/app_home_opened
 */
export function appHomeOpened(ctx: AppContext) {
  return async ({ event }: Args): Promise<void> => {
    if (event.tab !== 'home') return;
    const [vms, awaiting] = await Promise.all([ctx.watch.store.list(), awaitingFor(ctx, event.user)]);
    const view = homeView({ now: Date.now(), vms, awaiting });
    await ctx.calls.call('views.publish', { user_id: event.user, view });
  };
}
