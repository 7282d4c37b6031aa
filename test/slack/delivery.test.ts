/**
 * Runs' Slack messages as a person sees them, delivered through the `slack` queue on the real Redis to the
 * fake Web API: one parent per run kept current from the run record, thread replies in order, the approval
 * request and the closing summary exactly once, and Slack's limits and failures costing time, never a message.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../src/log.js';
import { runRecordReporter } from '../../src/queue/run-record-reporter.js';
import { finalStateOf } from '../../src/queue/run-states.js';
import type { RunRecord } from '../../src/queue/types.js';
import type { ApprovalRequest, Reporter, RunResult, StepRecord } from '../../src/setup/ports.js';
import { STEP_IDS, type StepId } from '../../src/setup/step-ids.js';
import { createRunReporter, Priority } from '../../src/slack/delivery/run-reporter.js';
import { createSlackDelivery, type SlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { createSlots } from '../../src/slack/delivery/slots.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { openQueueHarness, type QueueHarness } from '../support/queue-harness.js';
import { slackJobsIdle } from '../support/slack-jobs.js';

let slack: FakeSlack;
let q: QueueHarness;
const deliveries: SlackDelivery[] = [];

beforeEach(async () => {
  slack = await startFakeSlack();
  q = await openQueueHarness({ env: { SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_API_URL: slack.url } });
});
afterEach(async () => {
  for (const d of deliveries.splice(0)) await d.close();
  await q.close();
  await slack.close();
});

function delivery(): SlackDelivery {
  const d = createSlackDelivery(q.config, { redis: q.redis, runs: q.runs });
  deliveries.push(d);
  return d;
}

const done = (id: StepId): StepRecord => ({ id, state: 'done', durationMs: 1500, summary: `${id} in place` });

async function startRun(vm: string, channel = 'C0RUNS'): Promise<RunRecord> {
  const started = await q.runs.start({
    target: { vm, project: undefined, zone: undefined },
    requester: 'U0REQ',
    channel,
  });
  if (!started.ok) throw new Error(`${vm} is busy`);
  return started.run;
}

/** The worker's reporter: the record is written first, then Slack is told (as the worker does). */
async function reporterOf(d: SlackDelivery, runId: string): Promise<Reporter> {
  const run = (await q.runs.get(runId)) as RunRecord;
  return runRecordReporter(q.store, runId, d.reporterFor(run));
}

function request(run: RunRecord): ApprovalRequest {
  return {
    runId: run.id,
    vm: run.target.vm,
    hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    delegateName: `${run.target.vm}-delegate`,
    delegateImage: 'harness/delegate:25.03',
    accountId: 'acct_1',
    tags: '',
    expiresAt: Date.now() + 3_600_000,
  };
}

async function untilApproval(reporter: Reporter, run: RunRecord): Promise<void> {
  await reporter.runStarted({ runId: run.id, vm: run.target.vm, mode: 'setup', resumed: false });
  for (const id of STEP_IDS.slice(0, 7)) {
    await reporter.stepStarted(id);
    await reporter.stepFinished(done(id));
  }
  await reporter.stepStarted('approval');
  await reporter.approvalRequested(request(run));
}

/** Ends the record, then tells the reporter (as settling a run does). */
async function finish(d: SlackDelivery, runId: string, result: Partial<RunResult>): Promise<void> {
  const full: RunResult = {
    runId,
    vm: 'vm',
    state: 'succeeded',
    step: undefined,
    steps: STEP_IDS.map(done),
    error: undefined,
    unchanged: false,
    ...result,
  };
  for (const step of full.steps) await q.store.update(runId, { step });
  await q.store.finish(runId, finalStateOf(full), { at: Date.now(), by: 'system' });
  // The record reporter leaves runFinished to settling: the inner reporter hears it.
  await d.reporterFor((await q.runs.get(runId)) as RunRecord).runFinished(full);
}

async function shown(runId: string) {
  const run = (await q.runs.get(runId)) as RunRecord;
  const parent = run.messageTs === undefined ? undefined : slack.message(run.channel, run.messageTs);
  return {
    run,
    parent,
    blocks: JSON.stringify(parent?.blocks ?? []),
    thread: run.messageTs ? slack.thread(run.channel, run.messageTs) : [],
  };
}

