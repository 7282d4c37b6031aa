import type { types } from '@slack/bolt';
import type { RunRecord } from '../../queue/types.js';
import { archiveLink, mention, slackDate } from './format.js';
import { escapeMrkdwn, LIMITS, truncate } from './limits.js';
import type { SlackMessage } from './run-message.js';
import { chunkLines } from './thread-replies.js';

/** One line per run: state (as the contract spells it), VM, requester, when, and a link to its thread. */
export function runLine(record: RunRecord): string {
  const link =
    record.messageTs === undefined ? '' : ` · <${archiveLink(record.channel, record.messageTs)}|thread>`;
  return `\`${record.state}\` · ${record.kind ?? 'setup'} · *${escapeMrkdwn(record.target.vm)}* · ${mention(record.requester)} · ${slackDate(record.createdAt)}${link}`;
}

/** `/gitspaces status`: the recent runs, newest first, within one message's limits. */
export function recentRunsMessage(records: readonly RunRecord[]): SlackMessage {
  if (records.length === 0) {
    return {
      text: 'No Gitspaces runs yet',
      blocks: [
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'No Gitspaces runs yet. Start one with `/gitspaces setup <vm>`.' },
        },
      ],
    };
  }
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: 'Gitspaces runs' } },
  ];
  for (const chunk of chunkLines(records.map(runLine), LIMITS.sectionText)) {
    if (blocks.length >= LIMITS.blocksPerMessage - 1) break;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  }
  blocks.push({
    type: 'context',
    elements: [
      { type: 'mrkdwn', text: `${records.length} most recent · \`/gitspaces status <vm>\` checks a VM live` },
    ],
  });
  const states = records.map((r) => `${r.target.vm} ${r.state}`).join(', ');
  return { text: truncate(`Gitspaces runs: ${states}`, LIMITS.messageText), blocks };
}

/** One live check on a VM: docker, network, runner, runner health, delegate, delegate health. */
export interface ProbeCheck {
  id: string;
  title: string;
  ok: boolean;
  detail: string | undefined;
}

export interface VmStatusView {
  vm: string;
  /** Undefined when the VM could not be reached: then `error` says why. */
  checks: ProbeCheck[] | undefined;
  error: string | undefined;
  lastRun: RunRecord | undefined;
}

/** `/gitspaces status <vm>`: what is live on the VM now, and its last run. */
export function vmStatusMessage(status: VmStatusView): SlackMessage {
  const blocks: types.KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`Gitspaces status: ${status.vm}`, LIMITS.headerText) },
    },
  ];
  if (status.checks !== undefined) {
    const lines = status.checks.map((c) => {
      const detail = c.detail === undefined ? '' : `: ${truncate(escapeMrkdwn(c.detail), 300)}`;
      return `${c.ok ? ':white_check_mark:' : ':x:'} *${escapeMrkdwn(c.title)}* \`${c.id}\`${detail}`;
    });
    for (const chunk of chunkLines(lines, LIMITS.sectionText))
      blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  } else {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `:warning: Could not check the VM: ${escapeMrkdwn(status.error ?? 'unknown error')}`,
          LIMITS.sectionText,
        ),
      },
    });
  }
  const last =
    status.lastRun === undefined ? 'No run yet for this VM.' : `Last run: ${runLine(status.lastRun)}`;
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: truncate(last, LIMITS.sectionText) }] });
  const healthy = status.checks?.every((c) => c.ok) === true;
  return { text: `Gitspaces status of ${status.vm}: ${healthy ? 'all up' : 'not all up'}`, blocks };
}
