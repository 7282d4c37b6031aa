import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { RunRecord } from '../../src/queue/types.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { openQueueHarness, type QueueHarness, vmTarget } from '../support/queue-harness.js';
import { type TestVmInfo, testVmEnv, testVmInfo } from '../support/queue-test-vm.js';
import { spawnWorker, type WorkerProcess } from '../support/queue-worker-process.js';
import { readReportedEvents, waitUntil } from '../support/recording-reporter.js';

let vm: TestVm;
let info: TestVmInfo;
let h: QueueHarness;
let dir: string;
const workers: WorkerProcess[] = [];

beforeAll(async () => {
  vm = await startTestVm();
  info = testVmInfo(vm);
});
afterAll(async () => {
  await vm?.stop();
});
beforeEach(async () => {
  vm.resetDocker();
  await vm.sshd.setDockerEnv({});
  dir = mkdtempSync(join(tmpdir(), 'gsb-queue-crash-'));
  h = await openQueueHarness({ env: testVmEnv(info) });
});
afterEach(async () => {
  for (const worker of workers.splice(0)) await worker.kill();
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Short locks so that a dead worker's run is taken over within seconds, as it would be within a minute. */
async function worker(name: string): Promise<WorkerProcess> {
  const started = await spawnWorker({
    prefix: h.prefix,
    info,
    env: {},
    eventsFile: join(dir, `${name}.jsonl`),
    timings: { lockDuration: 2000, stalledInterval: 1000 },
  });
  workers.push(started);
  return started;
}
const events = (name: string) => readReportedEvents(join(dir, `${name}.jsonl`));

async function startRun(): Promise<string> {
  const started = await h.runs.start({
    target: vmTarget('vm-1'),
    requester: 'U0REQUESTER',
    channel: 'C0OPS',
  });
  if (!started.ok) throw new Error('expected the run to start');
  await h.runs.attachMessage(started.run.id, { messageTs: '1700000000.000100' });
  return started.run.id;
}

async function runState(
  runId: string,
  wanted: (run: RunRecord) => boolean,
  what: string,
): Promise<RunRecord> {
  return waitUntil(async () => {
    const run = await h.runs.get(runId);
    return run !== undefined && wanted(run) ? run : undefined;
  }, what);
}

async function approveAndFinish(runId: string): Promise<RunRecord> {
  await runState(runId, (r) => r.approvalExpiresAt !== undefined, 'the approval request');
  await waitUntil(async () => (await h.queue.getJobState(runId)) === 'delayed', 'the job to be parked');
  expect(await h.runs.decide({ runId, userId: 'U0APPROVER', decision: 'approve' })).toMatchObject({
    ok: true,
  });
  return runState(runId, (r) => r.finishedAt !== undefined, 'the run to finish');
}

const containers = () => Object.values(vm.sshd.dockerState().containers ?? {}).map((c) => c.name);

it('finishes a run, exactly once, after its worker is killed in the middle of a step', async () => {
  // Every docker call takes a while, so the worker can be killed inside the network step.
  await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '1500' });
  const first = await worker('first');
  const runId = await startRun();
  await runState(runId, (r) => r.state === 'running:network', 'the network step');
  await first.kill();
  await vm.sshd.setDockerEnv({});

  await worker('second');
  const run = await approveAndFinish(runId);
  expect(run.state).toBe('succeeded');
  expect(run.audit.filter((e) => e.event === 'finished')).toHaveLength(1);
  expect(containers().sort()).toEqual(['vm-1-delegate', 'vm-runner']);

  const resumed = events('second');
  expect(resumed.find((e) => e.kind === 'runStarted')).toMatchObject({ resumed: true });
  // It resumed at the step it was in: the steps finished before it were not run again.
  const restarted = resumed.flatMap((e) => (e.kind === 'stepStarted' ? [e.step] : []));
  expect(restarted).toContain('network');
  expect(restarted).not.toContain('docker');
  expect(restarted).not.toContain('pool-file');
  expect([...events('first'), ...resumed].filter((e) => e.kind === 'runFinished')).toHaveLength(1);
});

it('finishes a run after its worker is killed while the run waits for approval', async () => {
  const first = await worker('first');
  const runId = await startRun();
  await runState(runId, (r) => r.approvalExpiresAt !== undefined, 'the approval request');
  await waitUntil(async () => (await h.queue.getJobState(runId)) === 'delayed', 'the job to be parked');
  await first.kill();

  // The click lands while no worker runs; the parked job waits for the next one.
  expect(await h.runs.decide({ runId, userId: 'U0APPROVER', decision: 'approve' })).toMatchObject({
    ok: true,
  });
  await worker('second');
  const run = await runState(runId, (r) => r.finishedAt !== undefined, 'the run to finish');
  expect(run.state).toBe('succeeded');
  expect(run.audit.filter((e) => e.event === 'finished')).toHaveLength(1);
  expect(containers().sort()).toEqual(['vm-1-delegate', 'vm-runner']);
  expect(events('second').filter((e) => e.kind === 'approvalRequested')).toHaveLength(0);
  expect(events('second').filter((e) => e.kind === 'runFinished')).toHaveLength(1);
});
