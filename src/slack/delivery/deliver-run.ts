/**
 * The two delivery jobs of a run, each run by one process at a time (see slack-delivery.ts). `postRun`
 * posts the run's parent message if it has none, then its thread replies in order; `editRun` makes the
 * parent show the run record as it is now, and closes a decided approval request. Both read the record at
 * send time, so an edit that waited sends the latest state. Each returns when nothing is left (undefined) or
 * how long to wait for Slack's limit, and throws SlackUnavailableError when Slack did not answer.
 */
import type { Log } from '../../log.js';
import type { RunService } from '../../queue/run-service.js';
import type { RunRecord } from '../../queue/types.js';
import { persisting } from '../../retry.js';
import { closedApprovalBlocks, closedApprovalSummary } from '../blocks/approval-message.js';
import { messageDigest, runMessage, type SlackMessage } from '../blocks/run-message.js';
import { runViewFromRecord } from '../blocks/run-view.js';
import { classify, type SlackCalls, SlackUnavailableError } from '../web-api.js';
import { Priority } from './run-reporter.js';
import type { Slots } from './slots.js';
import type { SenderState, ThreadOutbox } from './thread-outbox.js';

/** What delivery needs of the runs: the record, and where its messages are recorded. */
export type RunAccess = Pick<RunService, 'get' | 'attachMessage' | 'cancel'>;

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

/** One attempt: Slack's answer, ms to wait (a 429, which blocks its limit for everyone), or 'refused'. */
async function send(d: DeliveryDeps, method: string, args: Record<string, unknown>) {
  try {
    return await d.calls.once(method, args);
  } catch (error) {
    const failure = classify(error);
    if (failure.kind === 'transient') throw new SlackUnavailableError(method, error);
    if (failure.kind === 'rate-limited') {
      await d.slots.block(method, String(args.channel), failure.ms);
      return failure.ms;
    }
    d.log.error({ method, channel: args.channel, err: String(error) }, 'Slack refused a message');
    return 'refused';
  }
}

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
  await d.calls.call('chat.postMessage', { channel: run.requester, text }).catch((error: unknown) => {
    d.log.warn({ runId: run.id, err: String(error) }, 'could not tell the requester');
  });
}

/**
 * Redis writes that record what Slack took go on until Redis answers: a job that gave up here would be
 * retried and post the same message again.
 */
const settled = (write: () => Promise<unknown>) => persisting(write, 10 * 60_000);

/**
 * How long a post whose outcome is not recorded is left to the process that sent it. That process keeps
 * trying to record it while Redis is away, and its job may be taken up here meanwhile (its lock lapsed with
 * Redis): only once Redis has been up for a while, and the post is that old, did the sender die with it.
 */
const UNSETTLED_GRACE_MS = 15_000;

/** 0 to post `what` now; else how long to leave an earlier post of it, maybe taken by Slack, to its sender. */
async function unsettled(d: DeliveryDeps, runId: string, state: SenderState, what: string): Promise<number> {
  const [marked, at] = (state.sending ?? '').split('@');
  if (marked !== what) return 0;
  const wait = Math.max(
    Number(at) + UNSETTLED_GRACE_MS - Date.now(),
    UNSETTLED_GRACE_MS - (await d.outbox.redisUpMs()),
  );
  if (wait <= 0) d.log.warn({ runId, what }, 'posting again what a process that died may have posted');
  return Math.max(0, wait);
}

/** A run's next post, and what to record once Slack took it (`ts`) or refused it (undefined). */
interface NextPost {
  id: string;
  priority: number;
  args: Record<string, unknown>;
  done(ts: string | undefined): Promise<void>;
}

/** The run's parent while it has none, then the head of its thread's list. */
async function nextPost(d: DeliveryDeps, run: RunRecord): Promise<NextPost | undefined> {
  if (run.messageTs === undefined) {
    const parent = parentOf(run);
    return {
      id: 'parent',
      priority: Priority.urgent,
      args: { channel: run.channel, ...parent.message },
      async done(messageTs) {
        if (messageTs === undefined) return cannotPost(d, run);
        // A crash right here posts a second parent on retry: the one moment delivery cannot cover (see docs).
        await settled(() => d.runs.attachMessage(run.id, { messageTs }));
        const shown = { shown: parent.digest, editedAt: String(Date.now()), sending: '' };
        await settled(() => d.outbox.note(run.id, shown));
        await d.editSoon(run.id);
      },
    };
  }
  const head = await d.outbox.head(run.id);
  if (head === undefined) return undefined;
  const { reply, raw } = head;
  const pop = () => settled(() => d.outbox.pop(run.id, raw));
  // Posted before a crash that came before it was taken off the list.
  if (reply.key === 'approval' && run.approvalTs !== undefined) return pop().then(() => nextPost(d, run));
  const args = { channel: run.channel, thread_ts: run.messageTs, ...reply.message };
  return {
    id: reply.id,
    priority: reply.priority,
    args: reply.broadcast ? { ...args, reply_broadcast: true } : args,
    async done(ts) {
      const approvalTs = reply.key === 'approval' ? ts : undefined;
      if (approvalTs !== undefined) await settled(() => d.runs.attachMessage(run.id, { approvalTs }));
      await pop();
      if (approvalTs !== undefined) await d.editSoon(run.id);
    },
  };
}

