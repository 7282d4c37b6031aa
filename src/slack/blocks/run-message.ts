import { createHash } from 'node:crypto';
import type { types } from '@slack/bolt';
import { formatDuration } from '../../duration.js';
import type { StepRecord } from '../../setup/ports.js';
import { STEP_IDS, STEP_TITLES } from '../../setup/step-ids.js';
import { mention, STEP_EMOJI, slackDate } from './format.js';
import { escapeKeepingMentions, LIMITS, truncate } from './limits.js';
import { type RunView, targetLabel } from './run-view.js';

export interface SlackMessage {
  /** The notification and screen-reader text. */
  text: string;
  blocks: types.KnownBlock[];
}

/**
 * The parent message of a run: a header, who asked, one block per step (`block_id` `step-<id>`, text with the
 * step's state word and duration) and a status line. Updated in place as the run moves.
 */
export function runMessage(view: RunView): SlackMessage {
  const title = view.mode === 'plan' ? 'Gitspaces plan' : 'Gitspaces setup';
  const blocks: types.KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: truncate(`${title}: ${view.target.vm}`, LIMITS.headerText) },
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `Requested by ${mention(view.requester)} · \`${targetLabel(view.target)}\` · run \`${view.runId}\``,
        },
      ],
    },
    { type: 'divider' },
    ...STEP_IDS.map((id) => stepBlock(view.steps[id])),
    { type: 'divider' },
    { type: 'context', elements: [{ type: 'mrkdwn', text: statusLine(view) }] },
  ];
  return { text: `${title} of ${view.target.vm}: ${view.state}`, blocks };
}

/**
 * A short fingerprint of a message as Slack would show it: recorded beside a posted parent so that the
 * process that edits it next knows what it already shows.
 */
export function messageDigest(message: SlackMessage): string {
  return createHash('sha256').update(JSON.stringify(message)).digest('base64url').slice(0, 22);
}

export function stepLine(step: StepRecord): string {
  const duration = step.durationMs === undefined ? '' : ` · ${formatDuration(step.durationMs)}`;
  return `${STEP_EMOJI[step.state]} *${STEP_TITLES[step.id]}* \`${step.id}\` · ${step.state}${duration}`;
}

function stepBlock(step: StepRecord): types.KnownBlock {
  const summary = step.summary === undefined ? '' : `\n${truncate(escapeKeepingMentions(step.summary), 300)}`;
  return {
    type: 'section',
    block_id: `step-${step.id}`,
    text: { type: 'mrkdwn', text: truncate(`${stepLine(step)}${summary}`, LIMITS.sectionText) },
  };
}

/** One line under the checklist that says where the run is; it always shows the run state as `/gitspaces status` does. */
export function statusLine(view: RunView): string {
  const state = `\`${view.state}\``;
  const took =
    view.finishedAt === undefined
      ? ''
      : ` in ${formatDuration(Math.max(0, view.finishedAt - view.startedAt))}`;
  const by = view.decidedBy === undefined ? '' : ` by ${mention(view.decidedBy)}`;
  switch (view.state) {
    case 'queued':
      return `:inbox_tray: ${state}: waiting for a worker`;
    case 'awaiting-approval': {
      const until =
        view.approvalExpiresAt === undefined ? '' : `, until ${slackDate(view.approvalExpiresAt)}`;
      return `:hourglass_flowing_sand: ${state}: waiting for an approver in the thread${until}`;
    }
    case 'succeeded':
      if (view.mode === 'plan') return `:mag: ${state}${took}: checks only, nothing was changed`;
      return view.unchanged
        ? `:white_check_mark: ${state}: everything was already in place, nothing changed${took}`
        : `:tada: ${state}${took}: the runner and the delegate are up`;
    case 'rejected':
      return `:no_entry: ${state}${by}: the delegate was not installed`;
    case 'expired':
      return `:alarm_clock: ${state}: nobody approved in time, the delegate was not installed`;
    case 'cancelled':
      return `:no_entry_sign: ${state}${by}`;
    default:
      return view.state.startsWith('failed:')
        ? `:x: ${state}${took}: details in the thread`
        : `:arrows_counterclockwise: ${state}`;
  }
}
