import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type RunningWorker,
  startWorker,
  type SetupWorkerDeps as WorkerDeps,
} from '../../jobs/setup-worker.js';
import { GitspacesError } from '../../src/errors.js';
import type { RunRecord } from '../../src/queue/types.js';
import type { RunResult } from '../../src/setup/ports.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { openQueueHarness, type QueueHarness, vmTarget } from '../support/queue-harness.js';
import {
  quickClock,
  type TestVmInfo,
  testVmAdapters,
  testVmEnv,
  testVmInfo,
  testVmSettings,
} from '../support/queue-test-vm.js';
import { RecordingReporter, waitUntil } from '../support/recording-reporter.js';
import { TEST_TOKEN } from '../support/secrets-dir.js';

let vm: TestVm;
let info: TestVmInfo;

beforeAll(async () => {
  vm = await startTestVm();
  info = testVmInfo(vm);
});
afterAll(async () => {
  await vm?.stop();
});

/** A bot's queue side on a bare test VM: the run service the Slack app uses and one worker. */
class Bot {
  h!: QueueHarness;
  worker: RunningWorker | undefined;
  seen = new RecordingReporter();

  async open(env: Record<string, string> = {}, deps: Partial<WorkerDeps> = {}): Promise<this> {
    vm.resetDocker();
    this.h = await openQueueHarness({ env: testVmEnv(info, env) });
    this.worker = await startWorker(this.h.config, {
      reporterFor: (run) => this.seen.forRun(run.id),
      engine: testVmAdapters(info),
      settings: testVmSettings(this.h.config, info),
      clock: quickClock,
      ...deps,
    });
    return this;
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.h?.close();
  }

  /** What the Slack listener does: start the run, post the parent message, attach it. */
  async start(vmName = 'vm-1'): Promise<RunRecord> {
    const started = await this.h.runs.start({
      target: vmTarget(vmName),
      requester: 'U0REQUESTER',
      channel: 'C0OPS',
    });
    if (!started.ok) throw new Error('expected the run to start');
    await this.h.runs.attachMessage(started.run.id, { messageTs: '1700000000.000100' });
    return started.run;
  }

  async parked(runId: string): Promise<void> {
    await this.seen.waitFor('approvalRequested', runId);
    await waitUntil(
      async () => (await this.h.queue.getJobState(runId)) === 'delayed',
      'the job to be parked',
    );
  }

  async finished(runId: string): Promise<RunResult> {
    const event = await this.seen.waitFor('runFinished', runId);
    await waitUntil(async () => (await this.h.queue.getJob(runId)) === undefined, 'the job to be removed');
    return event.result;
  }
}

const delegates = () =>
  Object.values(vm.sshd.dockerState().containers ?? {}).filter((c) => c.name === 'vm-1-delegate');

