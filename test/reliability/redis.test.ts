/**
 * Redis faults under a running bot: every connection cut (`CLIENT KILL`), and the server killed and started
 * again, while runs are in steps and while they wait for approval. The Redis is the test's own (AOF on, as
 * the README asks of production), never the shared one.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, startFleet } from '../support/fault-fleet.js';
import { type PrivateRedis, startPrivateRedis } from '../support/fault-redis.js';
import { shown } from '../support/slack-app-harness.js';

let fleet: Fleet;
let redis: PrivateRedis;
let bot: FaultBot;
const figures = { faultsInjected: 0, runsCompleted: 0, refusedWhileDown: 0 };

beforeAll(async () => {
  fleet = await startFleet(['vm-1', 'vm-2']);
  redis = await startPrivateRedis();
});
afterAll(async () => {
  await recordFigures('redis', figures);
  await redis?.stop();
  await fleet?.stop();
});
afterEach(async () => {
  if (!redis.running) await redis.start();
  await bot?.close();
});

async function openBot(): Promise<FaultBot> {
  for (const vm of fleet.vms) {
    vm.reset();
    // Every docker call takes a moment, so that faults land inside steps.
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '250' });
  }
  bot = await new FaultBot({ fleet, redisUrl: redis.url }).open();
  await bot.startWorker();
  return bot;
}

const inStep = /^running:(docker|pool-file|network|runner|runner-health)$/;

async function runsReach(ids: string[], wanted: (state: string) => boolean, what: string): Promise<void> {
  await waitFor(what, async () => {
    const runs = await Promise.all(ids.map((id) => bot.record(id)));
    return runs.every((r) => r !== undefined && wanted(r.state));
  });
}

function expectOneOfEach(vm: string): void {
  const names = fleet
    .vm(vm)
    .containers()
    .map((c) => c.name)
    .sort();
  expect(names).toEqual([`${vm}-delegate`, 'vm-runner']);
  expect(
    fleet
      .vm(vm)
      .containers()
      .every((c) => c.status === 'running'),
  ).toBe(true);
}

async function expectSucceeded(ids: Map<string, string>): Promise<void> {
  for (const [vm, id] of ids) {
    const run = await bot.finished(id);
    expect(run.state, `${vm}: ${JSON.stringify(run.audit.at(-1))}`).toBe('succeeded');
    expect(run.audit.filter((e) => e.event === 'finished')).toHaveLength(1);
    expect(bot.truthProblems(run)).toEqual([]);
    expect(bot.approvalRequests(run)).toHaveLength(1);
    expectOneOfEach(vm);
    figures.runsCompleted += 1;
  }
}

describe('Redis connections cut', () => {
  it('lets the worker reconnect and finish runs whose connections were cut in a step and while waiting', async () => {
    await openBot();
    await bot.command('setup vm-1 vm-2');
    const ids = await bot.runIdsFor(['vm-1', 'vm-2']);
    await runsReach([...ids.values()], (s) => inStep.test(s), 'both runs to be in a step');
    expect(await redis.cutClients()).toBeGreaterThan(0);
    figures.faultsInjected += 1;

    await runsReach([...ids.values()], (s) => s === 'awaiting-approval', 'both runs to wait for approval');
    expect(await redis.cutClients()).toBeGreaterThan(0);
    figures.faultsInjected += 1;
    for (const id of ids.values()) await bot.approve(id);
    await expectSucceeded(ids);
  });
});

describe('Redis down right after a parent message was posted', () => {
  // The parent is a job in Redis, written by one process at a time: it waits for Redis, is posted once it is
  // back, and a post whose outcome could not be recorded yet is left to its sender rather than posted again.
  it('keeps one parent message per run, which ends showing the run’s final state', async () => {
    for (const vm of fleet.vms) {
      vm.reset();
      await vm.sshd.setDockerEnv({});
    }
    bot = await new FaultBot({ fleet, redisUrl: redis.url }).open();
    await bot.startWorker();
    // The parent message waits out a 429; Redis goes down meanwhile, longer than the wait.
    bot.slack.fail('chat.postMessage', { status: 429, retryAfter: 1 }, 1);
    await bot.command('setup vm-1');
    await waitFor('the 429', () => bot.slack.calls.some((c) => c.status === 429));
    await redis.restart(1500);
    figures.faultsInjected += 1;
    await waitFor('the parent message', () => bot.slack.channelMessages('C0RUNS').length > 0);

    const id = (await bot.runIdsFor(['vm-1'], 0)).get('vm-1') as string;
    await waitFor('the approval request', async () => (await bot.record(id))?.state === 'awaiting-approval');
    await bot.approve(id);
    const run = await bot.finished(id);
    expect(run.state).toBe('succeeded');
    expect(bot.slack.channelMessages('C0RUNS')).toHaveLength(1);
    expect(bot.truthProblems(run)).toEqual([]);
    // Its own waits (the approval request, the run's end) may each take up to a minute.
  }, 180_000);
});

describe('Redis away for longer than a job lock', () => {
  // BullMQ hands the run to another worker once the first one's lock has lapsed; the first learns it lost
  // the lock when Redis is back (lockRenewalFailed) and its engine stops before its next command or step.
  it('finishes the run once when a second worker takes it over during the outage', async () => {
    fleet.vm('vm-1').reset();
    await fleet.vm('vm-1').sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '1500' });
    bot = await new FaultBot({
      fleet,
      redisUrl: redis.url,
      timings: { lockDuration: 2000, stalledInterval: 1000 },
    }).open();
    await bot.startChildWorker();
    await bot.startChildWorker();
    await bot.command('setup vm-1');
    const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    await waitFor('the network step', async () => (await bot.record(id))?.state === 'running:network');
    await redis.restart(3500);
    figures.faultsInjected += 1;
    await waitFor(
      'the approval request',
      async () => (await bot.record(id))?.state === 'awaiting-approval',
      120_000,
    );
    await bot.approve(id);
    const run = await bot.finished(id);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(bot.approvalRequests(run)).toHaveLength(1);
    expectOneOfEach('vm-1');
    // Every docker call on this VM takes 1.5 s more, and the wait for the approval alone may take 120 s.
  }, 180_000);
});

describe('Redis restarted', () => {
  it('finishes runs when Redis dies in the middle of their steps and again while they wait', async () => {
    await openBot();
    await bot.command('setup vm-1 vm-2');
    const ids = await bot.runIdsFor(['vm-1', 'vm-2']);
    await runsReach([...ids.values()], (s) => inStep.test(s), 'both runs to be in a step');
    await redis.restart(1500);
    figures.faultsInjected += 1;

    await runsReach([...ids.values()], (s) => s === 'awaiting-approval', 'both runs to wait for approval');
    await redis.restart(1500);
    figures.faultsInjected += 1;
    for (const id of ids.values()) await bot.approve(id);
    await expectSucceeded(ids);
  });

  it('tells people the queue is unavailable while Redis is down, and answers again once it is back', async () => {
    bot = await new FaultBot({ fleet, redisUrl: redis.url }).open();
    await bot.command('setup vm-1');
    const [id] = [...(await bot.runIdsFor(['vm-1'])).values()] as [string];
    // Its parent is posted by a job in Redis: let it out before the outage, so the count below is the new run's.
    await waitFor('the first run’s parent message', () =>
      bot.slack.channelMessages('C0RUNS').some((m) => m.text.includes('setup of vm-1')),
    );
    await redis.kill();
    figures.faultsInjected += 1;

    for (const text of ['setup vm-2', 'status', 'cancel vm-1']) {
      const answer = await bot.command(text);
      expect(answer.status).toBe(200);
      expect(shown(await bot.h.response(answer))).toContain('queue is unavailable, try again shortly');
      figures.refusedWhileDown += 1;
    }
    const click = await bot.h.click({
      actionId: 'delegate_approve',
      value: id,
      user: 'U0APP',
      message: { ts: '1700000000.000100', text: 'Approval needed', blocks: [] },
    });
    expect(shown(await bot.h.response(click))).toContain('queue is unavailable');
    const form = await bot.h.submit({
      user: 'U0REQ',
      view: { callback_id: 'gitspaces_setup', private_metadata: JSON.stringify({ channel: 'C0RUNS' }) },
      values: { vm: 'vm-2', project: null, zone: null, delegate_name: null, tags: null },
    });
    expect(form.body).toMatchObject({ response_action: 'errors' });
    expect(shown(form.body)).toContain('unavailable');
    figures.refusedWhileDown += 2;
    expect((await fetch(`${bot.h.base}/readyz`)).status).toBe(503);
    const parentsWhileDown = bot.slack.channelMessages('C0RUNS').length;

    await redis.start();
    await waitFor(
      'the app to be ready again',
      async () => (await fetch(`${bot.h.base}/readyz`)).status === 200,
    );
    // The run recorded before the outage is still there, and new commands work again.
    expect((await bot.record(id))?.state).toBe('queued');
    const again = await bot.command('setup vm-2');
    expect(again.status).toBe(200);
    await bot.runIdsFor(['vm-2']);
    await waitFor('the new run’s parent message', () =>
      bot.slack.channelMessages('C0RUNS').some((m) => m.text.includes('setup of vm-2')),
    );
    expect(bot.slack.channelMessages('C0RUNS')).toHaveLength(parentsWhileDown + 1);
    const status = await bot.command('status');
    expect(shown(await bot.h.response(status))).toContain('vm-2');
  });
});
