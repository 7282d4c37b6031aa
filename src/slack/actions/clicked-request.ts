/**
 * Whether a clicked message is the approval request of the run its button names. Slack sends the button's
 * value and the message it sits on; only the run's own request may decide it, so a value naming another
 * run (a forged or mixed-up payload) changes nothing.
 */
import type { BlockAction } from '@slack/bolt';
import type { RunRecord } from '../../queue/types.js';
import { APPROVE_ACTION, REJECT_ACTION } from '../blocks/approval-message.js';

const DECISION_ACTIONS: ReadonlySet<string> = new Set([APPROVE_ACTION, REJECT_ACTION]);

/** The run ids of the decision buttons in a message's blocks. */
function buttonRunIds(blocks: unknown): string[] {
  if (!Array.isArray(blocks)) return [];
  return blocks.flatMap((block: { type?: unknown; elements?: unknown }) =>
    block?.type === 'actions' && Array.isArray(block.elements)
      ? block.elements
          .filter((e: { action_id?: unknown }) => DECISION_ACTIONS.has(String(e?.action_id)))
          .map((e: { value?: unknown }) => String(e.value))
      : [],
  );
}

/**
 * `undefined` when the click may decide `run`, otherwise why not. With the request's ts recorded, the
 * clicked message must be that one. Before it is recorded (a click in the moment between Slack taking the
 * request and the record hearing of it), the message must be in the run's channel and thread and carry only
 * this run's buttons: as Slack sends the message itself, only this run's request passes.
 */
export function clickedRequestProblem(body: BlockAction, run: RunRecord): string | undefined {
  const channel = body.channel?.id ?? body.container?.channel_id;
  const ts = body.message?.ts ?? body.container?.message_ts;
  const belongs =
    channel === run.channel &&
    (run.approvalTs !== undefined
      ? ts === run.approvalTs
      : ts !== undefined && inRunThread(body, run) && ownButtons(body, run));
  if (belongs) return undefined;
  // The run's own buttons on an older copy of its request (the request was posted again since).
  if (channel === run.channel && ownButtons(body, run))
    return `This is not the current approval request of the run of *${run.target.vm}*; nothing was changed. Use the latest request in its thread.`;
  return `This button names another run (of *${run.target.vm}*) than the approval request it sits on; nothing was changed. Use the buttons of that run’s own request.`;
}

function inRunThread(body: BlockAction, run: RunRecord): boolean {
  const thread = body.message?.thread_ts ?? body.container?.thread_ts;
  return thread === undefined || run.messageTs === undefined || thread === run.messageTs;
}

function ownButtons(body: BlockAction, run: RunRecord): boolean {
  const ids = buttonRunIds(body.message?.blocks);
  return ids.length > 0 && ids.every((id) => id === run.id);
}
