/**
 * The watch from Slack, through the real Bolt receiver: `/gitspaces watch` lists the channel's watched VMs in
 * the channel, `mute`/`unmute`/`forget` change what probes tell, and Repair on a notice starts a setup as
 * the person who clicked.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createWatchStore, type WatchStore } from '../../src/watch/watch-store.js';
import { type SlackAppHarness, shown, startSlackAppHarness, until } from '../support/slack-app-harness.js';

let h: SlackAppHarness;
let store: WatchStore;

beforeEach(async () => {
  h = await startSlackAppHarness({ env: { SETUP_ALLOWED: 'U0REQ,U0OTHER,U0APP' } });
  store = createWatchStore(h.queue.redis, h.queue.prefix);
  for (const [vm, channel] of [
    ['vm-1', 'C0RUNS'],
    ['vm-2', 'C0RUNS'],
    ['vm-3', 'C0ELSE'],
  ] as const)
    await store.watch({
      vm,
      project: 'acme-gitspaces',
      zone: 'us-central1-a',
      channel,
      requester: 'U0REQ',
      runId: `run-${vm}`,
      messageTs: '1700000000.000100',
      kind: 'setup',
      images: { runner: 'drone/drone-runner-aws:latest', delegate: 'harness/delegate:26.11.87100' },
      delegateName: undefined,
      tags: undefined,
      since: Date.now(),
    });
  await store.record('vm-2', {
    probe: { at: Date.now(), health: 'unhealthy', problems: ['delegate vm-2-delegate exited (1)'] },
  });
});
afterEach(async () => h?.close());

describe('/gitspaces watch, mute, unmute, forget', () => {
  it("lists the channel's watched VMs in the channel with their health", async () => {
    const answer = await h.command('watch');
    const listed = await h.response(answer);
    expect(listed).toMatchObject({ response_type: 'in_channel' });
    const text = shown(listed);
    expect(text).toContain('*vm-1* · :white_circle: not probed yet');
    expect(text).toContain('*vm-2* · :red_circle: unhealthy');
    expect(text).not.toContain('vm-3');
  });

  it('mutes for the duration given, at most 30 days, and unmutes', async () => {
    const answer = await h.command('mute vm-1 2h');
    expect(shown(await h.response(answer))).toContain('No notices about *vm-1* until');
    const muted = (await store.get('vm-1'))?.mutedUntil ?? 0;
    expect(Math.abs(muted - (Date.now() + 2 * 3600_000))).toBeLessThan(60_000);
    const tooLong = await h.command('mute vm-1 31d');
    expect(shown(tooLong.body)).toContain('is not a duration from 1m to 30d');
    const unmuted = await h.command('unmute vm-1');
    expect(shown(await h.response(unmuted))).toContain('*vm-1* is no longer muted');
    expect((await store.get('vm-1'))?.mutedUntil).toBeUndefined();
    const unknown = await h.command('mute vm-9 1h');
    expect(shown(await h.response(unknown))).toContain('*vm-9* is not watched');
  });

  it('lets only who set it up or an approver forget a VM', async () => {
    const refused = await h.command('forget vm-1', { user: 'U0OTHER' });
    expect(shown(await h.response(refused))).toContain('or an approver can stop watching this VM');
    expect(await store.get('vm-1')).toBeDefined();
    const done = await h.command('forget vm-1', { user: 'U0APP' });
    expect(shown(await h.response(done))).toContain('*vm-1* is no longer watched');
    expect(await store.get('vm-1')).toBeUndefined();
    expect(await store.names('C0RUNS')).toEqual(['vm-2']);
  });

  it('starts a setup of the VM as the person who clicks Repair, and refuses who may not run setup', async () => {
    const message = { ts: '1700000001.000200', text: 'vm-2 is unhealthy', blocks: [] };
    const refused = await h.click({
      actionId: 'watch_repair',
      value: 'acme-gitspaces/us-central1-a/vm-2',
      user: 'U0NOBODY',
      message,
    });
    expect(shown(await h.response(refused))).toContain('not allowed to start Gitspaces setups');
    expect(await h.queue.runs.activeForVm('vm-2')).toBeUndefined();
    await h.click({
      actionId: 'watch_repair',
      value: 'acme-gitspaces/us-central1-a/vm-2',
      user: 'U0OTHER',
      message,
    });
    const run = await until('the repair run', () => h.queue.runs.activeForVm('vm-2'));
    expect(run).toMatchObject({
      requester: 'U0OTHER',
      channel: 'C0RUNS',
      target: { vm: 'vm-2', zone: 'us-central1-a' },
    });
  });
});
