import type { StepState } from '../../setup/step-ids.js';

/** `<@U…>` for people, `<!subteam^S…>` for user groups. https://docs.slack.dev/messaging/formatting-message-text#mentioning-groups */
export function mention(id: string): string {
  return id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`;
}

/**
 * A date every reader sees in their own time zone, with a UTC fallback for clients that cannot localise.
 * https://docs.slack.dev/messaging/formatting-message-text#date-formatting
 */
export function slackDate(ms: number): string {
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${Math.floor(ms / 1000)}^{date_short_pretty} at {time}|${fallback}>`;
}

export const STEP_EMOJI: Record<StepState, string> = {
  pending: ':white_circle:',
  running: ':arrows_counterclockwise:',
  done: ':white_check_mark:',
  unchanged: ':ballot_box_with_check:',
  waiting: ':hourglass_flowing_sand:',
  failed: ':x:',
  cancelled: ':no_entry_sign:',
};

/** A link to a message's thread that works without an API call (Slack redirects it to the workspace). */
export function archiveLink(channel: string, ts: string): string {
  return `https://slack.com/archives/${channel}/p${ts.replace('.', '')}`;
}

/** A link to a reply inside a thread (`archiveLink` of the reply opens the channel, not the thread). */
export function threadReplyLink(channel: string, ts: string, threadTs: string): string {
  return `${archiveLink(channel, ts)}?thread_ts=${threadTs}&cid=${channel}`;
}
