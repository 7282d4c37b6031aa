/**
 * A run decided while its job stayed parked (the click's wake lost: Redis away longer than it tried, or the
 * app gone right after recording the decision) is woken by the workers' sweep, on a real Redis and BullMQ.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { wakeDecided } from '../../src/queue/wake-decided.js';
import { type RunningWorker, startQueueWorker } from '../../src/queue/worker.js';
import { openQueueHarness, type QueueHarness, vmTarget } from '../support/queue-harness.js';
import { waitUntil } from '../support/recording-reporter.js';

let h: QueueHarness;
let worker: RunningWorker | undefined;
beforeEach(async () => {
  h = await openQueueHarness();
});
afterEach(async () => {
  await worker?.close();
  worker = undefined;
  await h.close();
});

/** A run parked at approval for an hour, as the worker leaves it; decided (by `by`) without its job woken. */
async function parkedRun(vm: string, decidedBy?: string) {
  const started = await h.runs.start({ target: vmTarget(vm), requester: 'U0REQ', channel: 'C0OPS' });
  if (!started.ok) throw new Error(`${vm} is busy`);
  const id = started.run.id;
  await (await h.queue.getJob(id))?.changeDelay(3_600_000);
  await h.store.update(id, { state: 'awaiting-approval', approvalExpiresAt: Date.now() + 3_600_000 });
  if (decidedBy !== undefined)
    await h.store.decide(id, { kind: 'approved', by: decidedBy, at: Date.now() }, Date.now());
  return id;
}

describe('runs decided while their job stayed parked', () => {
  it('are woken by a sweep, and runs still waiting for a decision are left parked', async () => {
    const decided = await parkedRun('vm-decided', 'U0APP');
    const waiting = await parkedRun('vm-waiting');
    expect(await wakeDecided(h.queue, h.store)).toBe(1);
    expect(await h.queue.getJobState(decided)).toBe('waiting');
    expect(await h.queue.getJobState(waiting)).toBe('delayed');
    // Nothing more to wake: a second sweep changes nothing.
    expect(await wakeDecided(h.queue, h.store)).toBe(0);
  });

  it('go on with a worker that sweeps, without anyone clicking again', async () => {
    const decided = await parkedRun('vm-decided', 'U0APP');
    const waiting = await parkedRun('vm-waiting');
    const taken: string[] = [];
    worker = await startQueueWorker(h.config, {
      processorFor: () => async (job) => {
        taken.push(job.data.runId);
        return { state: 'succeeded' };
      },
      timings: { decidedSweep: 200 },
    });
    await waitUntil(() => taken.includes(decided), 'the decided run to be taken up');
    expect(taken).toEqual([decided]);
    expect(await h.queue.getJobState(waiting)).toBe('delayed');
  });
});
