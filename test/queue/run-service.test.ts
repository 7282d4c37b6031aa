import { once } from 'node:events';
import { Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { openRunService } from '../../src/queue/open-run-service.js';
import { connectRedis, createProducerConnection } from '../../src/queue/redis.js';
import { createRunService } from '../../src/queue/run-service.js';
import { startPrivateRedis } from '../support/fault-redis.js';
import {
  openQueueHarness,
  type QueueHarness,
  testConfig,
  testPrefix,
  vmTarget,
} from '../support/queue-harness.js';
import { waitUntil } from '../support/recording-reporter.js';

let h: QueueHarness;
beforeEach(async () => {
  h = await openQueueHarness();
});
afterEach(async () => {
  await h.close();
});

async function startRun(vm: string, channel = 'C0OPS') {
  const started = await h.runs.start({ target: vmTarget(vm), requester: 'U0REQUESTER', channel });
  if (!started.ok) throw new Error(`expected ${vm} to start`);
  return started.run;
}

/** What the worker does when the engine reaches the approval step. */
async function parkAtApproval(runId: string, expiresAt = Date.now() + 60_000) {
  await h.store.update(runId, { state: 'awaiting-approval', approvalExpiresAt: expiresAt });
}

describe('starting runs', () => {
  it('refuses a second setup of a VM while its run is active and names the active run', async () => {
    const first = await startRun('vm-1');
    const second = await h.runs.start({ target: vmTarget('vm-1'), requester: 'U0OTHER', channel: 'C0OPS' });
    expect(second).toMatchObject({
      ok: false,
      reason: 'active',
      active: { id: first.id, requester: 'U0REQUESTER' },
    });
    expect((await startRun('vm-2')).target.vm).toBe('vm-2');
    expect(await h.queue.getJobCountByTypes('delayed', 'waiting')).toBe(2);
  });

  it('lets exactly one of ten simultaneous starts on one VM through', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.runs.start({ target: vmTarget('vm-race'), requester: `U0USER${i}`, channel: 'C0OPS' }),
      ),
    );
    const started = outcomes.filter((o) => o.ok);
    expect(started).toHaveLength(1);
    const winner = started[0]?.ok ? started[0].run.id : '';
    expect(outcomes.filter((o) => !o.ok).every((o) => !o.ok && o.active.id === winner)).toBe(true);
    expect(await h.queue.getJobCountByTypes('delayed', 'waiting')).toBe(1);
  });

  it('frees a VM whose run lost its job, ending that run as failed at its step', async () => {
    const lost = await startRun('vm-1');
    await h.store.update(lost.id, { state: 'running:runner' });
    // BullMQ fails a job whose workers died more often than allowed, and removes it.
    await h.queue.remove(lost.id);
    expect(await h.runs.activeForVm('vm-1')).toBeUndefined();
    expect((await h.runs.start({ target: vmTarget('vm-1'), requester: 'U0R', channel: 'C0OPS' })).ok).toBe(
      true,
    );
    const ended = await h.runs.get(lost.id);
    expect(ended?.state).toBe('failed:runner');
    expect(ended?.audit.at(-1)).toMatchObject({
      event: 'finished',
      detail: expect.stringContaining('job was lost'),
    });
  });

  it('gives each run an opaque id that BullMQ accepts as a job id', async () => {
    const run = await startRun('vm-1');
    expect(run.id).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
    expect(run.id).not.toMatch(/^\d+$/);
    expect((await h.queue.getJob(run.id))?.data).toMatchObject({ runId: run.id, target: { vm: 'vm-1' } });
  });

  it('refuses a VM name Google would refuse before anything is enqueued', async () => {
    await expect(
      h.runs.start({ target: vmTarget('VM;rm -rf'), requester: 'U0R', channel: 'C0OPS' }),
    ).rejects.toMatchObject({
      code: 'VM_NAME_INVALID',
    });
    expect(await h.queue.getJobCountByTypes('delayed', 'waiting')).toBe(0);
  });

  it('starts a queued run as soon as its parent message is attached, with the message in job data', async () => {
    const run = await startRun('vm-1');
    expect(await h.queue.getJobState(run.id)).toBe('delayed');
    await h.runs.attachMessage(run.id, { messageTs: '1700000000.000100' });
    expect(await h.queue.getJobState(run.id)).toBe('waiting');
    expect((await h.queue.getJob(run.id))?.data.messageTs).toBe('1700000000.000100');
    expect((await h.runs.get(run.id))?.messageTs).toBe('1700000000.000100');
  });
});

