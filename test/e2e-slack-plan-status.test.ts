/**
 * `/gitspaces plan <vm>` and `/gitspaces status <vm>` end to end: the real app and the real engine over SSH
 * to the test VM, wired the way `serve` wires them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEngineDeps, runInputFor } from '../src/compose.js';
import type { RunRecord, RunTarget } from '../src/queue/types.js';
import { runSetup } from '../src/setup/engine.js';
import { memoryJournal } from '../src/setup/memory-journal.js';
import type { Reporter } from '../src/setup/ports.js';
import { Redactor } from '../src/setup/redactor.js';
import { vmStatus } from '../src/setup/status.js';
import type { PlanVm, ProbeVm } from '../src/slack/index.js';
import { startTestVm, type TestVm } from './support/engine-vm.js';
import {
  quickClock,
  type TestVmInfo,
  testVmAdapters,
  testVmEnv,
  testVmSettings,
} from './support/queue-test-vm.js';
import { type SlackAppHarness, startSlackAppHarness } from './support/slack-app-harness.js';

let vm: TestVm;
let info: TestVmInfo;
let h: SlackAppHarness;

beforeAll(async () => {
  vm = await startTestVm();
  info = {
    host: vm.sshd.host,
    sshPort: vm.sshd.port,
    sshUser: vm.sshd.user,
    hostKeys: vm.sshd.hostKeys,
    runnerDir: vm.runnerDir,
    healthPort: vm.health.port,
    secretRefs: vm.secrets.refs,
  };
});
afterAll(async () => vm?.stop());
afterEach(async () => h?.close());

const noGate = { decide: async () => ({ kind: 'pending' as const }) };
const targetRef = (t: RunTarget) => ({
  kind: 'vm' as const,
  ref: { project: t.project, zone: t.zone, name: t.vm },
});
const silent: Reporter = {
  runStarted() {},
  stepStarted() {},
  stepFinished() {},
  stepFailed() {},
  approvalRequested() {},
  runFinished() {},
};

/** The settings a worker would use for this target on the test VM. */
function settingsOf(target: RunTarget) {
  return testVmSettings(h.config, info)({ target, delegateName: undefined, tags: undefined } as RunRecord);
}

async function openApp(): Promise<void> {
  vm.resetDocker();
  const adapters = testVmAdapters(info);
  const planVm: PlanVm = (input, reporter) => {
    const deps = createEngineDeps(h.config, {
      reporter,
      gate: noGate,
      journal: memoryJournal(),
      clock: quickClock,
      ...adapters,
    });
    return runSetup(
      runInputFor(h.config, input.runId, 'plan', targetRef(input.target), settingsOf(input.target)),
      deps,
    );
  };
  const probeVm: ProbeVm = async (target) => {
    const redactor = new Redactor();
    const deps = createEngineDeps(h.config, {
      reporter: silent,
      gate: noGate,
      journal: memoryJournal(),
      redactor,
      ...adapters,
    });
    return vmStatus(targetRef(target), settingsOf(target), h.config.ssh, deps, redactor);
  };
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
      () => h.slack.thread('C0RUNS', parent.ts).find((m) => m.text.includes('Plan finished')),
      60_000,
    );
    expect(summary.text).toContain('Nothing was changed');
    await h.app.context.reporters.idle();
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
