/**
 * End to end, as a person in Slack sees it: signed requests to the real Bolt app, the real queue and worker
 * on Redis, the real engine over SSH to the test VM (sshd with the Docker stand-in), and the Slack reporter
 * writing to the fake Web API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type RunningWorker, startWorker } from '../../jobs/setup-worker.js';
import { STEP_IDS } from '../../src/setup/step-ids.js';
import { createSlackDelivery, type SlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import type { FakeMessage } from '../support/fake-slack.js';
import {
  quickClock,
  type TestVmInfo,
  testVmAdapters,
  testVmEnv,
  testVmInfo,
  testVmSettings,
} from '../support/queue-test-vm.js';
import { TEST_TOKEN } from '../support/secrets-dir.js';
import { type SlackAppHarness, startSlackAppHarness } from '../support/slack-app-harness.js';
import { slackJobsIdle } from '../support/slack-jobs.js';

let vm: TestVm;
let info: TestVmInfo;

beforeAll(async () => {
  vm = await startTestVm();
  info = testVmInfo(vm);
});
afterAll(async () => vm?.stop());

/** The whole bot (app and worker in one process, as `serve` runs them) on a bare test VM. */
class Bot {
  h!: SlackAppHarness;
  delivery!: SlackDelivery;
  worker!: RunningWorker;

  async open(env: Record<string, string> = {}): Promise<this> {
    vm.resetDocker();
    this.h = await startSlackAppHarness({ env: testVmEnv(info, env) });
    await this.startWorker();
    return this;
  }

  /** Another process takes over: a new worker with its own Slack delivery, nothing shared in memory. */
  async replaceWorker(): Promise<void> {
    await this.worker.close();
    await this.delivery.close();
    await this.startWorker();
  }

  private async startWorker(): Promise<void> {
    this.delivery = createSlackDelivery(this.h.config, {
      redis: this.h.queue.redis,
      runs: this.h.queue.runs,
    });
    this.worker = await startWorker(this.h.config, {
      reporterFor: (run) => this.delivery.reporterFor(run),
      engine: testVmAdapters(info),
      settings: testVmSettings(this.h.config, info),
      clock: quickClock,
    });
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.delivery?.close();
    await this.h?.close();
  }

  get slack() {
    return this.h.slack;
  }

  parent(): Promise<FakeMessage> {
    return this.slack.waitFor('the parent message', () => this.slack.channelMessages('C0RUNS')[0]);
  }

  /** The approval request, broadcast from the run's thread, once its buttons are there. */
  async approvalRequest(): Promise<FakeMessage> {
    const posted = await this.slack.waitFor(
      'the approval request',
      () =>
        this.slack.messages.find(
          (m) => m.replyBroadcast && JSON.stringify(m.blocks).includes('delegate_approve'),
        ),
      60_000,
    );
    // As the approver's client shows it, even after the bot edits it.
    return structuredClone(posted);
  }

  async click(request: FakeMessage, actionId: string, user = 'U0APP') {
    const value = JSON.stringify(request.blocks).match(/"value":"(run-[A-Za-z0-9_-]+)"/)?.[1] ?? '';
    return this.h.click({
      actionId,
      value,
      user,
      message: { ts: request.ts, text: request.text, blocks: request.blocks },
    });
  }

  /** The last reply in the parent's thread once it says how the run ended. */
  final(parentTs: string, words: string): Promise<FakeMessage> {
    return this.slack.waitFor(
      `the final summary (${words})`,
      () => this.slack.thread('C0RUNS', parentTs).find((m) => m.text.includes(words)),
      60_000,
    );
  }

  async settled(): Promise<void> {
    await slackJobsIdle(this.h.queue.redis, this.h.queue.prefix);
  }

  delegates() {
    return Object.values(vm.sshd.dockerState().containers ?? {}).filter((c) => c.name === 'vm-1-delegate');
  }
}

function blocksOf(message: FakeMessage | undefined): string {
  return JSON.stringify(message?.blocks ?? []);
}

const bot = new Bot();
afterEach(async () => bot.close());

