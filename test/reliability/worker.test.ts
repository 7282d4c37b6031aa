/**
 * Worker crashes beyond test/queue/worker-crash.test.ts (which covers SIGKILL in a step and during the
 * approval wait): a worker SIGKILLed after the run parked at approval but before Slack took the approval
 * request, and two workers killed one after the other in the middle of the same run. Workers run in child
 * processes with the Slack reporter, so the thread is what a person would see.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, startFleet } from '../support/fault-fleet.js';

let fleet: Fleet;
let bot: FaultBot;
const figures = { faultsInjected: 0, runsCompleted: 0 };

beforeAll(async () => {
  fleet = await startFleet(['vm-1']);
});
afterAll(async () => {
  await recordFigures('worker', figures);
  await fleet?.stop();
});
afterEach(async () => bot?.close());

async function open(delayMs: number): Promise<FaultBot> {
  const vm = fleet.vm('vm-1');
  vm.reset();
  await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: String(delayMs) });
  bot = await new FaultBot({ fleet, timings: { lockDuration: 2000, stalledInterval: 1000 } }).open();
  return bot;
}

const containers = () =>
  fleet
    .vm('vm-1')
    .containers()
    .map((c) => c.name)
    .sort();

describe('a worker killed', () => {
  it('finishes the run, once, after two workers in a row are killed in its steps', async () => {
    await open(600);
    const first = await bot.startChildWorker();
    await bot.command('setup vm-1');
    const runId = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    await waitFor('the network step', async () => (await bot.record(runId))?.state === 'running:network');
    await first.kill();
    const second = await bot.startChildWorker();
    await waitFor(
      'the runner step',
      async () => (await bot.record(runId))?.state === 'running:runner',
      120_000,
    );
    await second.kill();
    await bot.startChildWorker();
    figures.faultsInjected += 2;

    await waitFor(
      'the approval request',
      async () => (await bot.record(runId))?.state === 'awaiting-approval',
      120_000,
    );
    await bot.approve(runId);
    const run = await bot.finished(runId);
    expect(run.state, JSON.stringify(run.audit.slice(-6), null, 1)).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(bot.approvalRequests(run)).toHaveLength(1);
    expect(containers()).toEqual(['vm-1-delegate', 'vm-runner']);
    figures.runsCompleted += 1;
  }, 180_000);

  // The record is made final before the thread is told; the closing summary is a job on the slack queue
  // (src/slack/delivery), which another process takes up once the dead worker's lock lapses.
  it('tells the thread how a run ended when its worker was killed right after the run finished', async () => {
    await open(0);
    const first = await bot.startChildWorker();
    await bot.command('setup vm-1');
    const runId = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    await waitFor(
      'the approval request',
      async () => (await bot.record(runId))?.state === 'awaiting-approval',
    );
    await bot.approve(runId);
    await waitFor('the delegate step', async () => (await bot.record(runId))?.state === 'running:delegate');
    bot.slack.down = true;
    await waitFor('the run to end', async () => (await bot.record(runId))?.finishedAt !== undefined);
    await first.kill();
    bot.slack.down = false;
    await bot.startChildWorker();
    figures.faultsInjected += 1;

    const run = await bot.finished(runId);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
  }, 300_000);

  // The request is recorded as owed before the engine notes that it asked; the worker that resumes the run
  // (or any worker's sweep) posts it once the dead worker's lease lapses.
  it('posts the approval request after the worker that parked the run was killed before Slack took it', async () => {
    await open(0);
    await bot.startChildWorker();
    await bot.command('setup vm-1');
    const runId = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    await waitFor('the runner health step', async () =>
      /^running:runner(-health)?$/.test((await bot.record(runId))?.state ?? ''),
    );
    bot.slack.down = true;
    await waitFor('the run to park', async () => (await bot.record(runId))?.state === 'awaiting-approval');
    for (const w of bot.workers) if (w.kind === 'child') await w.process.kill();
    bot.slack.down = false;
    await bot.startChildWorker();
    figures.faultsInjected += 1;

    await waitFor('the approval request in the thread', () => bot.approvalRequest(runId), 60_000);
    await bot.approve(runId);
    const run = await bot.finished(runId);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(containers()).toEqual(['vm-1-delegate', 'vm-runner']);
  }, 180_000);
});