describe('an approved run', () => {
  const bot = new Bot();
  let run: RecordingRun;
  interface RecordingRun {
    id: string;
    waiting: RecordSnapshot;
    done: RecordSnapshot;
    result: RunResult;
  }
  interface RecordSnapshot {
    record: RunRecord | undefined;
    redis: string;
    delegates: number;
    secondStart: Awaited<ReturnType<QueueHarness['runs']['start']>> | undefined;
  }
  const snapshot = async (id: string, tryStart: boolean): Promise<RecordSnapshot> => ({
    record: await bot.h.runs.get(id),
    redis: JSON.stringify(await bot.h.dump()),
    delegates: delegates().length,
    secondStart: tryStart
      ? await bot.h.runs.start({ target: vmTarget('vm-1'), requester: 'U0OTHER', channel: 'C0OPS' })
      : undefined,
  });

  beforeAll(async () => {
    await bot.open();
    const { id } = await bot.start();
    await bot.parked(id);
    const waiting = await snapshot(id, true);
    expect(await bot.h.runs.decide({ runId: id, userId: 'U0APPROVER', decision: 'approve' })).toMatchObject({
      ok: true,
    });
    const result = await bot.finished(id);
    run = { id, waiting, result, done: await snapshot(id, false) };
  });
  afterAll(() => bot.close());

  it('parks at approval holding no lock, with the runner up and no delegate yet', () => {
    expect(run.waiting.record?.state).toBe('awaiting-approval');
    expect(run.waiting.record?.steps.find((s) => s.id === 'runner')?.state).toBe('done');
    expect(run.waiting.delegates).toBe(0);
  });

  it('refuses a second setup of the VM while the run waits, naming the run and its thread', () => {
    expect(run.waiting.secondStart).toMatchObject({
      ok: false,
      reason: 'active',
      active: { id: run.id, messageTs: '1700000000.000100' },
    });
  });

  it('wakes on approval and installs the delegate once, telling the thread once', () => {
    expect(run.result.state).toBe('succeeded');
    expect(run.done.delegates).toBe(1);
    expect(bot.seen.of('runFinished', run.id)).toHaveLength(1);
  });

  it('keeps the record and its audit trail after the job is gone', () => {
    const record = run.done.record;
    expect(record).toMatchObject({
      state: 'succeeded',
      requester: 'U0REQUESTER',
      messageTs: '1700000000.000100',
    });
    expect(record?.finishedAt).toBeGreaterThan(0);
    expect(record?.decision).toMatchObject({ kind: 'approved', by: 'U0APPROVER' });
    const audit = record?.audit ?? [];
    expect(audit[0]).toMatchObject({ event: 'requested', by: 'U0REQUESTER' });
    expect(audit.find((e) => e.event === 'approved')).toMatchObject({ by: 'U0APPROVER' });
    expect(audit.filter((e) => e.event === 'step').map((e) => e.step)).toEqual(
      expect.arrayContaining(['preflight', 'docker', 'runner', 'approval', 'delegate', 'delegate-health']),
    );
    // Resuming after approval replays the finished steps; the audit names each step's result once.
    expect(audit.filter((e) => e.event === 'step' && e.step === 'runner')).toHaveLength(1);
    expect(audit.at(-1)).toMatchObject({ event: 'finished', detail: 'succeeded' });
    expect(record?.steps.find((s) => s.id === 'delegate')?.durationMs).toBeGreaterThanOrEqual(0);
    expect(JSON.stringify(record).length).toBeLessThan(10_000);
  });

  it('frees the VM and lists the run as the last of the VM and of the channel', async () => {
    expect(await bot.h.runs.activeForVm('vm-1')).toBeUndefined();
    expect((await bot.h.runs.lastForVm('vm-1'))?.id).toBe(run.id);
    expect((await bot.h.runs.recent({ channel: 'C0OPS', limit: 5 })).map((r) => [r.id, r.state])).toEqual([
      [run.id, 'succeeded'],
    ]);
  });

  it('keeps secrets out of Redis: job data and records hold references only', () => {
    const keyLine = vm.sshd.privateKey.toString('utf8').split('\n')[1] ?? 'missing';
    for (const text of [run.waiting.redis, run.done.redis]) {
      expect(text).toContain(run.id);
      expect(text).not.toContain(TEST_TOKEN);
      expect(text).not.toContain(keyLine);
      expect(text).not.toContain('ubuntu-2204-jammy');
    }
    // While parked, the job data names the secrets it needs without holding them.
    expect(run.waiting.redis).toContain('delegateToken');
  });
});

describe('runs that end without a delegate', () => {
  let bot: Bot;
  afterEach(() => bot.close());

  it('ends as rejected when an approver rejects', async () => {
    bot = await new Bot().open();
    const { id } = await bot.start();
    await bot.parked(id);
    await bot.h.runs.decide({ runId: id, userId: 'U0APPROVER', decision: 'reject' });
    expect((await bot.finished(id)).state).toBe('rejected');
    expect((await bot.h.runs.get(id))?.state).toBe('rejected');
    expect(delegates()).toHaveLength(0);
    expect(await bot.h.runs.activeForVm('vm-1')).toBeUndefined();
  });

  it('ends as expired when nobody decides within APPROVAL_TTL, and a late click changes nothing', async () => {
    bot = await new Bot().open({ APPROVAL_TTL: '1s' });
    const { id } = await bot.start();
    expect((await bot.finished(id)).state).toBe('expired');
    const record = await bot.h.runs.get(id);
    expect(record?.state).toBe('expired');
    expect(record?.audit.map((e) => e.event)).toContain('expired');
    expect(await bot.h.runs.decide({ runId: id, userId: 'U0APPROVER', decision: 'approve' })).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    expect(delegates()).toHaveLength(0);
  });

  it('ends as cancelled when cancelled while waiting for approval', async () => {
    bot = await new Bot().open();
    const { id } = await bot.start();
    await bot.parked(id);
    expect(await bot.h.runs.cancel({ vm: 'vm-1', userId: 'U0REQUESTER' })).toMatchObject({ ok: true });
    expect((await bot.finished(id)).state).toBe('cancelled');
    expect((await bot.h.runs.get(id))?.state).toBe('cancelled');
    expect(delegates()).toHaveLength(0);
  });
});

describe('a run whose connection keeps dropping', () => {
  let bot: Bot;
  afterEach(() => bot.close());

  it('is retried by the queue and resumes instead of failing', async () => {
    let drops = 4;
    bot = await new Bot().open(
      {},
      {
        engine: {
          ...testVmAdapters(info),
          connect: async (options) => {
            if (drops-- > 0)
              throw new GitspacesError('SSH_DISCONNECTED', 'The SSH connection dropped.', {
                retryable: true,
              });
            return connectSsh(options);
          },
        },
      },
    );
    const { id } = await bot.start();
    await bot.parked(id);
    const record = await bot.h.runs.get(id);
    expect(record?.audit.find((e) => e.event === 'retry')).toMatchObject({ step: 'connect' });
    expect(record?.state).toBe('awaiting-approval');
    expect(bot.seen.of('runFinished', id)).toHaveLength(0);
  });
});
