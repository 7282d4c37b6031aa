import type { types } from '@slack/bolt';
import { formatDuration } from '../../duration.js';
import { imageTag } from '../../setup/delegate-age.js';
import type { WatchEntry } from '../../watch/watch-store.js';
import { archiveLink, slackDate } from './format.js';
import { escapeMrkdwn, LIMITS } from './limits.js';
import type { SlackMessage } from './run-message.js';
import { chunkLines } from './thread-replies.js';

export const HEALTH_EMOJI = {
  healthy: ':large_green_circle:',
  unhealthy: ':red_circle:',
  unreachable: ':grey_question:',
} as const;

/** One line per watched VM: health, last probe, delegate version and age, muted until, last run. */
export function watchLine(entry: WatchEntry, now: number): string {
  const { vm, probe } = entry;
  const health =
    probe === undefined ? ':white_circle: not probed yet' : `${HEALTH_EMOJI[probe.health]} ${probe.health}`;
  const parts = [`*${escapeMrkdwn(vm.vm)}*`, health];
  if (probe !== undefined) parts.push(`probed ${slackDate(probe.at)}`);
  const image = probe?.delegateImage ?? vm.images.delegate;
  if (image !== undefined) {
    const age = probe?.delegateAgeMonths;
    parts.push(
      `delegate ${escapeMrkdwn(imageTag(image) || image)}${age === undefined ? '' : ` (${age} months)`}`,
    );
  }
  if (entry.mutedUntil !== undefined && entry.mutedUntil > now)
    parts.push(`:no_bell: muted until ${slackDate(entry.mutedUntil)}`);
  if (vm.messageTs !== undefined) parts.push(`<${archiveLink(vm.channel, vm.messageTs)}|last run>`);
  return parts.join(' · ');
}

/** `/gitspaces watch`: the channel's watched VMs, within one message's limits. */
export function watchListMessage(
  entries: readonly WatchEntry[],
  now: number,
  intervalMs: number,
): SlackMessage {
  if (entries.length === 0)
    return {
      text: 'No VM of this channel is watched',
      blocks: [
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: 'No VM of this channel is watched yet: every VM set up from here is.',
          },
        },
      ],
    };
  const blocks: types.KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Watched VMs' } }];
  const chunks = chunkLines(
    entries.map((e) => watchLine(e, now)),
    LIMITS.sectionText,
  );
  for (const chunk of chunks.slice(0, LIMITS.blocksPerMessage - 2))
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  const every =
    intervalMs > 0 ? `probed every ${formatDuration(intervalMs)}` : 'the watch is off (WATCH_INTERVAL=0)';
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: `${entries.length} watched · ${every} · \`/gitspaces mute <vm> <duration>\`` },
    ],
  });
  return { text: `${entries.length} watched VMs`, blocks };
}