describe('deciding on approval', () => {
  it('records exactly one decision when ten approvers click at once', async () => {
    const run = await startRun('vm-1');
    await parkAtApproval(run.id);
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        h.runs.decide({
          runId: run.id,
          userId: `U0APPROVER${i}`,
          decision: i % 2 === 0 ? 'approve' : 'reject',
        }),
      ),
    );
    const winners = outcomes.filter((o) => o.ok);
    expect(winners).toHaveLength(1);
    expect(outcomes.filter((o) => !o.ok && o.reason === 'already-decided')).toHaveLength(9);
    const record = await h.runs.get(run.id);
    const decided = record?.audit.filter((e) => e.event === 'approved' || e.event === 'rejected') ?? [];
    expect(decided).toHaveLength(1);
    expect(record?.decision).toMatchObject({ by: decided[0]?.by });
  });

  it('refuses a decision on a run that is not waiting for one', async () => {
    const run = await startRun('vm-1');
    expect(await h.runs.decide({ runId: run.id, userId: 'U0A', decision: 'approve' })).toMatchObject({
      ok: false,
      reason: 'not-waiting',
      run: { id: run.id, state: 'queued' },
    });
    expect((await h.runs.get(run.id))?.decision).toBeUndefined();
    expect(await h.runs.decide({ runId: 'run-missing', userId: 'U0A', decision: 'approve' })).toEqual({
      ok: false,
      reason: 'not-found',
    });
    expect(await h.runs.decide({ runId: 'bad:id', userId: 'U0A', decision: 'approve' })).toEqual({
      ok: false,
      reason: 'not-found',
    });
  });

  it('answers expired to a click after the request ran out, and records the expiry', async () => {
    const run = await startRun('vm-1');
    await parkAtApproval(run.id, Date.now() - 1);
    expect(await h.runs.decide({ runId: run.id, userId: 'U0A', decision: 'approve' })).toMatchObject({
      ok: false,
      reason: 'expired',
    });
    expect(await h.runs.decide({ runId: run.id, userId: 'U0B', decision: 'approve' })).toMatchObject({
      reason: 'expired',
    });
    const record = await h.runs.get(run.id);
    expect(record?.decision).toEqual({ kind: 'expired' });
    expect(record?.audit.map((e) => e.event)).toContain('expired');
  });

  it('resumes the decided run before runs that have not started yet', async () => {
    const parked = await startRun('vm-1');
    await parkAtApproval(parked.id);
    const fresh = [];
    for (const vm of ['vm-2', 'vm-3', 'vm-4']) {
      const run = await startRun(vm);
      await h.runs.attachMessage(run.id, { messageTs: '1700000000.000100' });
      fresh.push(run.id);
    }
    await h.runs.decide({ runId: parked.id, userId: 'U0A', decision: 'approve' });
    // A worker with one slot takes the jobs one after another.
    const taken: string[] = [];
    const worker = new Worker(h.queue.name, async (job) => void taken.push(job.id as string), {
      connection: { host: '127.0.0.1', port: 6379, maxRetriesPerRequest: null },
      prefix: h.queue.opts.prefix,
      concurrency: 1,
    });
    try {
      await waitUntil(() => taken.length === 4, 'the worker to take all four jobs');
      expect(taken).toEqual([parked.id, ...fresh]);
    } finally {
      await worker.close();
    }
  });

  it('wakes the parked job of the winning click', async () => {
    const run = await startRun('vm-1');
    await parkAtApproval(run.id);
    expect(await h.queue.getJobState(run.id)).toBe('delayed');
    await h.runs.decide({ runId: run.id, userId: 'U0A', decision: 'approve' });
    expect(await h.queue.getJobState(run.id)).toBe('waiting');
  });
});

describe('a decision whose wake is lost', () => {
  it('still wakes the parked job when the connection drops right after the decision is recorded', async () => {
    const run = await startRun('vm-1');
    await parkAtApproval(run.id);
    // A real Redis fault at that very moment: the run service's connection is killed by the server.
    const admin = createProducerConnection(h.config);
    await connectRedis(admin, h.config.redisUrl);
    const id = String(await h.redis.client('ID'));
    const store = {
      ...h.store,
      decide: async (...args: Parameters<typeof h.store.decide>) => {
        const code = await h.store.decide(...args);
        await admin.client('KILL', 'ID', id);
        return code;
      },
    };
    const runs = createRunService({ config: h.config, redis: h.redis, queue: h.queue, store });
    try {
      const outcome = await runs.decide({ runId: run.id, userId: 'U0A', decision: 'approve' });
      expect(outcome.ok).toBe(true);
      expect(await h.queue.getJobState(run.id)).toBe('waiting');
    } finally {
      admin.disconnect();
    }
  });
});