export async function postRun(d: DeliveryDeps, runId: string): Promise<number | undefined> {
  for (;;) {
    const run = await d.runs.get(runId);
    const post = run === undefined ? undefined : await nextPost(d, run);
    // Read after `nextPost`, which may have taken a reply off the list.
    const state = await d.outbox.state(runId);
    if (run === undefined || post === undefined || state.refused === '1') return undefined;
    const wait =
      (await unsettled(d, run.id, state, post.id)) || (await d.slots.post(run.channel, post.priority));
    if (wait > 0) return wait;
    // On its way until Slack's answer is recorded (see `unsettled`); the mark goes if Slack did not take it.
    const mark = (sending: string) => d.outbox.note(run.id, { sending });
    await mark(`${post.id}@${Date.now()}`);
    const result = await send(d, 'chat.postMessage', post.args).catch(async (error: unknown) => {
      await mark('');
      throw error;
    });
    if (typeof result === 'number') return mark('').then(() => result);
    await post.done(result === 'refused' ? undefined : String(result.ts));
  }
}

/** The approval request closed with its outcome, once it is out and decided (or expired) and not closed yet. */
function closedRequest(run: RunRecord, state: SenderState): SlackMessage | undefined {
  if (run.approvalTs === undefined || state.closed === '1') return undefined;
  const outcome = run.decision ?? (run.state === 'expired' ? ({ kind: 'expired' } as const) : undefined);
  if (outcome === undefined) return undefined;
  if (state.approval === undefined) return closedApprovalSummary(run.target.vm, outcome);
  // The request as it was queued: its buttons give way to the outcome.
  const posted = JSON.parse(state.approval) as SlackMessage;
  return {
    text: `Approval to install the Harness delegate on ${run.target.vm}: ${outcome.kind}`,
    blocks: closedApprovalBlocks(posted.blocks, outcome, run.approvalExpiresAt),
  };
}

export async function editRun(d: DeliveryDeps, runId: string): Promise<number | undefined> {
  for (;;) {
    const run = await d.runs.get(runId);
    if (run === undefined) return undefined;
    const state = await d.outbox.state(runId);
    const closed = closedRequest(run, state);
    const parent = run.messageTs === undefined ? undefined : parentOf(run);
    const stale = parent !== undefined && parent.digest !== state.shown;
    if (closed === undefined && !stale) return undefined;
    const urgent = closed !== undefined || run.finishedAt !== undefined || run.state === 'awaiting-approval';
    const since = Date.now() - Number(state.editedAt ?? 0);
    if (!urgent && since < EDIT_EVERY_MS) return EDIT_EVERY_MS - since;
    const wait = await d.slots.edit(urgent);
    if (wait > 0) return wait;
    const [ts, message] =
      closed !== undefined
        ? [run.approvalTs, closed]
        : [run.messageTs, (parent as { message: SlackMessage }).message];
    const result = await send(d, 'chat.update', { channel: run.channel, ts, ...message });
    if (typeof result === 'number') return result;
    // A refused edit (the message was deleted) is not tried again.
    await d.outbox.note(
      runId,
      closed !== undefined ? { closed: '1' } : { shown: parent?.digest, editedAt: String(Date.now()) },
    );
  }
}

/**
 * A top-level message of its own (a watch notice) in `channel`, at the channel's pace. Its job's id keeps it
 * from being queued twice; a process killed between Slack's answer and the job's end posts it again.
 */
export async function postNotice(d: DeliveryDeps, channel: string, message: SlackMessage) {
  const wait = await d.slots.post(channel, Priority.news);
  if (wait > 0) return wait;
  const result = await send(d, 'chat.postMessage', { channel, ...message, unfurl_links: false });
  return typeof result === 'number' ? result : undefined;
}
