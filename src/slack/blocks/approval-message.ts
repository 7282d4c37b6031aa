import type { types } from '@slack/bolt';
import type { ApprovalDecision, ApprovalRequest } from '../../setup/ports.js';
import { mention, slackDate } from './format.js';
import { escapeMrkdwn, LIMITS, truncate } from './limits.js';
import type { SlackMessage } from './run-message.js';

export const APPROVE_ACTION = 'delegate_approve';
export const REJECT_ACTION = 'delegate_reject';
export const APPROVAL_ACTIONS_BLOCK = 'approval-actions';
export const APPROVAL_OUTCOME_BLOCK = 'approval-outcome';

export type ApprovalOutcome = Exclude<ApprovalDecision, { kind: 'pending' }>;

export interface ApprovalMessageInput {
  request: ApprovalRequest;
  requester: string;
  /** User ids and user-group ids to mention. */
  approvers: string[];
}

/**
 * The approval request, posted in the run's thread and broadcast to the channel: it mentions the approvers,
 * shows what will be installed where, and carries the two buttons whose `value` is the run id.
 */
export function approvalRequestMessage(input: ApprovalMessageInput): SlackMessage {
  const { request } = input;
  const who = input.approvers.map(mention).join(' ');
  const changes = request.changes ?? [];
  const what =
    changes.length > 0
      ? `to change *${escapeMrkdwn(request.vm)}*: a running container would be stopped or replaced`
      : `to install the Harness delegate on *${escapeMrkdwn(request.vm)}*`;
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      block_id: 'approval-request',
      text: {
        type: 'mrkdwn',
        text: truncate(
          `:raised_hand: *Approval needed* ${what}.${who ? `\n${who}, please review.` : ''}`,
          LIMITS.sectionText,
        ),
      },
    },
    ...changesBlocks(request),
    { type: 'section', block_id: 'approval-details', fields: detailFields(input) },
    actionsBlock(request),
  ];
  const text =
    changes.length > 0
      ? `Approval needed: change ${request.vm}`
      : `Approval needed: install the Harness delegate on ${request.vm}`;
  return { text, blocks };
}

/** Old → new per container, one line each (names only for secrets), and the delegate image's age. */
function changesBlocks(request: ApprovalRequest): types.KnownBlock[] {
  const lines = (request.changes ?? []).map((line) => `• ${escapeMrkdwn(line)}`);
  if (request.delegateAge) lines.push(`:calendar: ${escapeMrkdwn(request.delegateAge)}`);
  if (lines.length === 0) return [];
  const heading = (request.changes ?? []).length > 0 ? '*What changes* (old → new)\n' : '';
  return [
    {
      type: 'section',
      block_id: 'approval-changes',
      text: { type: 'mrkdwn', text: truncate(`${heading}${lines.join('\n')}`, LIMITS.sectionText) },
    },
  ];
}

function field(label: string, value: string): types.MrkdwnElement {
  return { type: 'mrkdwn', text: truncate(`*${label}*\n${value}`, LIMITS.sectionFieldText) };
}

function detailFields({ request, requester }: ApprovalMessageInput): types.MrkdwnElement[] {
  const code = (text: string) => (text === '' ? '_none_' : `\`${escapeMrkdwn(text)}\``);
  return [
    field('VM', code(request.vm)),
    field('Host key', code(request.hostKeyFingerprint)),
    field('Delegate', code(request.delegateName)),
    field('Image', code(request.delegateImage)),
    field('Account', code(request.accountId)),
    field('Tags', code(request.tags)),
    field('Requested by', mention(requester)),
    field('Expires', slackDate(request.expiresAt)),
  ];
}

function actionsBlock(request: ApprovalRequest): types.ActionsBlock {
  const value = truncate(request.runId, LIMITS.buttonValue);
  const changing = (request.changes ?? []).length > 0;
  return {
    type: 'actions',
    block_id: APPROVAL_ACTIONS_BLOCK,
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION,
        style: 'primary',
        text: { type: 'plain_text', text: 'Approve' },
        value,
        confirm: {
          title: { type: 'plain_text', text: changing ? 'Make these changes?' : 'Install the delegate?' },
          text: {
            type: 'mrkdwn',
            text: changing
              ? `The containers on \`${escapeMrkdwn(request.vm)}\` will be replaced as listed; each old one comes back if its replacement is not healthy.`
              : `The Harness delegate \`${escapeMrkdwn(request.delegateName)}\` will be installed on \`${escapeMrkdwn(request.vm)}\`.`,
          },
          confirm: { type: 'plain_text', text: 'Approve' },
          deny: { type: 'plain_text', text: 'Back' },
        },
      },
      {
        type: 'button',
        action_id: REJECT_ACTION,
        style: 'danger',
        text: { type: 'plain_text', text: 'Reject' },
        value,
      },
    ],
  };
}

/** The line that replaces the buttons once the request is closed. */
export function outcomeLine(outcome: ApprovalOutcome, expiresAt?: number): string {
  switch (outcome.kind) {
    case 'approved':
      return `:white_check_mark: Approved by ${mention(outcome.by)} at ${slackDate(outcome.at)}`;
    case 'rejected':
      return `:no_entry: Rejected by ${mention(outcome.by)} at ${slackDate(outcome.at)}`;
    case 'cancelled':
      return `:no_entry_sign: Cancelled by ${mention(outcome.by)} at ${slackDate(outcome.at)}`;
    case 'expired':
      return `:alarm_clock: Expired${expiresAt === undefined ? '' : ` at ${slackDate(expiresAt)}`}: nobody decided in time`;
  }
}

/**
 * The approval message after a decision: the same details, the buttons replaced by who decided and when.
 * Works on the blocks Slack sends back with the click, so nothing about the request has to be kept elsewhere.
 */
export function closedApprovalBlocks(
  blocks: readonly types.KnownBlock[],
  outcome: ApprovalOutcome,
  expiresAt?: number,
): types.KnownBlock[] {
  const kept = blocks.filter(
    (b) =>
      b.type !== 'actions' && b.block_id !== APPROVAL_ACTIONS_BLOCK && b.block_id !== APPROVAL_OUTCOME_BLOCK,
  );
  return [
    ...kept.slice(0, LIMITS.blocksPerMessage - 1),
    {
      type: 'context',
      block_id: APPROVAL_OUTCOME_BLOCK,
      elements: [{ type: 'mrkdwn', text: outcomeLine(outcome, expiresAt) }],
    },
  ];
}

export function closedApprovalMessage(input: ApprovalMessageInput, outcome: ApprovalOutcome): SlackMessage {
  const open = approvalRequestMessage(input);
  return {
    text: `Approval to install the Harness delegate on ${input.request.vm}: ${outcome.kind}`,
    blocks: closedApprovalBlocks(open.blocks, outcome, input.request.expiresAt),
  };
}

/** The closed request when the original details are not at hand (e.g. a worker restarted while it waited). */
export function closedApprovalSummary(vm: string, outcome: ApprovalOutcome): SlackMessage {
  const blocks: types.KnownBlock[] = [
    {
      type: 'section',
      block_id: 'approval-request',
      text: { type: 'mrkdwn', text: `Approval to install the Harness delegate on *${escapeMrkdwn(vm)}*` },
    },
  ];
  return {
    text: `Approval to install the Harness delegate on ${vm}: ${outcome.kind}`,
    blocks: closedApprovalBlocks(blocks, outcome),
  };
}
