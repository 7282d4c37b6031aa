/** The part of a BullMQ job waking needs. */
export interface WakeableJob {
  promote(): Promise<void>;
  changePriority(opts: { priority?: number; lifo?: boolean }): Promise<void>;
}

/**
 * Wakes a parked job at the front of the waiting jobs: a run someone just decided on goes before runs that
 * have not started yet (the person who clicked is watching; a run that ends frees its slot). A job no
 * longer delayed (a worker has it, or it was woken already) is left as it is.
 */
export async function wakeFirst(job: WakeableJob): Promise<void> {
  try {
    await job.promote();
  } catch {
    return;
  }
  // Promoting appends the job to the waiting list; LIFO moves it to the end workers take from next.
  await job.changePriority({ priority: 0, lifo: true }).catch(() => undefined);
}
