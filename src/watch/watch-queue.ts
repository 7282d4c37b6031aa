/**
 * The watch's schedule: one BullMQ job scheduler per watched VM on the `watch` queue (under QUEUE_PREFIX),
 * each adding a `probe` job every WATCH_INTERVAL. However many workers take the queue, each interval's
 * job is taken by one of them, and a job whose worker died is taken up again by BullMQ's stalled-job
 * recovery; the next interval's job is already scheduled by then.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

export const WATCH_QUEUE = 'watch';

export interface ProbeJobData {
  vm: string;
}

export interface WatchSchedule {
  /** Probes the VM every interval from now on, the first one interval from now. */
  schedule(vm: string): Promise<void>;
  unschedule(vm: string): Promise<void>;
  /** Every watched VM on the configured interval, and none other; with the watch off, none at all. */
  reconcile(watched: string[]): Promise<void>;
  queue: Queue<ProbeJobData>;
  close(): Promise<void>;
}

const schedulerId = (vm: string) => `vm-${vm}`;

export function createWatchSchedule(redis: Redis, prefix: string, intervalMs: number): WatchSchedule {
  const queue = new Queue<ProbeJobData>(WATCH_QUEUE, { connection: redis, prefix });
  queue.on('error', () => undefined);
  async function schedule(vm: string) {
    if (intervalMs <= 0) return;
    // Not at once: the VM was just set up and found healthy, and a probe then would compete with the runs
    // still going (their SSH connections, their channel's one post a second) for nothing new.
    await queue.upsertJobScheduler(
      schedulerId(vm),
      { every: intervalMs, startDate: Date.now() + intervalMs },
      { name: 'probe', data: { vm }, opts: { removeOnComplete: true, removeOnFail: 100 } },
    );
  }
  async function unschedule(vm: string) {
    await queue.removeJobScheduler(schedulerId(vm));
  }
  return {
    schedule,
    unschedule,
    async reconcile(watched) {
      const wanted = new Set(intervalMs > 0 ? watched.map(schedulerId) : []);
      const existing = await queue.getJobSchedulers(0, -1);
      for (const s of existing)
        if (s.key !== undefined && (!wanted.has(s.key) || Number(s.every) !== intervalMs))
          await queue.removeJobScheduler(s.key);
      const kept = new Set(
        existing.filter((s) => wanted.has(s.key) && Number(s.every) === intervalMs).map((s) => s.key),
      );
      for (const vm of watched) if (!kept.has(schedulerId(vm))) await schedule(vm);
    },
    queue,
    close: () => queue.close(),
  };
}
