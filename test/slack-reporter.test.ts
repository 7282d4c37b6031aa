import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../src/queue/types.js';
import type { ApprovalRequest, Reporter, RunResult, StepRecord } from '../src/setup/ports.js';
import { STEP_IDS, type StepId } from '../src/setup/steps.js';
import { messageDigest, runMessage } from '../src/slack/blocks/run-message.js';
import { runViewFromRecord } from '../src/slack/blocks/run-view.js';
import type { SlackPace } from '../src/slack/delivery/pace.js';
import { createSenderClient, createSlackSender } from '../src/slack/delivery/slack-sender.js';
import { silentLog } from '../src/slack/log.js';
import { RunOutbox } from '../src/slack/reporter/run-outbox.js';
import { createRedisLedger } from '../src/slack/reporter/slack-ledger.js';
import { createSlackReporterFactory, type SlackReporters } from '../src/slack/reporter/slack-reporters.js';
import { type FakeSlack, startFakeSlack } from './support/fake-slack.js';
import { REDIS_URL, scanPrefix } from './support/queue-harness.js';
import { runRecord } from './support/run-record.js';

async function until(check: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let slack: FakeSlack;
let reporters: SlackReporters;
const attached = new Map<string, { messageTs?: string; approvalTs?: string }>();

const record = runRecord;

const done = (id: StepId): StepRecord => ({ id, state: 'done', durationMs: 1500, summary: `${id} in place` });

function request(runId: string): ApprovalRequest {
  return {
    runId,
    vm: `vm-${runId}`,
    hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
    delegateName: `vm-${runId}-delegate`,
    delegateImage: 'harness/delegate:25.03',
    accountId: 'acct_1',
    tags: '',
    expiresAt: Date.now() + 3_600_000,
  };
}

/** What the engine tells a reporter up to the approval request. */
async function runUntilApproval(reporter: Reporter, runId: string): Promise<void> {
  await reporter.runStarted({ runId, vm: `vm-${runId}`, mode: 'setup', resumed: false });
  for (const id of STEP_IDS.slice(0, 7)) {
    await reporter.stepStarted(id);
    await reporter.stepFinished(done(id));
  }
  await reporter.stepStarted('approval');
  await reporter.approvalRequested(request(runId));
}

function succeeded(runId: string): RunResult {
  return {
    runId,
    vm: `vm-${runId}`,
    state: 'succeeded',
    step: undefined,
    steps: STEP_IDS.map(done),
    error: undefined,
    unchanged: false,
  };
}

async function runAfterApproval(reporter: Reporter, runId: string): Promise<void> {
  await reporter.runStarted({ runId, vm: `vm-${runId}`, mode: 'setup', resumed: true });
  await reporter.stepFinished(done('approval'));
  for (const id of ['delegate', 'delegate-health'] as const) {
    await reporter.stepStarted(id);
    await reporter.stepFinished(done(id));
  }
  await reporter.runFinished(succeeded(runId));
}

function stepText(blocks: unknown[], id: StepId): string {
  return JSON.stringify((blocks as Array<{ block_id?: string }>).find((b) => b.block_id === `step-${id}`));
}

/** A pace that holds every edit back until `open` is set; posts go at once. */
function editGate(): { pace: SlackPace; open: boolean } {
  const gate: { pace: SlackPace; open: boolean } = {
    open: false,
    pace: {
      take: async (lane: string) => (lane === 'update' && !gate.open ? 100 : 0),
      leave: async () => undefined,
      block: async () => undefined,
    },
  };
  return gate;
}

beforeEach(async () => {
  slack = await startFakeSlack();
  attached.clear();
  reporters = createSlackReporterFactory({
    botToken: 'xoxb-test-token',
    slackApiUrl: slack.url,
    approvers: ['U0APP', 'S0OPS'],
    attach: async (runId, messages) => {
      attached.set(runId, { ...attached.get(runId), ...messages });
    },
    updateIntervalMs: 200,
  });
});

afterEach(async () => {
  await reporters.close(1000);
  await slack.close();
});

describe('the Slack reporter', () => {
  it('posts the parent message, asks for approval in the thread, and ends with every step done in place', async () => {
    await runUntilApproval(reporters.reporterFor(record('r1')), 'r1');
    await reporters.idle();
    const parentTs = attached.get('r1')?.messageTs as string;
    const approvalTs = attached.get('r1')?.approvalTs as string;
    expect(parentTs).toBeDefined();
    const approval = slack.message('C0RUNS', approvalTs);
    expect(approval).toMatchObject({ threadTs: parentTs, replyBroadcast: true });
    expect(approval?.text).toContain('Approval needed');
    expect(JSON.stringify(approval?.blocks)).toContain('<!subteam^S0OPS>');
    expect(stepText(slack.message('C0RUNS', parentTs)?.blocks ?? [], 'approval')).toContain('waiting');

    // A worker (maybe another process) resumes the run after the click, from the run record.
    await runAfterApproval(
      reporters.reporterFor(record('r1', { messageTs: parentTs, approvalTs, state: 'running:delegate' })),
      'r1',
    );
    await reporters.idle();
    const parent = slack.message('C0RUNS', parentTs);
    for (const id of STEP_IDS) expect(stepText(parent?.blocks ?? [], id)).toContain('done · 1.5s');
    expect(JSON.stringify(parent?.blocks)).toContain('`succeeded`');
    const thread = slack.thread('C0RUNS', parentTs);
    expect(thread.at(-1)?.text).toContain('Setup finished');
    expect(slack.channelMessages('C0RUNS')).toHaveLength(1);
    expect(slack.calls.length).toBeLessThanOrEqual(15);
  });

  it('never holds up the run while Slack is down, and catches up when Slack answers again', async () => {
    slack.down = true;
    const reporter = reporters.reporterFor(record('r2'));
    await runUntilApproval(reporter, 'r2');
    await reporter.runFinished({ ...succeeded('r2'), state: 'expired', step: 'approval' });
    expect(slack.messages).toHaveLength(0);
    slack.down = false;
    await reporters.idle();
    const parentTs = attached.get('r2')?.messageTs as string;
    const parent = slack.message('C0RUNS', parentTs);
    expect(JSON.stringify(parent?.blocks)).toContain('`expired`');
    const thread = slack.thread('C0RUNS', parentTs);
    expect(thread.map((m) => m.text)).toEqual([
      'Approval to install the Harness delegate on vm-r2: expired',
      expect.stringContaining('The approval request expired'),
    ]);
    // The expired request no longer offers its buttons.
    expect(JSON.stringify(thread[0]?.blocks)).not.toContain('delegate_approve');
    expect(JSON.stringify(thread[0]?.blocks)).toContain('Expired');
  });

  it('waits out a 429 for one channel without holding up runs in other channels', async () => {
    slack.fail('chat.postMessage', { status: 429, retryAfter: 30 });
    await reporters
      .reporterFor(record('r3'))
      .runStarted({ runId: 'r3', vm: 'vm-r3', mode: 'setup', resumed: false });
    await slack.waitFor('the 429', () => slack.calls.some((c) => c.status === 429));
    await reporters
      .reporterFor(record('r4', { channel: 'C0OTHER' }))
      .runStarted({ runId: 'r4', vm: 'vm-r4', mode: 'setup', resumed: false });
    await slack.waitFor('the other channel’s message', () => slack.channelMessages('C0OTHER').length === 1);
    expect(slack.channelMessages('C0RUNS')).toHaveLength(0);
  });

  it('retries a 500 and a Retry-After and delivers the latest state', async () => {
    slack.fail('chat.postMessage', { status: 500 });
    slack.fail('chat.update', { status: 429, retryAfter: 1 });
    const reporter = reporters.reporterFor(record('r5'));
    await runUntilApproval(reporter, 'r5');
    await reporter.runFinished({ ...succeeded('r5'), state: 'rejected', step: 'approval' });
    await reporters.idle();
    const parent = slack.message('C0RUNS', attached.get('r5')?.messageTs as string);
    expect(JSON.stringify(parent?.blocks)).toContain('`rejected`');
  });

  it('stays inside Slack’s rate limits when many runs share a channel', async () => {
    slack.rateLimits = true;
    await Promise.all(['a', 'b', 'c'].map((id) => runUntilApproval(reporters.reporterFor(record(id)), id)));
    await reporters.idle();
    expect(slack.channelMessages('C0RUNS')).toHaveLength(3);
    expect(slack.messages.filter((m) => m.replyBroadcast)).toHaveLength(3);
    expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });

  it('asks for approval at once even when every edit of the minute is spent', async () => {
    slack.rateLimits = true;
    const sender = createSlackSender({
      client: createSenderClient('xoxb-test-token', slack.url),
      log: silentLog,
      updatesPerMinute: 4,
    });
    const paced = createSlackReporterFactory({
      sender,
      approvers: ['U0APP'],
      attach: async (runId, messages) => {
        attached.set(runId, { ...attached.get(runId), ...messages });
      },
      updateIntervalMs: 0,
    });
    try {
      const ids = ['p1', 'p2', 'p3', 'p4'];
      const asked = Date.now();
      await Promise.all(
        ids.map((id) =>
          runUntilApproval(paced.reporterFor(record(id, { channel: `C0${id.toUpperCase()}` })), id),
        ),
      );
      await until(() => ids.every((id) => attached.get(id)?.approvalTs !== undefined), 5000);
      // Four parents and four approval requests in four channels: about a second, not the minute edits wait.
      expect(Date.now() - asked).toBeLessThan(5000);
      const approvals = ids.map((id) =>
        slack.message(`C0${id.toUpperCase()}`, attached.get(id)?.approvalTs as string),
      );
      expect(approvals.every((m) => m?.text.includes('Approval needed'))).toBe(true);
      expect(slack.calls.filter((c) => c.status === 429)).toEqual([]);
    } finally {
      sender.close();
    }
  });

  it('leaves a run resumed by another worker to it: a late edit from the worker that parked it is dropped', async () => {
    const records = new Map<string, RunRecord>();
    const gate = editGate();
    const client = createSenderClient('xoxb-test-token', slack.url);
    const senderA = createSlackSender({ client, log: silentLog, pace: gate.pace });
    const senderB = createSlackSender({ client, log: silentLog });
    const attach = async (runId: string, messages: { messageTs?: string; approvalTs?: string }) => {
      attached.set(runId, { ...attached.get(runId), ...messages });
    };
    const common = {
      approvers: ['U0APP'],
      attach,
      updateIntervalMs: 0,
      getRun: async (id: string) => records.get(id),
    };
    const parked = createSlackReporterFactory({ ...common, sender: senderA });
    const resumed = createSlackReporterFactory({ ...common, sender: senderB });
    try {
      records.set('r9', record('r9', { state: 'awaiting-approval' }));
      await runUntilApproval(parked.reporterFor(record('r9')), 'r9');
      await until(() => attached.get('r9')?.approvalTs !== undefined, 5000);
      await parked.reporterFor(record('r9')).runFinished({ ...succeeded('r9'), state: 'awaiting-approval' });
      // Approved; another worker takes the run up and finishes it while the first one's edit still waits.
      const { messageTs, approvalTs } = attached.get('r9') ?? {};
      records.set('r9', record('r9', { messageTs, approvalTs, state: 'running:delegate' }));
      await runAfterApproval(
        resumed.reporterFor(record('r9', { messageTs, approvalTs, state: 'running:delegate' })),
        'r9',
      );
      await resumed.idle();
      records.set('r9', record('r9', { messageTs, approvalTs, state: 'succeeded', finishedAt: Date.now() }));
      gate.open = true;
      await parked.idle();
      const parent = slack.message('C0RUNS', messageTs as string);
      expect(JSON.stringify(parent?.blocks)).toContain('`succeeded`');
    } finally {
      senderA.close();
      senderB.close();
    }
  });

  it('says so in the thread when the queue tries a run again after a failed attempt', async () => {
    const reporter = reporters.reporterFor(record('r7'));
    await reporter.runStarted({ runId: 'r7', vm: 'vm-r7', mode: 'setup', resumed: false });
    await reporter.stepStarted('network');
    const failed: StepRecord = { id: 'network', state: 'failed', durationMs: 300, summary: 'lost' };
    await reporter.stepFailed(failed, {
      code: 'SSH_DISCONNECTED',
      message: 'The connection to the VM dropped.',
      detail: undefined,
      retryable: true,
    });
    await reporters.idle();
    // The attempt crashed; the queue runs it again, which finishes it.
    const again = reporters.reporterFor(record('r7', { messageTs: attached.get('r7')?.messageTs }));
    await again.runStarted({ runId: 'r7', vm: 'vm-r7', mode: 'setup', resumed: true });
    await again.stepStarted('network');
    await again.stepFinished(done('network'));
    await again.runFinished(succeeded('r7'));
    await reporters.idle();
    const parentTs = attached.get('r7')?.messageTs as string;
    const thread = slack.thread('C0RUNS', parentTs).map((m) => m.text);
    expect(thread).toEqual([
      'network failed: The connection to the VM dropped.',
      'Trying again from network',
      expect.stringContaining('Setup finished'),
    ]);
    expect(JSON.stringify(slack.message('C0RUNS', parentTs)?.blocks)).toContain('`succeeded`');
  });

  it('shows a failed step with its redacted log tail in the thread', async () => {
    const reporter = reporters.reporterFor(record('r6'));
    await reporter.runStarted({ runId: 'r6', vm: 'vm-r6', mode: 'setup', resumed: false });
    await reporter.stepStarted('runner-health');
    const failed: StepRecord = {
      id: 'runner-health',
      state: 'failed',
      durationMs: 120_000,
      summary: 'no answer',
    };
    await reporter.stepFailed(failed, {
      code: 'HEALTH_TIMEOUT',
      message: 'The runner did not answer.',
      detail: 'level=fatal msg="Unable to load pool file"',
      retryable: false,
    });
    await reporter.runFinished({
      runId: 'r6',
      vm: 'vm-r6',
      state: 'failed',
      step: 'runner-health',
      steps: [failed],
      error: undefined,
      unchanged: false,
    });
    await reporters.idle();
    const parentTs = attached.get('r6')?.messageTs as string;
    expect(JSON.stringify(slack.message('C0RUNS', parentTs)?.blocks)).toContain('`failed:runner-health`');
    const [error] = slack.thread('C0RUNS', parentTs);
    expect(JSON.stringify(error?.blocks)).toContain('Unable to load pool file');
    expect(slack.calls.filter((c) => !c.ok)).toEqual([]);
  });
  it('edits a parent another process posted only when the run has moved on since it went out', async () => {
    const sender = createSlackSender({
      client: createSenderClient('xoxb-test-token', slack.url),
      log: silentLog,
    });
    const run = record('r7', { state: 'awaiting-approval', approvalExpiresAt: Date.now() + 3_600_000 });
    const view = runViewFromRecord(run);
    const posted = runMessage(view);
    // The app posted the parent as the run was when the channel's turn came, and recorded what it shows.
    const ts = slack.seedMessage('C0RUNS', posted);
    const adopt = (shows: string) =>
      new RunOutbox({
        runId: 'r7',
        sender,
        channel: 'C0RUNS',
        since: run.createdAt,
        parentTs: undefined,
        render: () => runMessage(view),
        parentPosted: async () => undefined,
        claimParent: async () => ({ ts, shows }),
        settled: () => true,
        updateIntervalMs: 0,
        log: silentLog,
      });
    const edits = () => slack.calls.filter((c) => c.method === 'chat.update');
    try {
      const current = adopt(messageDigest(posted));
      current.changed();
      await current.idle();
      expect(edits()).toEqual([]);
      expect(slack.channelMessages('C0RUNS')).toHaveLength(1);
      view.state = 'running:delegate';
      current.changed();
      await current.idle();
      expect(edits()).toHaveLength(1);
      expect(slack.message('C0RUNS', ts)?.text).toBe('Gitspaces setup of vm-r7: running:delegate');
      // A parent posted before the run moved on (it shows the queued run) gets the run's state at once.
      view.state = 'awaiting-approval';
      const stale = adopt(messageDigest(runMessage(runViewFromRecord(record('r7')))));
      stale.changed();
      await stale.idle();
      expect(edits()).toHaveLength(2);
    } finally {
      sender.close();
    }
  });

  it('leaves a final edit waiting for Slack’s limit to the worker that owes it: no other worker sends it too', async () => {
    const redis = new Redis(REDIS_URL);
    const prefix = `gsb-final-${randomUUID().slice(0, 8)}`;
    const records = new Map<string, RunRecord>();
    const gate = editGate();
    const client = createSenderClient('xoxb-test-token', slack.url);
    const senders = [
      createSlackSender({ client, log: silentLog, pace: gate.pace }),
      createSlackSender({ client, log: silentLog }),
    ];
    const [owner, other] = senders.map((sender) =>
      createSlackReporterFactory({
        sender,
        approvers: ['U0APP'],
        ledger: createRedisLedger(redis, prefix),
        attach: async (runId, messages) => {
          const run = records.get(runId);
          if (run !== undefined) records.set(runId, { ...run, ...messages });
        },
        updateIntervalMs: 0,
        getRun: async (id) => records.get(id),
      }),
    ) as [SlackReporters, SlackReporters];
    try {
      records.set('f1', record('f1'));
      const reporter = owner.reporterFor(record('f1'));
      await runUntilApproval(reporter, 'f1');
      await runAfterApproval(reporter, 'f1');
      const parentTs = () => records.get('f1')?.messageTs ?? '';
      // The approval request and the summary are in the thread; the final edit waits for its turn.
      await until(() => slack.thread('C0RUNS', parentTs()).length === 2, 5000);
      const ended = records.get('f1') as RunRecord;
      records.set('f1', { ...ended, state: 'succeeded', finishedAt: Date.now() });
      // The other worker sweeps while the owner's final edit still waits for the minute's edits.
      await other.sweep(0);
      await other.idle();
      gate.open = true;
      await owner.idle();
      const finals = slack.calls.filter(
        (c) => c.method === 'chat.update' && String(c.args.text).endsWith(': succeeded'),
      );
      expect(finals).toHaveLength(1);
      expect(slack.message('C0RUNS', ended.messageTs as string)?.text).toBe(
        'Gitspaces setup of vm-f1: succeeded',
      );
    } finally {
      await owner.close(1000);
      await other.close(1000);
      const keys = await scanPrefix(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    }
  });
});
