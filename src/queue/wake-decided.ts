/**
 * Wakes runs that were decided while their job stayed parked. A click wakes its run's job itself, through a
 * Redis blip (run-service.ts); a wake lost all the same (Redis away longer than that, or the app gone between
 * recording the decision and waking the job) would leave the run asleep until its request expires, its
 * approval request showing the decision meanwhile. Every worker looks at the parked jobs now and then: they
 * are the runs waiting for approval, so few, and waking one twice does no harm.
 */
import type { Redis } from 'ioredis';
import type { Log } from '../log.js';
import { createRunStore, type RunStore } from './run-store.js';
import { createSetupQueue, type SetupQueue } from './setup-queue.js';
import { wakeFirst } from './wake-first.js';

/** Delayed jobs looked at in one sweep, soonest due first: more than a deployment has runs waiting for approval. */
const SWEEP_MAX = 500;

/**
 * Wakes every parked job whose run still shows it waiting for approval but has a decision; returns how many
 * it woke. Other delayed jobs (a run in its start grace, a retry waiting out its backoff) are left alone.
 */
export async function wakeDecided(queue: SetupQueue, store: RunStore): Promise<number> {
  let woken = 0;
  for (const job of await queue.getDelayed(0, SWEEP_MAX - 1)) {
    const run = job.id === undefined ? undefined : await store.get(job.id);
    const lost =
      run?.state === 'awaiting-approval' && run.decision !== undefined && run.finishedAt === undefined;
    if (!lost) continue;
    await wakeFirst(job);
    woken += 1;
  }
  return woken;
}

/**
 * Sweeps every `everyMs` until stopped, over `connection` (the worker's); a sweep Redis refuses is tried at the
 * next one.
 */
export function sweepDecided(connection: Redis, prefix: string, everyMs: number, log: Log) {
  const queue = createSetupQueue(connection, prefix);
  const store = createRunStore(connection, prefix);
  let sweeping: Promise<void> | undefined;
  const timer = setInterval(() => {
    // One at a time: a sweep waiting for Redis is not joined by the next.
    if (sweeping !== undefined) return;
    sweeping = wakeDecided(queue, store)
      .then(
        (woken) => {
          if (woken > 0) log.warn({ woken }, 'woke decided runs whose wake had been lost');
        },
        (error: unknown) => log.debug({ err: String(error) }, 'could not look for decided runs; next time'),
      )
      .finally(() => {
        sweeping = undefined;
      });
  }, everyMs);
  timer.unref();
  return {
    /** Stops; a sweep under way is waited for, but not for Redis to come back (at most `waitMs`). */
    async stop(waitMs = 2000) {
      clearInterval(timer);
      const bound = () => new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref());
      await Promise.race([sweeping ?? Promise.resolve(), bound()]);
      // The queue shares the connection; its close waits for Redis, which may be away.
      await Promise.race([queue.close().catch(() => undefined), bound()]);
    },
  };
}
