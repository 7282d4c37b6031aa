/**
 * Who may do what, end to end with a worker and a VM ready: only SETUP_ALLOWED people in ALLOWED_CHANNELS
 * start runs (by command or by the modal) or probe VMs; only APPROVERS decide, never on their own run
 * unless ALLOW_SELF_APPROVAL; the first decision stands; a click after expiry or after a decision changes
 * nothing and says why. Every refusal is ephemeral and leaves Redis, the queue and the VM as they were.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, startFleet } from '../support/fault-fleet.js';
import { shown } from '../support/slack-app-harness.js';

let fleet: Fleet;
let bot: FaultBot;
let refusals = 0;

beforeAll(async () => {
  fleet = await startFleet(['vm-1']);
});
afterAll(async () => {
  await recordFigures('access', { inputsRefused: refusals });
  await fleet?.stop();
});
afterEach(async () => bot?.close());

async function open(env: Record<string, string> = {}): Promise<FaultBot> {
  fleet.vm('vm-1').reset();
  await fleet.vm('vm-1').sshd.setDockerEnv({});
  bot = await new FaultBot({
    fleet,
    env: { SETUP_ALLOWED: 'U0OK,S0SETUP', ALLOWED_CHANNELS: 'C0RUNS', ...env },
    usergroups: { S0SETUP: ['U0GRP'], S0OPS: ['U0OPS1', 'U0REQAPP'] },
  }).open();
  await bot.startWorker();
  return bot;
}

/** Everything a refusal must leave alone. */
async function state(): Promise<string> {
  // Queue bookkeeping and Slack's pace windows change by themselves (what Slack shows is in `posted`).
  const keys = (await bot.h.queue.dump()).filter(
    ({ key }) => !/:(setup|slack):(events|id|stalled-check)$|:slack:pace:/.test(key),
  );
  return JSON.stringify({
    keys: keys.sort((a, b) => a.key.localeCompare(b.key)),
    jobs: await bot.h.queue.queue.getJobCounts(),
    docker: fleet.vm('vm-1').sshd.calls().length,
    posted: bot.slack.calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update')
      .length,
  });
}

async function refused(send: () => Promise<{ said: () => Promise<string> }>, why: RegExp): Promise<void> {
  // What was asked of Slack before is delivered first; whatever the refusal asked of it is counted after.
  await bot.idle();
  const before = await state();
  const said = await (await send()).said();
  expect(said).toMatch(why);
  expect(said).toContain('ephemeral');
  await bot.idle();
  expect(await state()).toBe(before);
  refusals += 1;
}

const command =
  (text: string, user: string, channel = 'C0RUNS') =>
  async () => {
    const answer = await bot.command(text, user, channel);
    return {
      said: async () =>
        answer.body !== undefined ? shown(answer.body) : shown(await bot.h.response(answer)),
    };
  };

const form = (user: string, channel: string) => async () => {
  const answer = await bot.h.submit({
    user,
    view: { callback_id: 'gitspaces_setup', private_metadata: JSON.stringify({ channel }) },
    values: { vm: 'vm-1', project: null, zone: null, delegate_name: null, tags: null },
  });
  // Field errors are the modal's way of refusing (no response_type): shown under the VM field.
  return { said: async () => `ephemeral ${shown(answer.body)}` };
};

describe('starting runs', () => {
  it('lets only SETUP_ALLOWED people in ALLOWED_CHANNELS start runs or probe VMs', async () => {
    await open();
    const notAllowed = /not allowed to start Gitspaces setups/;
    const notHere = /not allowed in this channel/;
    for (const text of ['setup vm-1', 'plan vm-1', 'status vm-1', 'setup']) {
      await refused(command(text, 'U0NOPE'), text === 'status vm-1' ? /not allowed/ : notAllowed);
      await refused(command(text, 'U0OK', 'C0ELSEWHERE'), notHere);
      await refused(command(text, 'U0GRP', 'C0ELSEWHERE'), notHere);
    }
    await refused(form('U0NOPE', 'C0RUNS'), notAllowed);
    await refused(form('U0OK', 'C0ELSEWHERE'), notHere);
    // The approvers are not for that reason allowed to start runs.
    await refused(command('setup vm-1', 'U0APP'), notAllowed);
    expect(await bot.runs.recent({ limit: 10 })).toEqual([]);

    // Listed by id, or through a listed user group, in an allowed channel: the run starts.
    await bot.command('setup vm-1', 'U0GRP');
    const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    expect((await bot.record(id))?.requester).toBe('U0GRP');
    await bot.waiting(id);
    await refused(command('cancel vm-1', 'U0NOPE'), /who requested it\) or an approver can cancel/);
    await bot.click(id, 'delegate_reject', 'U0APP');
    await bot.finished(id);
  });
});

