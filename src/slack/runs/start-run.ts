/**
 * Starting a run from Slack: reserve the VM and record the run (fast, Redis), then post its parent message
 * and attach it, which lets the queued job start at once. If Slack is slow the job starts anyway after its
 * grace period and the worker's reporter posts the parent message itself.
 */
import type { StartInput } from '../../queue/run-service.js';
import type { AttachedMessages, RunRecord } from '../../queue/types.js';
import type { AppContext } from '../app-context.js';
import { archiveLink, mention } from '../blocks/format.js';
import { messageDigest, runMessage } from '../blocks/run-message.js';
import { runViewFromRecord } from '../blocks/run-view.js';
import { Priority, SlackRefusedError } from '../delivery/slack-sender.js';

export type Reserved = { ok: true; run: RunRecord } | { ok: false; refusal: string };

/**
 * How long the app keeps a parent message waiting for its channel's turn. Many runs started in one channel
 * wait their turn a second each; the run itself starts after its grace period meanwhile, and its worker
 * waits for this message (the app holds the run's parent lease) rather than posting another.
 */
const PARENT_DEADLINE_MS = 90_000;

export async function reserveRun(ctx: AppContext, input: StartInput): Promise<Reserved> {
  const outcome = await ctx.runs.start(input);
  if (outcome.ok) return outcome;
  return { ok: false, refusal: await activeRunRefusal(ctx, outcome.active) };
}

/** Posts the parent message; a channel the bot cannot post in ends the run before it does anything. */
export async function announceRun(ctx: AppContext, run: RunRecord): Promise<string | undefined> {
  // Held from before the post until the message is recorded: a worker starting the run meanwhile waits
  // for the record instead of posting a second parent message.
  if (ctx.ledger !== undefined && !(await ctx.ledger.hold(run.id, 'parent'))) return undefined;
  let ts: string;
  // When the channel is busy the run may have moved on (it starts after its grace period) by the time this
  // message's turn comes: it shows the run as recorded then, so that the worker need not edit it at once.
  let latest = run;
  let shows = '';
  try {
    const posted = await ctx.sender.callLatest(
      'chat.postMessage',
      () => {
        const message = runMessage(runViewFromRecord(latest));
        shows = messageDigest(message);
        return { channel: run.channel, ...message };
      },
      {
        deadlineMs: PARENT_DEADLINE_MS,
        priority: Priority.urgent,
        since: run.createdAt,
        beforeSend: async () => {
          latest = (await ctx.runs.get(run.id)) ?? latest;
        },
      },
    );
    ts = String(posted?.ts);
  } catch (error) {
    ctx.ledger?.release(run.id, 'parent');
    if (
      error instanceof SlackRefusedError &&
      /not_in_channel|channel_not_found|is_archived/.test(error.slackError)
    ) {
      await ctx.runs.cancel({ vm: run.target.vm, userId: run.requester });
      return `I cannot post in this channel, so nothing was started: invite me first (\`/invite @gitspaces\`), then try again.`;
    }
    ctx.log.warn(
      { runId: run.id, err: String(error) },
      'parent message not posted yet; the worker will post it',
    );
    return undefined;
  }
  try {
    await ctx.runs.attachMessage(run.id, { messageTs: ts, messageShows: shows });
    ctx.ledger?.release(run.id, 'parent');
  } catch (error) {
    ctx.log.warn({ runId: run.id, err: String(error) }, 'could not record the parent message; trying again');
    void recordParent(ctx, run.id, { messageTs: ts, messageShows: shows });
  }
  return undefined;
}

/** How long the app keeps trying to record a posted parent message while Redis is away. */
const RECORD_FOR_MS = 5 * 60_000;

/** Records the posted parent message, trying again while Redis is away, then lets workers post. */
async function recordParent(ctx: AppContext, runId: string, parent: AttachedMessages): Promise<void> {
  const until = Date.now() + RECORD_FOR_MS;
  for (let attempt = 1; ; attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 250 * attempt)));
    try {
      await ctx.runs.attachMessage(runId, parent);
      break;
    } catch (error) {
      if (Date.now() > until) {
        ctx.log.error({ runId, err: String(error) }, 'gave up recording the parent message');
        break;
      }
    }
  }
  ctx.ledger?.release(runId, 'parent');
}

/** Where to look instead: a link to the active run's thread. */
export async function activeRunRefusal(ctx: AppContext, active: RunRecord): Promise<string> {
  const vm = `*${active.target.vm}*`;
  const what = `\`${active.state}\`, requested by ${mention(active.requester)}`;
  if (active.messageTs === undefined)
    return `:no_entry: ${vm} already has a run in progress (${what}). Wait for it, or \`/gitspaces cancel ${active.target.vm}\`.`;
  const link = await permalink(ctx, active.channel, active.messageTs);
  return `:no_entry: ${vm} already has a run in progress (${what}): <${link}|see its thread>. Wait for it, or \`/gitspaces cancel ${active.target.vm}\`.`;
}

async function permalink(ctx: AppContext, channel: string, ts: string): Promise<string> {
  try {
    const result = await ctx.sender.call(
      'chat.getPermalink',
      { channel, message_ts: ts },
      { deadlineMs: 1500 },
    );
    return typeof result.permalink === 'string' ? result.permalink : archiveLink(channel, ts);
  } catch {
    return archiveLink(channel, ts);
  }
}
