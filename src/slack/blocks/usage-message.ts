import type { types } from '@slack/bolt';
import { escapeMrkdwn, LIMITS, truncate } from './limits.js';
import type { SlackMessage } from './run-message.js';

export const USAGE = [
  '`/gitspaces setup <vm> [<vm>…]`: set up the Harness runner and delegate on each VM (`vm`, `zone/vm` or `project/zone/vm`)',
  '`/gitspaces setup`: the same, from a form',
  '`/gitspaces upgrade <vm> [<vm>…] [delegate=<image-or-tag>] [runner=<image-or-tag>]`: replace the containers with these images (the configured ones when none are given), after an approval; the old container comes back if the new one is not healthy',
  '`/gitspaces status [<vm>]`: recent runs, or what is live on one VM',
  '`/gitspaces plan <vm>`: what setup would do, changing nothing',
  '`/gitspaces cancel <vm>`: stop a queued or waiting run (its requester or an approver)',
  '`/gitspaces logs <vm> runner|delegate [lines]`: the last lines of a container’s log (default 100, at most 5000), secrets masked; long logs come as a file',
  '`/gitspaces watch`: the VMs this channel watches (every VM set up from it), their health and last probe',
  '`/gitspaces mute <vm> <duration>` / `/gitspaces unmute <vm>`: no watch notices about the VM for a while (e.g. `2h`, `1d`, at most `30d`)',
  '`/gitspaces forget <vm>`: stop watching the VM (who set it up or an approver)',
  '`/gitspaces help`: this list',
].join('\n');

/** The usage, with what was wrong first when there was something wrong. Always ephemeral. */
export function usageMessage(problem?: string): SlackMessage {
  const blocks: types.KnownBlock[] = [];
  if (problem !== undefined) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(`:warning: ${escapeMrkdwn(problem)}`, LIMITS.sectionText) },
    });
  }
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: USAGE } });
  return { text: problem ?? 'Gitspaces commands', blocks };
}

/** A one-section ephemeral answer (refusals, confirmations). `text` is mrkdwn written by the bot. */
export function noticeMessage(text: string): SlackMessage {
  return {
    text: truncate(text.replace(/[*`]/g, ''), LIMITS.messageText),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncate(text, LIMITS.sectionText) } }],
  };
}
