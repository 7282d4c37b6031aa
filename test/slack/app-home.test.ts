import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/queue/types.js';
import { createWatchStore, type WatchedVm, type WatchStore } from '../../src/watch/watch-store.js';
import { type SlackAppHarness, startSlackAppHarness } from '../support/slack-app-harness.js';

let h: SlackAppHarness;
let watch: WatchStore;

afterEach(async () => h.close());

async function start(): Promise<void> {
  h = await startSlackAppHarness({ usergroups: { S0OPS: ['U0OPS'] } });
  watch = createWatchStore(h.queue.redis, h.queue.prefix);
}

const HOUR = 3_600_000;

function watched(vm: string, over: Partial<WatchedVm> = {}): WatchedVm {
  return {
    vm,
    project: 'acme-gitspaces',
    zone: 'us-central1-a',
    channel: 'C0RUNS',
    requester: 'U0REQ',
    runId: `run-${vm}`,
    messageTs: '1700000000.000100',
    kind: 'setup',
    images: {},
    delegateName: `${vm}-delegate`,
    tags: undefined,
    since: Date.now() - 2 * HOUR,
    ...over,
  };
}

/** Opens the user's Home tab and resolves with the blocks Slack accepted for them. */
async function openHome(user: string, nth = 1): Promise<string> {
  const answer = await h.event({ type: 'app_home_opened', user, channel: 'D0HOME', tab: 'home' });
  expect(answer.status).toBe(200);
  const published = await h.slack.waitFor(`the Home tab of ${user}`, () =>
    h.slack.homes.filter((p) => p.user === user).at(nth - 1),
  );
  expect(published.view.type).toBe('home');
  const call = h.slack.callsTo('views.publish').find((c) => c.args.user_id === user && c.ok);
  expect(call).toBeDefined();
  return JSON.stringify(published.view.blocks);
}

/** A run of `vm` waiting at approval, its request posted in its thread. */
async function waitingRun(vm: string, requester: string): Promise<RunRecord> {
  const started = await h.queue.runs.start({
    target: { vm, project: undefined, zone: undefined },
    requester,
    channel: 'C0RUNS',
  });
  if (!started.ok) throw new Error(`${vm} is busy`);
  const id = started.run.id;
  await h.queue.store.attach(id, { messageTs: '1700000100.000200' });
  await h.queue.store.update(id, {
    state: 'awaiting-approval',
    approvalTs: '1700000200.000300',
    approvalExpiresAt: Date.now() + 20 * HOUR,
  });
  return started.run;
}

describe('App Home', () => {
  it('shows every watched VM with its health, last probe, delegate, last run and mute', async () => {
    await start();
    const now = Date.now();
    await watch.watch(watched('vm-ok'));
    await watch.record('vm-ok', {
      probe: {
        at: now - 60_000,
        health: 'healthy',
        problems: [],
        delegateImage: 'us-west1-docker.pkg.dev/gar-setup/docker/delegate:25.03.85504',
        delegateAgeMonths: 7,
      },
    });
    await watch.watch(watched('vm-sick', { channel: 'C0OTHER', messageTs: '1700000500.000600' }));
    await watch.record('vm-sick', {
      probe: { at: now - 120_000, health: 'unhealthy', problems: ['runner health check fails'] },
    });
    await watch.mute('vm-sick', now + 3 * HOUR);
    await watch.watch(watched('vm-new'));

    const home = await openHome('U0REQ');
    expect(home).toContain('Watched VMs (3)');
    expect(home).toContain('*vm-ok* · :large_green_circle: healthy · probed <!date^');
    expect(home).toContain('delegate `25.03.85504` · 7 months old');
    expect(home).toContain('<https://slack.com/archives/C0RUNS/p1700000000000100|setup>');
    expect(home).toContain(':red_circle: unhealthy');
    expect(home).toContain('_runner health check fails_');
    expect(home).toContain('<https://slack.com/archives/C0OTHER/p1700000500000600|setup>');
    expect(home).toContain(`:mute: muted until <!date^${Math.floor((now + 3 * HOUR) / 1000)}^`);
    expect(home).toContain('*vm-new* · :white_circle: not probed yet');
    // The unhealthy VM comes first: it is what a reader has to act on.
    expect(home.indexOf('vm-sick')).toBeLessThan(home.indexOf('vm-ok'));
    expect(home).not.toContain('Waiting for your approval');
  });

  it('shows approvers the runs waiting for them, linked to each request, and nobody else', async () => {
    await start();
    const waiting = await waitingRun('vm-a', 'U0REQ');
    await waitingRun('vm-own', 'U0APP');

    const approver = await openHome('U0APP');
    expect(approver).toContain('Waiting for your approval');
    expect(approver).toContain(
      '<https://slack.com/archives/C0RUNS/p1700000200000300?thread_ts=1700000100.000200&cid=C0RUNS|approval request>',
    );
    expect(approver).toContain('*vm-a* · setup requested by <@U0REQ>');
    // Self-approval is off: the approver's own request waits for someone else.
    expect(approver).not.toContain('vm-own');

    const throughGroup = await openHome('U0OPS');
    expect(throughGroup).toContain('*vm-a*');
    expect(throughGroup).toContain('*vm-own*');

    const requester = await openHome('U0REQ');
    expect(requester).not.toContain('Waiting for your approval');
    expect(requester).not.toContain(waiting.id);
    expect(requester).not.toContain('vm-a');
    expect(requester).toContain('No VM is watched yet');
  });

  it('tells an approver with nothing to decide so', async () => {
    await start();
    const home = await openHome('U0APP');
    expect(home).toContain('Nothing is waiting for your approval.');
  });

  it('stays within a Home view’s 100 blocks with 150 VMs and says how many it left out', async () => {
    await start();
    const now = Date.now();
    for (let i = 0; i < 150; i++) {
      const vm = `vm-${String(i).padStart(3, '0')}`;
      await watch.watch(watched(vm));
      const health = i % 50 === 7 ? 'unhealthy' : 'healthy';
      await watch.record(vm, { probe: { at: now, health, problems: health === 'healthy' ? [] : ['down'] } });
    }
    await waitingRun('vm-waiting', 'U0REQ');
    const home = await openHome('U0APP');
    const blocks = JSON.parse(home) as unknown[];
    expect(blocks.length).toBeLessThanOrEqual(100);
    expect(home).toContain('Watched VMs (150)');
    expect(home).toContain('…and 100 more: `/gitspaces watch` in their channel');
    for (const sick of ['vm-007', 'vm-057', 'vm-107']) expect(home).toContain(`*${sick}* · :red_circle:`);
    expect(home).toContain('*vm-waiting*');
  });

  it('would be refused by Slack past 100 blocks, as the 150-VM case shows it is not', async () => {
    await start();
    const blocks = Array.from({ length: 101 }, () => ({ type: 'divider' }));
    await expect(
      h.app.context.calls.call('views.publish', { user_id: 'U0APP', view: { type: 'home', blocks } }),
    ).rejects.toThrow('invalid_arguments');
  });

  it('publishes nothing when the Messages tab is opened', async () => {
    await start();
    await watch.watch(watched('vm-1'));
    const answer = await h.event({
      type: 'app_home_opened',
      user: 'U0REQ',
      channel: 'D0HOME',
      tab: 'messages',
    });
    expect(answer.status).toBe(200);
    // A Home tab opened afterwards is published: by then the earlier event has been handled.
    await openHome('U0APP');
    expect(h.slack.callsTo('views.publish').map((c) => c.args.user_id)).toEqual(['U0APP']);
    expect(h.slack.homes.map((p) => p.user)).toEqual(['U0APP']);
  });
});
