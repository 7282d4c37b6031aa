/**
 * `/gitspaces plan <vm>` and `/gitspaces status <vm>` end to end: the real app and the real engine over SSH
 * to the test VM, wired the way `serve` wires them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord, RunTarget } from '../../src/queue/types.js';
import type { PlanVm, ProbeVm } from '../../src/slack/index.js';
import { planVmWith, probeVmWith } from '../../src/vm-actions.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import {
  quickClock,
  type TestVmInfo,
  testVmAdapters,
  testVmEnv,
  testVmInfo,
  testVmSettings,
} from '../support/queue-test-vm.js';
import { type SlackAppHarness, startSlackAppHarness } from '../support/slack-app-harness.js';
import { slackJobsIdle } from '../support/slack-jobs.js';

let vm: TestVm;
let info: TestVmInfo;
let h: SlackAppHarness;

beforeAll(async () => {
  vm = await startTestVm();
  info = testVmInfo(vm);
});
afterAll(async () => vm?.stop());
afterEach(async () => h?.close());

/** The settings a worker would use for this target on the test VM. */
function settingsOf(target: RunTarget) {
  return testVmSettings(h.config, info)({ target, delegateName: undefined, tags: undefined } as RunRecord);
}

async function openApp(): Promise<void> {
  vm.resetDocker();
  const options = { adapters: { ...testVmAdapters(info), clock: quickClock }, settings: settingsOf };
  const lazy = <T extends (...args: never[]) => unknown>(make: () => T) =>
    ((...args: Parameters<T>) => make()(...args)) as T;
  // The harness builds the config; the actions read it when called.
  const planVm: PlanVm = lazy(() => planVmWith(h.config, options));
  const probeVm: ProbeVm = lazy(() => probeVmWith(h.config, options));
  h = await startSlackAppHarness({ env: testVmEnv(info), deps: { planVm, probeVm } });
}

describe('/gitspaces plan <vm>', () => {
  it('shows in the channel what setup would do, and changes nothing on the VM', async () => {
    await openApp();
    const answer = await h.command('plan vm-1');
    expect(answer.status).toBe(200);
    const parent = await h.slack.waitFor('the plan message', () => h.slack.channelMessages('C0RUNS')[0]);
    expect(parent.text).toContain('Gitspaces plan of vm-1');
    const summary = await h.slack.waitFor(
      'the plan summary',
      () => h.slack.thread('C0RUNS', parent.ts).find((m) => m.text.includes('would change')),
      60_000,
    );
    // A bare VM (whose Docker answers): everything from the pool file on would change.
    expect(summary.text).toMatch(
      /6 steps would change on vm-1.*pool-file.*delegate-health.*Nothing was changed/,
    );
    expect(summary.text).not.toContain('is set up');
    await slackJobsIdle(h.queue.redis, h.queue.prefix);
    const blocks = JSON.stringify(h.slack.message('C0RUNS', parent.ts)?.blocks);
    expect(blocks).toContain('step-delegate');
    expect(blocks).toContain('Gitspaces plan: vm-1');
    expect(vm.sshd.dockerState().containers ?? {}).toEqual({});
    // A plan is not a run: nothing queued, nothing holding the VM.
    expect(await h.queue.runs.recent({ limit: 10 })).toEqual([]);
  });
});

describe('/gitspaces status <vm>', () => {
  it('probes the VM live and shows the result in the channel', async () => {
    await openApp();
    const answer = await h.command('status vm-1');
    const result = await h.response(answer, 2);
    expect(result).toMatchObject({ response_type: 'in_channel' });
    const text = JSON.stringify(result);
    expect(text).toContain('Gitspaces status: vm-1');
    expect(text).toContain('Docker Engine');
    expect(text).toContain('vm-runner is not there');
    expect(text).toContain('No run yet for this VM');
  });
});
