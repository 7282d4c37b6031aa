import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FinalRunState } from '../../src/queue/types.js';
import { runMessage } from '../../src/slack/blocks/run-message.js';
import { runViewFromRecord } from '../../src/slack/blocks/run-view.js';
import { type SlackAppHarness, shown, startSlackAppHarness, until } from '../support/slack-app-harness.js';
import { slackJobsIdle } from '../support/slack-jobs.js';

let h: SlackAppHarness;

afterEach(async () => h.close());

function blocksOf(message: { blocks: unknown[] } | undefined): string {
  return JSON.stringify(message?.blocks ?? []);
}

describe('/gitspaces setup <vm>…', () => {
  beforeEach(async () => {
    h = await startSlackAppHarness();
  });

  it('starts one run per VM, each with its own parent message showing the checklist', async () => {
    const answer = await h.command('setup vm-1 europe-west1-b/vm-2');
    expect(answer.status).toBe(200);
    expect(answer.body).toBeUndefined();
    const parents = await h.slack.waitFor('two parent messages', () => {
      const posted = h.slack.channelMessages('C0RUNS');
      return posted.length === 2 ? posted : undefined;
    });
    expect(parents.map((m) => m.text).sort()).toEqual([
      'Gitspaces setup of vm-1: queued',
      'Gitspaces setup of vm-2: queued',
    ]);
    for (const parent of parents) {
      expect(blocksOf(parent)).toContain('"block_id":"step-preflight"');
      expect(blocksOf(parent)).toContain('pending');
      expect(blocksOf(parent)).toContain('<@U0REQ>');
    }
    const recorded = await until('the parent messages recorded on the runs', async () => {
      const runs = await h.queue.runs.recent({ limit: 10 });
      return runs.every((r) => r.messageTs !== undefined) ? runs : undefined;
    });
    expect(recorded.map((r) => r.target.vm).sort()).toEqual(['vm-1', 'vm-2']);
    const vm2 = recorded.find((r) => r.target.vm === 'vm-2');
    expect(vm2?.target).toEqual({ vm: 'vm-2', project: 'acme-gitspaces', zone: 'europe-west1-b' });
    // The parent message lets the queued job start at once instead of after its grace period.
    for (const run of recorded) {
      expect(parents.map((p) => p.ts)).toContain(run.messageTs);
      await until(
        'the job to start waiting for a worker',
        async () => (await h.queue.queue.getJobState(run.id)) === 'waiting',
      );
    }
  });

  it('posts a parent that waited for its channel’s turn as the run is then', async () => {
    h.slack.rateLimits = true;
    // Slack limits the channel at the first post: every parent waits out the Retry-After.
    h.slack.fail('chat.postMessage', { status: 429, retryAfter: 2 }, 1);
    await h.command('setup vm-1 vm-2 vm-3');
    const third = await until('the third run recorded', async () =>
      (await h.queue.runs.recent({ limit: 10 })).find((r) => r.target.vm === 'vm-3'),
    );
    // A worker takes the run up after its grace period while its parent still waits.
    await h.queue.store.update(third.id, { state: 'running:preflight' });
    const parents = await h.slack.waitFor('three parent messages', () => {
      const posted = h.slack.channelMessages('C0RUNS');
      return posted.length === 3 ? posted : undefined;
    });
    // Runs of one channel take its slots as they come: the order of their parents is not promised.
    expect(parents.map((m) => m.text).sort()).toEqual([
      'Gitspaces setup of vm-1: queued',
      'Gitspaces setup of vm-2: queued',
      'Gitspaces setup of vm-3: running:preflight',
    ]);
    const recorded = await until('the parent of vm-3 recorded', async () => {
      const run = await h.queue.runs.get(third.id);
      return run?.messageTs === undefined ? undefined : run;
    });
    const posted = parents.find((m) => m.ts === recorded.messageTs);
    // It shows the run as recorded when its turn came.
    const rendered = runMessage(runViewFromRecord(recorded));
    expect(posted?.blocks).toEqual(rendered.blocks);
    // Only the one 429 Slack was made to answer: the parents then kept to the channel's pace.
    expect(h.slack.calls.filter((c) => c.status === 429)).toHaveLength(1);
  });

  it('refuses a second setup of a VM with an active run, with a link to that run’s thread', async () => {
    await h.command('setup vm-1');
    const first = await h.slack.waitFor('the first run’s parent', () => h.slack.channelMessages('C0RUNS')[0]);
    await until('the parent recorded', async () => (await h.queue.runs.activeForVm('vm-1'))?.messageTs);
    const again = await h.command('setup vm-1', { user: 'U0OTHER' });
    const refusal = await h.response(again);
    expect(refusal).toMatchObject({ response_type: 'ephemeral' });
    expect(shown(refusal)).toContain('already has a run in progress');
    expect(shown(refusal)).toContain(`/archives/C0RUNS/p${first.ts.replace('.', '')}`);
    expect(h.slack.channelMessages('C0RUNS')).toHaveLength(1);
    expect(await h.queue.runs.recent({ limit: 10 })).toHaveLength(1);
  });
});