describe('cancelling', () => {
  it('ends a queued run, removes its job and frees the VM', async () => {
    const run = await startRun('vm-1');
    const cancelled = await h.runs.cancel({ vm: 'vm-1', userId: 'U0REQUESTER' });
    expect(cancelled).toMatchObject({ ok: true, run: { id: run.id, state: 'cancelled' } });
    expect(await h.queue.getJob(run.id)).toBeUndefined();
    expect((await h.runs.get(run.id))?.audit.map((e) => [e.event, e.by])).toEqual([
      ['requested', 'U0REQUESTER'],
      ['cancelled', 'U0REQUESTER'],
      ['finished', 'U0REQUESTER'],
    ]);
    expect((await h.runs.start({ target: vmTarget('vm-1'), requester: 'U0R', channel: 'C0OPS' })).ok).toBe(
      true,
    );
  });

  it('records a cancellation on a run waiting for approval and wakes it to end', async () => {
    const run = await startRun('vm-1');
    await parkAtApproval(run.id);
    const cancelled = await h.runs.cancel({ vm: 'vm-1', userId: 'U0APPROVER' });
    expect(cancelled).toMatchObject({ ok: true, run: { decision: { kind: 'cancelled', by: 'U0APPROVER' } } });
    expect(await h.queue.getJobState(run.id)).toBe('waiting');
    expect(await h.runs.decide({ runId: run.id, userId: 'U0A', decision: 'approve' })).toMatchObject({
      reason: 'already-decided',
    });
  });

  it('does not interrupt a run in a step, and says there is nothing to cancel for an idle VM', async () => {
    const run = await startRun('vm-1');
    await h.store.update(run.id, { state: 'running:docker' });
    expect(await h.runs.cancel({ vm: 'vm-1', userId: 'U0R' })).toMatchObject({
      ok: false,
      reason: 'running',
    });
    expect(await h.runs.cancel({ vm: 'vm-9', userId: 'U0R' })).toEqual({ ok: false, reason: 'not-found' });
  });
});

describe('reading runs', () => {
  it('lists recent runs per channel and overall, newest first, and the last run of a VM', async () => {
    const a = await startRun('vm-a', 'C0ONE');
    const b = await startRun('vm-b', 'C0TWO');
    const c = await startRun('vm-c', 'C0ONE');
    expect((await h.runs.recent({ channel: 'C0ONE', limit: 10 })).map((r) => r.id)).toEqual([c.id, a.id]);
    expect((await h.runs.recent({ limit: 2 })).map((r) => r.id)).toEqual([c.id, b.id]);
    expect((await h.runs.lastForVm('vm-b'))?.id).toBe(b.id);
    expect(await h.runs.lastForVm('vm-z')).toBeUndefined();
  });
});

describe('when Redis is away', () => {
  it('fails fast with REDIS_UNAVAILABLE instead of hanging', async () => {
    const errors: Error[] = [];
    const redis = createProducerConnection(
      { redisUrl: 'redis://127.0.0.1:1' },
      { onError: (e) => errors.push(e) },
    );
    const error = await connectRedis(redis, 'redis://127.0.0.1:1').catch((e: unknown) => e);
    redis.disconnect();
    expect(error).toBeInstanceOf(GitspacesError);
    expect(error).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
    expect((error as Error).message).toContain('REDIS_URL');
  });

  it('refuses a start with REDIS_UNAVAILABLE when the connection is lost, and reserves nothing', async () => {
    const ended = once(h.redis, 'end');
    h.redis.disconnect();
    await ended;
    await expect(
      h.runs.start({ target: vmTarget('vm-1'), requester: 'U0R', channel: 'C0OPS' }),
    ).rejects.toMatchObject({
      code: 'REDIS_UNAVAILABLE',
    });
    await connectRedis(h.redis, h.config.redisUrl);
    expect((await h.runs.start({ target: vmTarget('vm-1'), requester: 'U0R', channel: 'C0OPS' })).ok).toBe(
      true,
    );
    // A producer that queued commands while Redis is away would hang here until the test times out.
  }, 10_000);
});

describe('opening the run service for the Slack app', () => {
  it('answers ready while Redis answers and starts runs', async () => {
    const opened = await openRunService(h.config);
    try {
      expect(await opened.ready()).toBe(true);
      expect(
        (await opened.runs.start({ target: vmTarget('vm-7'), requester: 'U0R', channel: 'C0OPS' })).ok,
      ).toBe(true);
    } finally {
      await opened.close();
    }
    expect(await opened.ready()).toBe(false);
  });

  it('logs a Redis outage at warn through the given logger, throttled, and prints nothing raw to stderr', async () => {
    const redis = await startPrivateRedis();
    const warnings: Array<{ fields: object; message?: string }> = [];
    const log = { warn: (fields: object, message?: string) => warnings.push({ fields, message }) };
    const stderr: string[] = [];
    const write = process.stderr.write.bind(process.stderr);
    const consoleError = console.error;
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr.push(String(chunk));
      return true;
    }) as typeof process.stderr.write;
    console.error = (...args: unknown[]) => stderr.push(args.map(String).join(' '));
    const opened = await openRunService(testConfig(testPrefix(), { REDIS_URL: redis.url }), {
      log,
      errorIntervalMs: 60_000,
    });
    try {
      await redis.kill();
      for (let i = 0; i < 5; i++) {
        await opened.queue.getJobCounts().catch(() => undefined);
        await opened.runs
          .start({ target: vmTarget('vm-1'), requester: 'U0R', channel: 'C0OPS' })
          .catch(() => 0);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      expect(await opened.ready()).toBe(false);
    } finally {
      process.stderr.write = write;
      console.error = consoleError;
      await opened.close();
      await redis.stop();
    }
    expect(stderr).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.message).toContain('Redis unavailable');
  }, 20_000);
});