describe('deciding', () => {
  it('lets only approvers decide, not on their own run, once: the first decision stands', async () => {
    await open({ SETUP_ALLOWED: 'U0OK,U0REQAPP' });
    await bot.command('setup vm-1', 'U0REQAPP');
    const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    await bot.waiting(id);
    const click = (action: string, user: string) => async () => {
      const answer = await bot.click(id, action, user);
      return { said: async () => shown(await bot.h.response(answer)) };
    };
    await refused(click('delegate_approve', 'U0NOPE'), /Only approvers can decide/);
    await refused(click('delegate_reject', 'U0OK'), /Only approvers can decide/);
    // The requester is an approver (through S0OPS), but not of their own run.
    await refused(click('delegate_approve', 'U0REQAPP'), /another approver has to decide/);
    expect((await bot.record(id))?.decision).toBeUndefined();

    await bot.approve(id, 'U0OPS1');
    const request = bot.approvalRequest(id);
    // A second approver's reject, and the first approver changing their mind, change nothing.
    const late = await bot.h.click({
      actionId: 'delegate_reject',
      value: id,
      user: 'U0APP',
      message: { ts: request?.ts ?? '', text: request?.text ?? '', blocks: request?.blocks ?? [] },
    });
    expect(shown(await bot.h.response(late))).toMatch(
      /Already decided: .*Approved by <@U0OPS1>.*Nothing was changed/,
    );
    refusals += 1;
    const run = await bot.finished(id);
    expect(run.state).toBe('succeeded');
    expect(run.decision).toMatchObject({ kind: 'approved', by: 'U0OPS1' });
    expect(run.audit.filter((e) => e.event === 'approved' || e.event === 'rejected')).toHaveLength(1);
    expect(bot.truthProblems(run)).toEqual([]);
    const closed = bot.slack.message('C0RUNS', run.approvalTs ?? '');
    expect(JSON.stringify(closed?.blocks)).toContain('Approved by <@U0OPS1>');
    expect(JSON.stringify(closed?.blocks)).not.toContain('delegate_approve');
  });

  it('lets an approver approve their own run when ALLOW_SELF_APPROVAL=true', async () => {
    await open({ SETUP_ALLOWED: 'U0APP', ALLOW_SELF_APPROVAL: 'true' });
    await bot.command('setup vm-1', 'U0APP');
    const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    await bot.approve(id, 'U0APP');
    const run = await bot.finished(id);
    expect(run.state).toBe('succeeded');
    expect(run.decision).toMatchObject({ kind: 'approved', by: 'U0APP' });
  });

  it('changes nothing on a click after a rejection and says so; no delegate is installed', async () => {
    await open();
    await bot.command('setup vm-1', 'U0OK');
    const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    const request = await waitFor('the approval request', () => bot.approvalRequest(id));
    await bot.click(id, 'delegate_reject', 'U0APP');
    const run = await bot.finished(id);
    expect(run.state).toBe('rejected');
    await refused(async () => {
      const answer = await bot.h.click({
        actionId: 'delegate_approve',
        value: id,
        user: 'U0OPS1',
        message: { ts: request.ts, text: request.text, blocks: request.blocks },
      });
      return { said: async () => shown(await bot.h.response(answer)) };
    }, /Already decided: .*Rejected by <@U0APP>.*Nothing was changed|not waiting for approval/);
    expect(
      fleet
        .vm('vm-1')
        .containers()
        .map((c) => c.name),
    ).toEqual(['vm-runner']);
  });

  it('changes nothing on a click after the request expired and says so; no delegate is installed', async () => {
    await open({ APPROVAL_TTL: '3s' });
    await bot.command('setup vm-1', 'U0OK');
    const id = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
    const request = await waitFor('the approval request', () => bot.approvalRequest(id));
    const run = await bot.finished(id);
    expect(run.state).toBe('expired');
    expect(bot.truthProblems(run)).toEqual([]);
    await refused(async () => {
      const answer = await bot.h.click({
        actionId: 'delegate_approve',
        value: id,
        user: 'U0APP',
        message: { ts: request.ts, text: request.text, blocks: request.blocks },
      });
      return { said: async () => shown(await bot.h.response(answer)) };
    }, /expired|not waiting for approval/);
    expect(
      fleet
        .vm('vm-1')
        .containers()
        .map((c) => c.name),
    ).toEqual(['vm-runner']);
  });
});
