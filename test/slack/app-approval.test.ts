import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/queue/types.js';
import { approvalRequestMessage } from '../../src/slack/blocks/approval-message.js';
import { createThreadOutbox } from '../../src/slack/delivery/thread-outbox.js';
import { type SlackAppHarness, shown, startSlackAppHarness } from '../support/slack-app-harness.js';

let h: SlackAppHarness;

beforeEach(async () => {
  h = await startSlackAppHarness({ usergroups: { S0OPS: ['U0GRP1', 'U0GRP2', 'U0REQ'] } });
});
afterEach(async () => h.close());

interface Waiting {
  run: RunRecord;
  ts: string;
  message: { text: string; blocks: unknown[] };
}

/** A run waiting for approval, with its request message in the channel as delivery posted it. */
async function waitingRun(
  options: { requester?: string; expiresAt?: number; vm?: string } = {},
): Promise<Waiting> {
  const requester = options.requester ?? 'U0REQ';
  const vm = options.vm ?? 'vm-1';
  const started = await h.queue.runs.start({
    target: { vm, project: undefined, zone: undefined },
    requester,
    channel: 'C0RUNS',
  });
  if (!started.ok) throw new Error(`${vm} is busy`);
  const expiresAt = options.expiresAt ?? Date.now() + 3_600_000;
  await h.queue.store.update(started.run.id, { state: 'awaiting-approval', approvalExpiresAt: expiresAt });
  const message = approvalRequestMessage({
    request: {
      runId: started.run.id,
      vm: 'vm-1',
      hostKeyFingerprint: 'SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU',
      delegateName: 'vm-1-delegate',
      delegateImage: 'harness/delegate:25.03',
      accountId: 'acct_1',
      tags: '',
      expiresAt,
    },
    requester,
    approvers: ['U0APP', 'S0OPS'],
  });
  const ts = h.slack.seedMessage('C0RUNS', message);
  // Kept beside the run when its request was queued, as delivery keeps it for the closing edit.
  await createThreadOutbox(h.queue.redis, h.queue.prefix).note(started.run.id, {
    approval: JSON.stringify(message),
  });
  return { run: started.run, ts, message };
}

function click(w: Waiting, user: string, actionId = 'delegate_approve', value = w.run.id) {
  return h.click({ actionId, value, user, message: { ts: w.ts, ...w.message } });
}

async function unchanged(w: Waiting): Promise<void> {
  expect((await h.queue.runs.get(w.run.id))?.decision).toBeUndefined();
  expect(h.slack.message('C0RUNS', w.ts)?.updates).toBe(0);
}

