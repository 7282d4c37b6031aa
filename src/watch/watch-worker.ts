/**
 * Takes the `watch` queue's probe jobs (in `worker` and `serve` processes), up to 50 VMs at once. At start
 * it makes the schedule match the watched VMs and WATCH_INTERVAL (an interval changed since, or the watch
 * turned off with `0`, applies to every VM).
 */
import { type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Log } from '../log.js';
import { type ProbeDeps, probeWatched } from './probe-job.js';
import { createWatchSchedule, type ProbeJobData, WATCH_QUEUE } from './watch-queue.js';

export interface WatchWorkerOptions extends Omit<ProbeDeps, 'redis'> {
  /** For commands (the run service's). */
  redis: Redis;
  /** A connection of its own for the BullMQ worker, which blocks on it (none is made with the watch off). */
  workerConnection: () => Redis;
  intervalMs: number;
  /** @defaultValue 50 */
  concurrency?: number;
  log: Log;
}

export interface RunningWatch {
  close(): Promise<void>;
}

export async function startWatchWorker(options: WatchWorkerOptions): Promise<RunningWatch> {
  const schedule = createWatchSchedule(options.redis, options.prefix, options.intervalMs);
  await schedule.reconcile(await options.store.names());
  await schedule.close();
  if (options.intervalMs <= 0) return { close: async () => undefined };
  const process = async (job: Job<ProbeJobData>) => {
    // Job ids of a scheduler hold ':'; the notice ids made from them must not.
    const probeId = `${job.data.vm}-${String(job.id).replace(/[^A-Za-z0-9_-]/g, '-')}`;
    return probeWatched(options, job.data.vm, probeId);
  };
  const connection = options.workerConnection();
  const worker = new Worker<ProbeJobData>(WATCH_QUEUE, process, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 50,
    // A probe takes seconds; a dead worker's probe is taken up again soon (it is safe to run twice).
    lockDuration: 15_000,
    stalledInterval: 15_000,
  });
  worker.on('error', (error) => options.log.warn({ err: error.message }, 'watch worker: Redis unavailable'));
  worker.on('failed', (job, error) =>
    options.log.warn({ vm: job?.data.vm, err: error.message }, 'watch probe failed'),
  );
  await worker.waitUntilReady();
  return {
    async close() {
      await worker.close();
      connection.disconnect();
    },
  };
}
