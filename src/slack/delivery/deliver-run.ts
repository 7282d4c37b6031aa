/**
 * The two delivery jobs of a run, each run by one process at a time (see slack-delivery.ts). `postRun`
 * posts the run's parent message if it has none, then its thread replies in order; `editRun` makes the
 * parent show the run record as it is now, and closes a decided approval request. Both read the record at
 * send time, so an edit that waited sends the latest state. Each returns when nothing is left (undefined),
 * or how long to wait for Slack's limit, or 'backoff' when Slack did not answer.
 */
import type { AttachedMessages, RunRecord } from '../../queue/types.js';
import type { ApprovalOutcome } from '../blocks/approval-message.js';
import { closedApprovalBlocks, closedApprovalSummary } from '../blocks/approval-message.js';
import { messageDigest, runMessage, type SlackMessage } from '../blocks/run-message.js';
import { runViewFromRecord } from '../blocks/run-view.js';
import type { Log } from '../log.js';
import { type CallResult, classify, type SlackCalls } from './slack-calls.js';
import type { Slots } from './slots.js';
import type { SenderState, ThreadOutbox } from './thread-outbox.js';

export type Next = number | 'backoff' | undefined;

/** What delivery needs of the runs (the run service). */
export interface RunAccess {
  get(runId: string): Promise<RunRecord | undefined>;
  /** Records the parent (which also starts a queued run at once) or the approval request. */
  attachMessage(runId: string, messages: AttachedMessages): Promise<void>;
  cancel(input: { vm: string; userId: string }): Promise<unknown>;
}

export interface DeliveryDeps {
  calls: SlackCalls;
  slots: Slots;
  outbox: ThreadOutbox;
  runs: RunAccess;
  log: Log;
  /** Asks for the run's parent to be brought up to date (after a post that rendered an older state). */
  editSoon(runId: string): Promise<void>;
}

/** Least time between two progress edits of one parent; final states and decisions go at once. */
const EDIT_EVERY_MS = 1500;

/** One attempt; a 429 blocks the limit it concerns for everyone. */
async function send(
  d: DeliveryDeps,
  method: string,
  args: Record<string, unknown>,
): Promise<CallResult | Next | 'refused'> {
  try {
    return await d.calls.once(method, args);
  } catch (error) {
    const failure = classify(error);
    if (failure.kind === 'rate-limited') {
      await d.slots.block(method, String(args.channel), failure.ms);
      return failure.ms;
    }
    if (failure.kind === 'transient') return 'backoff';
    d.log.error({ method, channel: args.channel, err: String(error) }, 'Slack refused a message');
    return 'refused';
  }
}

const sent = (result: CallResult | Next | 'refused'): result is CallResult => typeof result === 'object';

function parentOf(run: RunRecord): { message: SlackMessage; digest: string } {
  const message = runMessage(runViewFromRecord(run));
  return { message, digest: messageDigest(message) };
}

/** A parent the bot cannot post ends the run before it does anything, and the requester hears why. */
async function cannotPost(d: DeliveryDeps, run: RunRecord): Promise<void> {
  await d.outbox.note(run.id, { refused: '1' });
  if (run.state === 'queued')
    await d.runs.cancel({ vm: run.target.vm, userId: run.requester }).catch(() => undefined);
  const text = `I cannot post in <#${run.channel}>, so the run of *${run.target.vm}* was not started: invite me first (\`/invite @gitspaces\`), then try again.`;
  await d.calls
    .call('chat.postMessage', { channel: run.requester, text })
    .catch((error: unknown) =>
      d.log.warn({ runId: run.id, err: String(error) }, 'could not tell the requester'),
    );
}

