import type { types } from '@slack/bolt';
import { formatDuration } from '../../duration.js';
import type { WatchEntry } from '../../watch/watch-store.js';
import { vmLines } from './home-view.js';
import { LIMITS } from './limits.js';
import type { SlackMessage } from './run-message.js';
import { chunkLines } from './thread-replies.js';

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
    entries.map((e) => vmLines(e, now)),
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