describe('/gitspaces status', () => {
  beforeEach(async () => {
    h = await startSlackAppHarness();
  });

  it('shows every run state in the channel', async () => {
    const finals: FinalRunState[] = ['succeeded', 'failed:preflight', 'rejected', 'expired', 'cancelled'];
    const open = ['queued', 'running:docker', 'awaiting-approval'] as const;
    const vms = [...open, ...finals].map((_, i) => `vm-${i}`);
    const ids: string[] = [];
    for (const vm of vms) {
      const started = await h.queue.runs.start({
        target: { vm, project: undefined, zone: undefined },
        requester: 'U0REQ',
        channel: 'C0RUNS',
      });
      if (!started.ok) throw new Error('not started');
      ids.push(started.run.id);
    }
    await h.queue.store.update(ids[1] as string, { state: 'running:docker' });
    await h.queue.store.update(ids[2] as string, { state: 'awaiting-approval' });
    for (const [i, state] of finals.entries()) {
      await h.queue.store.finish(ids[open.length + i] as string, state, { at: Date.now(), by: 'system' });
    }
    const answer = await h.command('status');
    const listed = await h.response(answer);
    expect(listed).toMatchObject({ response_type: 'in_channel' });
    for (const state of [...open, ...finals]) expect(shown(listed)).toContain(`\`${state}\``);
  });

  it('probes one VM live and shows its last run', async () => {
    await h.close();
    h = await startSlackAppHarness({
      deps: {
        probeVm: async (target) => ({
          docker: '27.3.1',
          network: true,
          runner: {
            name: 'vm-runner',
            state: {
              status: 'running',
              startedAt: '2026-12-01T10:00:00Z',
              image: 'drone/drone-runner-aws:latest',
              imageId: 'sha256:1234',
              specHash: '',
              poolHash: '',
              networks: { harness: 'n1' },
              restartPolicy: 'unless-stopped',
              ports: ['3000/tcp=3000'],
              mounts: ['/runner:/runner'],
              logs: { driver: 'json-file', options: { 'max-size': '20m', 'max-file': '5' } },
            },
            healthy: true,
          },
          delegate: { name: `${target.vm}-delegate`, state: undefined, healthy: false },
        }),
      },
    });
    const answer = await h.command('status vm-1');
    const result = await h.response(answer, 2);
    expect(result).toMatchObject({ response_type: 'in_channel' });
    expect(shown(result)).toContain('Docker 27.3.1');
    expect(shown(result)).toContain('vm-1-delegate is not there');
    expect(shown(result)).toContain('No run yet for this VM');
  });
});

describe('who may do what', () => {
  it('refuses commands outside ALLOWED_CHANNELS and setups by people not in SETUP_ALLOWED', async () => {
    h = await startSlackAppHarness({
      env: { ALLOWED_CHANNELS: 'C0RUNS', SETUP_ALLOWED: 'U0REQ,S0DEVS' },
      usergroups: { S0DEVS: ['U0DEV'] },
    });
    const elsewhere = await h.command('setup vm-1', { channel: 'C0ELSEWHERE' });
    expect(elsewhere.body).toMatchObject({ response_type: 'ephemeral' });
    expect(shown(elsewhere.body)).toContain('not allowed in this channel');
    const stranger = await h.command('setup vm-1', { user: 'U0STRANGER' });
    expect(shown(await h.response(stranger))).toContain('not allowed to start Gitspaces setups');
    expect(await h.queue.runs.recent({ limit: 10 })).toEqual([]);
    // A member of a listed user group may.
    await h.command('setup vm-1', { user: 'U0DEV' });
    await h.slack.waitFor('the member’s run', () => h.slack.channelMessages('C0RUNS')[0]);
  });

  it('lets the requester cancel a queued run and ends its message; others are refused', async () => {
    h = await startSlackAppHarness();
    await h.command('setup vm-1');
    const parent = await h.slack.waitFor('the parent', () => h.slack.channelMessages('C0RUNS')[0]);
    const stranger = await h.command('cancel vm-1', { user: 'U0STRANGER' });
    expect(shown(await h.response(stranger))).toContain('who requested it) or an approver can cancel');
    const cancel = await h.command('cancel vm-1');
    expect(shown(await h.response(cancel))).toContain('Cancelled the run of *vm-1*');
    await slackJobsIdle(h.queue.redis, h.queue.prefix);
    expect(blocksOf(h.slack.message('C0RUNS', parent.ts))).toContain('`cancelled` by <@U0REQ>');
    expect((await h.queue.runs.lastForVm('vm-1'))?.state).toBe('cancelled');
    const nothing = await h.command('cancel vm-1');
    expect(shown(await h.response(nothing))).toContain('No run of *vm-1* is queued');
  });
});
