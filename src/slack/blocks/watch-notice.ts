/**
 * A watch notice as the VM's channel sees it: what changed, the last log lines of what failed (redacted by
 * the probe), and for a VM that is unhealthy or drifted a Repair button that starts `/gitspaces setup <vm>`.
 */
import type { types } from '@slack/bolt';
import type { WatchNotice } from '../../watch/probe-job.js';
import { codeBlock, escapeMrkdwn, LIMITS, truncate } from './limits.js';
import type { SlackMessage } from './run-message.js';

export const REPAIR_ACTION = 'watch_repair';

const EMOJI: Record<WatchNotice['kind'], string> = {
  unhealthy: ':red_circle:',
  recovered: ':large_green_circle:',
  unreachable: ':grey_question:',
  drift: ':twisted_rightwards_arrows:',
  age: ':hourglass:',
  disk: ':floppy_disk:',
  boot: ':electric_plug:',
  restarted: ':repeat:',
  'runner-errors': ':warning:',
};

/** `project/zone/vm` as `/gitspaces setup` reads it, so a Repair click finds the same VM. */
export function repairValue(target: WatchNotice['target']): string {
  return [target.project, target.zone, target.vm].filter((part) => part !== undefined).join('/');
}

export function watchNoticeMessage(notice: WatchNotice): SlackMessage {
  const [head = notice.vm, ...rest] = notice.lines;
  const text = `${EMOJI[notice.kind]} ${escapeMrkdwn(head)}`;
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          [`*${text}*`, ...rest.map((line) => `• ${escapeMrkdwn(line)}`)].join('\n'),
          LIMITS.sectionText,
        ),
      },
    },
  ];
  for (const log of notice.logs.slice(0, 2))
    blocks.push(
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `last log lines of ${escapeMrkdwn(log.container)}` }],
      },
      { type: 'section', text: { type: 'mrkdwn', text: codeBlock(log.text || '(no log output)') } },
    );
  if (notice.repair)
    blocks.push({
      type: 'actions',
      block_id: 'watch-repair',
      elements: [
        {
          type: 'button',
          action_id: REPAIR_ACTION,
          text: { type: 'plain_text', text: 'Repair' },
          value: truncate(repairValue(notice.target), LIMITS.buttonValue),
        },
      ],
    });
  const more = rest.length > 0 ? `: ${rest.join('; ')}` : '';
  return { text: truncate(`${head}${more}`, LIMITS.messageText), blocks };
}