describe('approval clicks', () => {
  it('refuses a non-approver and changes nothing', async () => {
    const w = await waitingRun();
    const answer = await click(w, 'U0STRANGER');
    expect(answer.status).toBe(200);
    const refusal = await h.response(answer);
    expect(refusal).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(shown(refusal)).toContain('Only approvers can decide');
    await unchanged(w);
  });

  it('refuses the requester’s own click, even as an approver, and changes nothing', async () => {
    const w = await waitingRun({ requester: 'U0APP' });
    const refusal = await h.response(await click(w, 'U0APP'));
    expect(shown(refusal)).toContain('another approver has to decide');
    await unchanged(w);
    // Also when the requester is an approver through a user group.
    const w2 = await waitingRun({ requester: 'U0REQ', vm: 'vm-2' });
    expect(shown(await h.response(await click(w2, 'U0REQ', 'delegate_reject')))).toContain(
      'another approver has to decide',
    );
    await unchanged(w2);
  });

  it('lets a member of an approver user group approve: the buttons give way to who approved and when', async () => {
    const w = await waitingRun();
    await click(w, 'U0GRP1');
    const updated = await h.slack.waitFor('the request message edited', () => {
      const m = h.slack.message('C0RUNS', w.ts);
      return m?.updates === 1 ? m : undefined;
    });
    expect(JSON.stringify(updated.blocks)).not.toContain('delegate_approve');
    expect(JSON.stringify(updated.blocks)).toContain('Approved by <@U0GRP1> at <!date^');
    expect(JSON.stringify(updated.blocks)).toContain('SHA256:47DEQpj8HBSa');
    expect((await h.queue.runs.get(w.run.id))?.decision).toMatchObject({ kind: 'approved', by: 'U0GRP1' });
  });

  it('records a rejection the same way', async () => {
    const w = await waitingRun();
    await click(w, 'U0APP', 'delegate_reject');
    const updated = await h.slack.waitFor('the request message edited', () => {
      const m = h.slack.message('C0RUNS', w.ts);
      return m?.updates === 1 ? m : undefined;
    });
    expect(JSON.stringify(updated.blocks)).toContain('Rejected by <@U0APP>');
    expect((await h.queue.runs.get(w.run.id))?.decision).toMatchObject({ kind: 'rejected', by: 'U0APP' });
  });

  it('makes exactly one decision and one edit out of ten simultaneous approve clicks', async () => {
    const w = await waitingRun();
    const users = [
      'U0APP',
      'U0GRP1',
      'U0GRP2',
      'U0APP',
      'U0GRP1',
      'U0GRP2',
      'U0APP',
      'U0GRP1',
      'U0GRP2',
      'U0APP',
    ];
    const answers = await Promise.all(users.map((user) => click(w, user)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await h.slack.waitFor(
      'nine refusals',
      () => answers.filter((a) => a.responses().length > 0).length === 9,
    );
    await h.slack.waitFor('the one edit', () => h.slack.message('C0RUNS', w.ts)?.updates === 1);
    const texts = answers.flatMap((a) => a.responses()).map(shown);
    expect(texts.every((t) => t.includes('Already decided'))).toBe(true);
    const run = await h.queue.runs.get(w.run.id);
    expect(run?.audit.filter((e) => e.event === 'approved')).toHaveLength(1);
    expect(h.slack.callsTo('chat.update')).toHaveLength(1);
  });

  it('tells a late approver the request expired and changes nothing', async () => {
    const w = await waitingRun({ expiresAt: Date.now() - 1000 });
    const answer = await h.response(await click(w, 'U0APP'));
    expect(shown(answer)).toContain('expired');
    expect(h.slack.message('C0RUNS', w.ts)?.updates).toBe(0);
    expect((await h.queue.runs.get(w.run.id))?.decision).not.toMatchObject({ kind: 'approved' });
  });

  it('refuses a click whose button names another run than the recorded request it sits on', async () => {
    const w = await waitingRun();
    const other = await waitingRun({ vm: 'vm-2' });
    await h.queue.store.update(w.run.id, { approvalTs: w.ts });
    await h.queue.store.update(other.run.id, { approvalTs: other.ts });
    // The button names `other`, the message clicked is `w`'s request.
    const answer = await h.response(await click(w, 'U0APP', 'delegate_approve', other.run.id));
    expect(shown(answer)).toContain('names another run');
    await unchanged(w);
    await unchanged(other);
    // Its own request still decides it.
    await click(other, 'U0APP');
    await h.slack.waitFor('the request edited', () => h.slack.message('C0RUNS', other.ts)?.updates === 1);
    expect((await h.queue.runs.get(other.run.id))?.decision).toMatchObject({ kind: 'approved' });
  });

  it('refuses a click on an older copy of the run’s request once another was recorded, and says so', async () => {
    const w = await waitingRun();
    await h.queue.store.update(w.run.id, { approvalTs: '1700000099.000200' });
    const answer = await h.response(await click(w, 'U0APP'));
    expect(shown(answer)).toContain('not the current approval request');
    await unchanged(w);
  });

  it('before the request is recorded, accepts only a message in the run’s channel carrying that run’s buttons', async () => {
    const w = await waitingRun();
    const elsewhere = await h.click({
      actionId: 'delegate_approve',
      value: w.run.id,
      user: 'U0APP',
      channel: 'C0OTHER',
      message: { ts: w.ts, ...w.message },
    });
    expect(shown(await h.response(elsewhere))).toContain('names another run');
    const bare = await h.click({
      actionId: 'delegate_approve',
      value: w.run.id,
      user: 'U0APP',
      message: { ts: w.ts, text: 'Approval needed', blocks: [] },
    });
    expect(shown(await h.response(bare))).toContain('names another run');
    await unchanged(w);
    await click(w, 'U0APP');
    await h.slack.waitFor('the request edited', () => h.slack.message('C0RUNS', w.ts)?.updates === 1);
    expect((await h.queue.runs.get(w.run.id))?.decision).toMatchObject({ kind: 'approved' });
  });

  it('answers unknown run ids and unknown buttons safely', async () => {
    const w = await waitingRun();
    const unknownRun = await h.response(await click(w, 'U0APP', 'delegate_approve', 'run-does-not-exist'));
    expect(shown(unknownRun)).toContain('not known');
    const hostile = await h.response(await click(w, 'U0APP', 'delegate_approve', '../../etc:passwd'));
    expect(shown(hostile)).toContain('not known');
    const other = await click(w, 'U0APP', 'something_else');
    expect(other.status).toBe(200);
    await unchanged(w);
  });
});

describe('with ALLOW_SELF_APPROVAL=true', () => {
  it('lets an approver approve their own run', async () => {
    await h.close();
    h = await startSlackAppHarness({ env: { ALLOW_SELF_APPROVAL: 'true' } });
    const w = await waitingRun({ requester: 'U0APP' });
    await click(w, 'U0APP');
    await h.slack.waitFor('the request message edited', () => h.slack.message('C0RUNS', w.ts)?.updates === 1);
    expect((await h.queue.runs.get(w.run.id))?.decision).toMatchObject({ kind: 'approved', by: 'U0APP' });
  });
});