async function postParent(d: DeliveryDeps, run: RunRecord): Promise<Next | 0> {
  const wait = await d.slots.post(run.channel);
  if (wait > 0) return wait;
  const parent = parentOf(run);
  const result = await send(d, 'chat.postMessage', { channel: run.channel, ...parent.message });
  if (result === 'refused') {
    await cannotPost(d, run);
    return undefined;
  }
  if (!sent(result)) return result;
  // A crash right here posts a second parent on retry: the one moment delivery cannot cover (see docs).
  await d.runs.attachMessage(run.id, { messageTs: String(result.ts) });
  await d.outbox.note(run.id, { shown: parent.digest, editedAt: String(Date.now()) });
  await d.editSoon(run.id);
  return 0;
}

export async function postRun(d: DeliveryDeps, runId: string): Promise<Next> {
  for (;;) {
    const run = await d.runs.get(runId);
    if (run === undefined || (await d.outbox.state(runId)).refused === '1') return undefined;
    if (run.messageTs === undefined) {
      const next = await postParent(d, run);
      if (next !== 0) return next;
      continue;
    }
    const head = await d.outbox.head(runId);
    if (head === undefined) return undefined;
    const { reply } = head;
    // Posted before a crash that came before it was taken off the list.
    if (reply.key === 'approval' && run.approvalTs !== undefined) {
      await d.outbox.pop(runId, head.raw);
      continue;
    }
    const wait = await d.slots.post(run.channel);
    if (wait > 0) return wait;
    const args = { channel: run.channel, thread_ts: run.messageTs, ...reply.message };
    const result = await send(
      d,
      'chat.postMessage',
      reply.broadcast ? { ...args, reply_broadcast: true } : args,
    );
    if (!sent(result) && result !== 'refused') return result;
    if (sent(result) && reply.key === 'approval') {
      await d.runs.attachMessage(runId, { approvalTs: String(result.ts) });
      await d.editSoon(runId);
    }
    await d.outbox.pop(runId, head.raw);
  }
}

/** How the approval request should end, when it is out, decided and not yet closed. */
function closing(run: RunRecord, state: SenderState): ApprovalOutcome | undefined {
  if (run.approvalTs === undefined || state.closed === '1') return undefined;
  return run.decision ?? (run.state === 'expired' ? { kind: 'expired' } : undefined);
}

function closedRequest(run: RunRecord, state: SenderState, outcome: ApprovalOutcome): SlackMessage {
  if (state.approval === undefined) return closedApprovalSummary(run.target.vm, outcome);
  const posted = JSON.parse(state.approval) as SlackMessage;
  return {
    text: `Approval to install the Harness delegate on ${run.target.vm}: ${outcome.kind}`,
    blocks: closedApprovalBlocks(posted.blocks, outcome, run.approvalExpiresAt),
  };
}

export async function editRun(d: DeliveryDeps, runId: string): Promise<Next> {
  for (;;) {
    const run = await d.runs.get(runId);
    if (run === undefined) return undefined;
    const state = await d.outbox.state(runId);
    const outcome = closing(run, state);
    const parent = run.messageTs === undefined ? undefined : parentOf(run);
    const stale = parent !== undefined && parent.digest !== state.shown;
    if (outcome === undefined && !stale) return undefined;
    const urgent = outcome !== undefined || run.finishedAt !== undefined || run.state === 'awaiting-approval';
    const since = Date.now() - Number(state.editedAt ?? 0);
    if (!urgent && since < EDIT_EVERY_MS) return EDIT_EVERY_MS - since;
    const wait = await d.slots.edit(urgent);
    if (wait > 0) return wait;
    const [ts, message] =
      outcome !== undefined
        ? [run.approvalTs, closedRequest(run, state, outcome)]
        : [run.messageTs, (parent as { message: SlackMessage }).message];
    const result = await send(d, 'chat.update', { channel: run.channel, ts, ...message });
    if (!sent(result) && result !== 'refused') return result;
    // A refused edit (the message was deleted) is not tried again.
    await d.outbox.note(
      runId,
      outcome !== undefined ? { closed: '1' } : { shown: parent?.digest, editedAt: String(Date.now()) },
    );
  }
}
