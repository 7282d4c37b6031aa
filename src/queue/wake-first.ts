/**
 * How long a wake is tried again through Redis being away (the decision it follows is recorded already);
 * one lost all the same is made by the workers' sweep (wake-decided.ts).
 */
export const WAKE_FOR_MS = 20_000;

/** The part of a BullMQ job waking needs. */
export interface WakeableJob {
  isDelayed(): Promise<boolean>;
  promote(): Promise<void>;
  changePriority(opts: { priority?: number; lifo?: boolean }): Promise<void>;
}

/**
 * Wakes a parked job at the front of the waiting jobs: a run someone just decided on goes before runs that
 * have not started yet (the person who clicked is watching; a run that ends frees its slot). A job no
 * longer delayed (a worker has it, or it was woken already) is left as it is. Redis's own failures are
 * thrown: a wake that did not happen must not pass for one (the run would sleep until its request expires).
 */
export async function wakeFirst(job: WakeableJob): Promise<void> {
  if (!(await job.isDelayed())) return;
  // A job taken out of delayed meanwhile makes promote fail: only a job still delayed is a failed wake.
  await job.promote().catch(async (error: unknown) => {
    if (await job.isDelayed()) throw error;
  });
  // Promoting appends the job to the waiting list; LIFO moves it to the end workers take from next.
  await job.changePriority({ priority: 0, lifo: true }).catch(() => undefined);
}