describe('a setup driven from Slack', () => {
  it('goes from /gitspaces setup vm-1 to an approved, running delegate, all in one thread', async () => {
    await bot.open();
    const answer = await bot.h.command('setup vm-1');
    expect(answer.status).toBe(200);
    const parent = await bot.parent();
    expect(blocksOf(parent)).toContain('step-preflight');
    const request = await bot.approvalRequest();
    expect(request.threadTs).toBe(parent.ts);
    expect(blocksOf(request)).toMatch(/SHA256:[A-Za-z0-9+/]{43}/);
    expect(blocksOf(request)).toContain('vm-1-delegate');
    expect(blocksOf(request)).toContain('<@U0APP>');
    await bot.slack.waitFor('the checklist to wait for approval', () =>
      blocksOf(bot.slack.message('C0RUNS', parent.ts)).includes('`awaiting-approval`'),
    );
    expect(bot.delegates()).toHaveLength(0);

    await bot.click(request, 'delegate_approve');
    await bot.final(parent.ts, 'Setup finished');
    await bot.settled();
    const done = bot.slack.message('C0RUNS', parent.ts);
    expect(blocksOf(done)).toContain('`succeeded`');
    for (const id of STEP_IDS) {
      const step = JSON.stringify(done?.blocks.find((b) => b.block_id === `step-${id}`));
      expect(step).toMatch(/· (done|unchanged) ·/);
    }
    expect(blocksOf(bot.slack.message('C0RUNS', request.ts))).toContain('Approved by <@U0APP>');
    expect(bot.delegates()).toHaveLength(1);
    // Few Web API calls for a whole run, and no secret anywhere in them.
    const calls = bot.slack.calls.filter((c) => c.method !== 'auth.test');
    expect(calls.length).toBeLessThanOrEqual(15);
    expect(JSON.stringify(bot.slack.calls)).not.toContain(TEST_TOKEN);
    const status = await bot.h.command('status');
    expect(JSON.stringify(await bot.h.response(status))).toContain('`succeeded`');
  });

  it('does the same from the setup modal', async () => {
    await bot.open();
    await bot.h.submit({
      user: 'U0REQ',
      view: { callback_id: 'gitspaces_setup', private_metadata: JSON.stringify({ channel: 'C0RUNS' }) },
      values: { vm: 'vm-1', project: null, zone: null, delegate_name: '{vm}-delegate', tags: 'gitspaces' },
    });
    const parent = await bot.parent();
    await bot.click(await bot.approvalRequest(), 'delegate_approve', 'U0APP');
    await bot.final(parent.ts, 'Setup finished');
    await bot.settled();
    expect(blocksOf(bot.slack.message('C0RUNS', parent.ts))).toContain('`succeeded`');
    expect(bot.delegates()).toHaveLength(1);
  });

  it('installs no delegate when an approver rejects', async () => {
    await bot.open();
    await bot.h.command('setup vm-1');
    const parent = await bot.parent();
    const request = await bot.approvalRequest();
    await bot.click(request, 'delegate_reject', 'U0APP');
    await bot.final(parent.ts, 'Rejected');
    await bot.settled();
    expect(blocksOf(bot.slack.message('C0RUNS', parent.ts))).toContain('`rejected`');
    expect(blocksOf(bot.slack.message('C0RUNS', request.ts))).toContain('Rejected by <@U0APP>');
    expect(bot.delegates()).toHaveLength(0);
  });

  it('ends the run as expired when nobody decides in time, and closes the request', async () => {
    await bot.open({ APPROVAL_TTL: '2s' });
    await bot.h.command('setup vm-1');
    const parent = await bot.parent();
    const request = await bot.approvalRequest();
    await bot.final(parent.ts, 'expired');
    await bot.settled();
    expect(blocksOf(bot.slack.message('C0RUNS', parent.ts))).toContain('`expired`');
    const closed = bot.slack.message('C0RUNS', request.ts);
    expect(blocksOf(closed)).not.toContain('delegate_approve');
    expect(blocksOf(closed)).toContain('Expired');
    const late = await bot.click(request, 'delegate_approve', 'U0APP');
    expect(JSON.stringify(await bot.h.response(late))).toMatch(/expired|not waiting/);
    expect(bot.delegates()).toHaveLength(0);
  });

  it('finishes in the same message and thread when another worker takes over a run waiting for approval', async () => {
    await bot.open();
    await bot.h.command('setup vm-1');
    const parent = await bot.parent();
    const request = await bot.approvalRequest();
    await bot.slack.waitFor('the checklist to wait for approval', () =>
      blocksOf(bot.slack.message('C0RUNS', parent.ts)).includes('`awaiting-approval`'),
    );
    await bot.replaceWorker();
    await bot.click(request, 'delegate_approve');
    await bot.final(parent.ts, 'Setup finished');
    await bot.settled();
    expect(bot.slack.channelMessages('C0RUNS')).toHaveLength(1);
    expect(bot.slack.messages.filter((m) => m.replyBroadcast)).toHaveLength(1);
    expect(blocksOf(bot.slack.message('C0RUNS', parent.ts))).toContain('`succeeded`');
    expect(bot.delegates()).toHaveLength(1);
  });
});
