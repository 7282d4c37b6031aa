/**
 * Slack's Web API having a bad time while runs go on: bursts of 500s, bursts of 429s with Retry-After, and
 * a stretch where every call fails. Runs finish regardless, and the messages catch up to the truth.
 */
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, startFleet } from '../support/fault-fleet.js';

let fleet: Fleet;
let bot: FaultBot;

beforeAll(async () => {
  fleet = await startFleet(['vm-1', 'vm-2']);
});
afterAll(async () => fleet?.stop());
afterEach(async () => bot?.close());

it('finishes every run while the Web API answers 500s and 429s in bursts, and the messages catch up', async () => {
  for (const vm of fleet.vms) {
    vm.reset();
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '150' });
  }
  bot = await new FaultBot({ fleet }).open();
  await bot.startWorker();
  const slack = bot.slack;
  let bursts = 0;

  // The parent messages go out through a burst of 500s.
  slack.fail('chat.postMessage', { status: 500 }, 3);
  bursts += 1;
  await bot.command('setup vm-1 vm-2');
  const ids = await bot.runIdsFor(['vm-1', 'vm-2']);
  await waitFor('both runs to be in a step', async () =>
    (await Promise.all([...ids.values()].map((id) => bot.record(id)))).every((r) =>
      /^running:(docker|pool-file|network|runner)$/.test(r?.state ?? ''),
    ),
  );
  // Progress edits are rate limited for a while, then every call fails for a moment.
  slack.fail('chat.update', { status: 429, retryAfter: 1 }, 6);
  bursts += 1;
  slack.down = true;
  await new Promise((resolve) => setTimeout(resolve, 2000));
  slack.down = false;
  bursts += 1;

  // The approval requests get through a 429 burst and a 500 burst on their way.
  await waitFor('both runs to wait for approval', async () =>
    (await Promise.all([...ids.values()].map((id) => bot.record(id)))).every(
      (r) => r?.state === 'awaiting-approval',
    ),
  );
  slack.fail('chat.postMessage', { status: 429, retryAfter: 1 }, 2);
  slack.fail('*', { status: 500 }, 4);
  bursts += 2;
  for (const id of ids.values()) await bot.approve(id);
  slack.fail('chat.update', { status: 500 }, 5);
  bursts += 1;

  for (const [vm, id] of ids) {
    const run = await bot.finished(id);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(bot.approvalRequests(run)).toHaveLength(1);
    expect(
      fleet
        .vm(vm)
        .containers()
        .map((c) => c.name)
        .sort(),
    ).toEqual([`${vm}-delegate`, 'vm-runner']);
  }
  // The closed approval requests say who approved, although their edits met failures too (an edit that
  // met a 500 burst is tried again after a backoff, so it may land a little after the run ended).
  for (const id of ids.values()) {
    const run = await bot.record(id);
    const closed = () => {
      const request = run?.approvalTs === undefined ? undefined : slack.message('C0RUNS', run.approvalTs);
      return JSON.stringify(request?.blocks).includes('Approved by <@U0APP>');
    };
    await waitFor('the approval request to say who approved', closed, 30_000);
  }
  const failed = slack.calls.filter((c) => c.status !== 200);
  expect(failed.some((c) => c.status === 429)).toBe(true);
  expect(failed.some((c) => c.status === 500)).toBe(true);
  expect(failed.some((c) => c.status === 503)).toBe(true);
  await recordFigures('slack', {
    faultsInjected: bursts,
    runsCompleted: ids.size,
    slackCallsFailed: failed.length,
  });
}, 180_000);
