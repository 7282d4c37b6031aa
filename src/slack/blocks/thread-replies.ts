import type { types } from '@slack/bolt';
import { formatDuration } from '../../duration.js';
import { planVerdict } from '../../setup/plan-outcome.js';
import type { ReportedError, RunResult, StepRecord } from '../../setup/ports.js';
import { STEP_EMOJI } from './format.js';
import { codeBlock, escapeKeepingMentions, LIMITS, truncate } from './limits.js';
import type { SlackMessage } from './run-message.js';

/** What a failed step tells the thread: the message (which says how to fix it) and the redacted log tail. */
export function stepFailedReply(record: StepRecord, error: ReportedError): SlackMessage {
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `:x: *\`${record.id}\` failed* (${error.code})\n${escapeKeepingMentions(error.message)}`,
          LIMITS.sectionText,
        ),
      },
    },
  ];
  if (error.detail !== undefined && error.detail.trim() !== '') {
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: codeBlock(error.detail) } });
  }
  return { text: truncate(`${record.id} failed: ${error.message}`, LIMITS.messageText), blocks };
}

/** The queue took the run up again after an attempt failed at `step`: what the thread said was not the end. */
export function retryingReply(step: string): SlackMessage {
  const text = `:repeat: *Trying again* from \`${step}\`: the failure above ended that attempt, not the run.`;
  return { text: `Trying again from ${step}`, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

const HEADLINES: Record<RunResult['state'], string> = {
  succeeded: ':tada: *Setup finished.* The runner and the Harness delegate are up.',
  failed: ':x: *Setup failed.*',
  rejected: ':no_entry: *Rejected.* The delegate was not installed; the runner stays as it is.',
  expired:
    ':alarm_clock: *The approval request expired.* The delegate was not installed; run setup again to ask again.',
  cancelled: ':no_entry_sign: *Cancelled.* Nothing more will be changed.',
  'awaiting-approval': ':hourglass_flowing_sand: *Waiting for approval.*',
};

/** The final word in the thread: how it ended and one line per step with what it found or did. */
export function runSummaryReply(result: RunResult, mode: 'setup' | 'plan' = 'setup'): SlackMessage {
  const headline = summaryHeadline(result, mode);
  const lines = result.steps.map((step) => {
    const duration = step.durationMs === undefined ? '' : ` (${formatDuration(step.durationMs)})`;
    const summary =
      step.summary === undefined ? '' : `: ${truncate(escapeKeepingMentions(step.summary), 200)}`;
    return `${STEP_EMOJI[step.state]} \`${step.id}\` ${step.state}${duration}${summary}`;
  });
  const blocks: types.KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncate(headline, LIMITS.sectionText) } },
  ];
  for (const chunk of chunkLines(lines, LIMITS.sectionText)) {
    if (blocks.length >= LIMITS.blocksPerMessage) break;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: chunk } });
  }
  return { text: truncate(headline.replace(/[:*]/g, ''), LIMITS.messageText), blocks };
}

function summaryHeadline(result: RunResult, mode: 'setup' | 'plan'): string {
  if (mode === 'plan') {
    return result.state === 'failed'
      ? `:x: *Plan stopped at \`${result.step ?? 'preflight'}\`.* Nothing was changed.`
      : `:mag: *${escapeKeepingMentions(planVerdict(result))}*`;
  }
  if (result.state === 'succeeded' && result.unchanged) {
    return ':white_check_mark: *Everything was already in place.* Nothing was changed.';
  }
  if (result.state === 'failed') {
    const message = result.error === undefined ? '' : ` ${escapeKeepingMentions(result.error.message)}`;
    return `:x: *Setup failed at \`${result.step ?? 'preflight'}\`.*${message}`;
  }
  return HEADLINES[result.state];
}

/** Joins lines into chunks that each fit one section. */
export function chunkLines(lines: string[], max: number): string[] {
  const chunks: string[] = [];
  let current = '';
  for (const raw of lines) {
    const line = truncate(raw, max);
    if (current !== '' && current.length + 1 + line.length > max) {
      chunks.push(current);
      current = '';
    }
    current = current === '' ? line : `${current}\n${line}`;
  }
  if (current !== '') chunks.push(current);
  return chunks;
}