describe('Slack delivery', () => {
  it('posts one parent, asks for approval in its thread, and ends with every step done in place', async () => {
    const d = delivery();
    const run = await startRun('vm-1');
    await untilApproval(await reporterOf(d, run.id), run);
    await slackJobsIdle(q.redis, q.prefix);
    const waiting = await shown(run.id);
    expect(waiting.blocks).toContain('`awaiting-approval`');
    const approval = slack.message('C0RUNS', waiting.run.approvalTs as string);
    expect(approval).toMatchObject({ threadTs: waiting.run.messageTs, replyBroadcast: true });
    expect(JSON.stringify(approval?.blocks)).toContain('<@U0APPROVER>');

    await q.runs.decide({ runId: run.id, userId: 'U0APP', decision: 'approve' });
    await finish(d, run.id, {});
    await slackJobsIdle(q.redis, q.prefix);
    const ended = await shown(run.id);
    expect(ended.blocks).toContain('`succeeded`');
    for (const id of STEP_IDS) expect(ended.blocks).toContain(`\`${id}\` · done`);
    expect(ended.thread.at(-1)?.text).toContain('Setup finished');
    expect(JSON.stringify(slack.message('C0RUNS', ended.run.approvalTs as string)?.blocks)).toContain(
      'Approved by <@U0APP>',
    );
    expect(slack.channelMessages('C0RUNS')).toHaveLength(1);
    expect(slack.calls.length).toBeLessThanOrEqual(15);
  });

  it('never holds up the run while Slack is down, and catches up with the latest state when it answers', async () => {
    const d = delivery();
    slack.down = true;
    const run = await startRun('vm-2');
    const began = Date.now();
    await untilApproval(await reporterOf(d, run.id), run);
    await finish(d, run.id, { state: 'expired', step: 'approval' });
    expect(Date.now() - began).toBeLessThan(3000);
    expect(slack.messages).toHaveLength(0);
    slack.down = false;
    await slackJobsIdle(q.redis, q.prefix);
    const { blocks, thread } = await shown(run.id);
    expect(blocks).toContain('`expired`');
    expect(thread.map((m) => m.text)).toEqual([
      'Approval to install the Harness delegate on vm-2: expired',
      expect.stringContaining('The approval request expired'),
    ]);
    expect(JSON.stringify(thread[0]?.blocks)).not.toContain('delegate_approve');
    expect(JSON.stringify(thread[0]?.blocks)).toContain('Expired');
  });

  it('waits out a 429 for one channel without holding up runs in other channels', async () => {
    const d = delivery();
    slack.fail('chat.postMessage', { status: 429, retryAfter: 30 });
    const first = await startRun('vm-3');
    await d.sync(first.id, 'post');
    await slack.waitFor('the 429', () => slack.calls.some((c) => c.status === 429));
    const other = await startRun('vm-4', 'C0OTHER');
    await d.sync(other.id, 'post');
    await slack.waitFor('the other channel’s parent', () => slack.channelMessages('C0OTHER').length === 1);
    expect(slack.channelMessages('C0RUNS')).toHaveLength(0);
  });

  it('delivers the approval request and the summary once, however many processes and workers ask', async () => {
    const [a, b] = [delivery(), delivery()];
    const run = await startRun('vm-5');
    await Promise.all([a.sync(run.id, 'post'), b.sync(run.id, 'post')]);
    // A worker that died after asking for approval, and the one that resumed the run and asked again.
    await untilApproval(await reporterOf(a, run.id), run);
    await (await reporterOf(b, run.id)).approvalRequested(request(run));
    await q.runs.decide({ runId: run.id, userId: 'U0APP', decision: 'reject' });
    await finish(a, run.id, { state: 'rejected', step: 'approval' });
    await finish(b, run.id, { state: 'rejected', step: 'approval' });
    await slackJobsIdle(q.redis, q.prefix);
    const { blocks, thread } = await shown(run.id);
    expect(slack.channelMessages('C0RUNS')).toHaveLength(1);
    expect(blocks).toContain('`rejected`');
    expect(thread.filter((m) => m.replyBroadcast)).toHaveLength(1);
    expect(thread.filter((m) => m.text.includes('Rejected.'))).toHaveLength(1);
  });

  it('posts the approval request once when Redis cannot record it for a while after Slack took it', async () => {
    let refusals = 3;
    const runs = {
      ...q.runs,
      async attachMessage(runId: string, messages: { messageTs?: string; approvalTs?: string }) {
        if (messages.approvalTs !== undefined && refusals-- > 0) throw new Error('Redis is unavailable');
        await q.runs.attachMessage(runId, messages);
      },
    };
    const d = createSlackDelivery(q.config, { redis: q.redis, runs });
    deliveries.push(d);
    const run = await startRun('vm-7');
    await untilApproval(await reporterOf(d, run.id), run);
    await slackJobsIdle(q.redis, q.prefix);
    const { run: recorded, thread } = await shown(run.id);
    expect(recorded.approvalTs).toBeDefined();
    expect(thread.filter((m) => m.replyBroadcast)).toHaveLength(1);
  });

  it('posts the parent within seconds once Redis answers again, however often its reads failed meanwhile', async () => {
    // The app's connection fails at once while Redis is away; each failed read is a failed attempt of the job.
    let failures = 6;
    const runs = {
      ...q.runs,
      async get(runId: string) {
        if (failures-- > 0) throw new Error('Redis is unavailable');
        return q.runs.get(runId);
      },
    };
    const d = createSlackDelivery(q.config, { redis: q.redis, runs });
    deliveries.push(d);
    const run = await startRun('vm-8');
    await d.sync(run.id, 'post');
    // Six failures in a row cost seconds, not the minute of a doubling wait.
    await slack.waitFor('the parent', () => slack.channelMessages('C0RUNS')[0], 30_000);
    expect(failures).toBeLessThan(0);
  });

  it('says once in the thread that a run is trying again after a failed attempt', async () => {
    const d = delivery();
    const run = await startRun('vm-8');
    await (await reporterOf(d, run.id)).runStarted({
      runId: run.id,
      vm: 'vm-8',
      mode: 'setup',
      resumed: false,
    });
    const failed = {
      at: Date.now(),
      by: 'system',
      event: 'retry',
      step: 'docker',
      detail: 'attempt 2 of 3',
    } as const;
    await q.store.update(run.id, {}, failed);
    for (const resumed of [d, delivery()]) {
      const reporter = await reporterOf(resumed, run.id);
      await reporter.runStarted({ runId: run.id, vm: 'vm-8', mode: 'setup', resumed: true });
    }
    await slackJobsIdle(q.redis, q.prefix);
    const { thread } = await shown(run.id);
    const notices = thread.filter((m) => m.text.includes('Trying again'));
    expect(notices).toHaveLength(1);
    expect(JSON.stringify(notices[0]?.blocks)).toContain('`docker`');
  });

  it('stays inside Slack’s rate limits when many runs share a channel, and every parent ends final', async () => {
    slack.rateLimits = true;
    const d = delivery();
    const runs = await Promise.all(['a', 'b', 'c', 'd'].map((id) => startRun(`vm-${id}`)));
    await Promise.all(runs.map(async (run) => untilApproval(await reporterOf(d, run.id), run)));
    await Promise.all(runs.map((run) => finish(d, run.id, { state: 'expired', step: 'approval' })));
    await slackJobsIdle(q.redis, q.prefix);
    expect(slack.channelMessages('C0RUNS')).toHaveLength(4);
    for (const run of runs) expect((await shown(run.id)).blocks).toContain('`expired`');
    expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });

  it('posts the parents waiting in a busy channel before the summary of a run that ended', async () => {
    const d = delivery();
    const ended = await startRun('vm-a');
    // Asked for as the app asks for a parent: its job keeps that priority for the replies that follow.
    await d.sync(ended.id, 'post', Priority.urgent);
    await slack.waitFor('the first parent', () => slack.channelMessages('C0RUNS')[0]);
    // Slack limits the channel for a while, as after a 429: everything below waits for it together.
    await createSlots(q.redis, q.prefix).block('chat.postMessage', 'C0RUNS', 3000);
    await d.reply(ended.id, {
      message: { text: 'vm-a is done', blocks: [] },
      key: 'summary',
      priority: Priority.news,
    });
    const waiting = [await startRun('vm-b'), await startRun('vm-c')];
    for (const run of waiting) await d.sync(run.id, 'post', Priority.urgent);
    await slackJobsIdle(q.redis, q.prefix);
    const posts = slack.calls
      .filter((c) => c.method === 'chat.postMessage' && c.ok)
      .map((c) => String(c.args.text));
    expect(posts).toHaveLength(4);
    expect(posts.at(-1)).toBe('vm-a is done');
  });

  it('posts approval requests at once even when every edit of the minute is spent', async () => {
    slack.rateLimits = true;
    const d = createSlackDelivery(q.config, { redis: q.redis, runs: q.runs, pace: { editsPerMinute: 4 } });
    deliveries.push(d);
    const runs = await Promise.all(
      ['p1', 'p2', 'p3', 'p4'].map((id) => startRun(`vm-${id}`, `C0${id.toUpperCase()}`)),
    );
    const asked = Date.now();
    await Promise.all(
      runs.map(async (run) => {
        const reporter = runRecordReporter(q.store, run.id, createRunReporter(d, run, ['U0APP'], silentLog));
        await untilApproval(reporter, run);
      }),
    );
    const posted = async () =>
      (await Promise.all(runs.map((r) => q.runs.get(r.id)))).every((r) => r?.approvalTs);
    while (!(await posted())) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(Date.now() - asked).toBeLessThan(5000);
    expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });
});
