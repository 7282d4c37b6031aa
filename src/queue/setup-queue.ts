/**
 * The BullMQ queue of setup runs: one job per run, its id the run id. Jobs are removed when they end
 * (the run record keeps the history); a run whose step fails for a passing reason (a dropped SSH
 * connection, a Google API hiccup) is retried with backoff and resumes at that step.
 */
import { type JobsOptions, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { SETUP_QUEUE } from './run-keys.js';
import type { SetupJobData } from './types.js';

export type SetupQueue = Queue<SetupJobData, RunOutcome, 'setup'>;

/** What a finished job returns (the run record holds the rest). */
export interface RunOutcome {
  state: string;
}

/** Attempts per run for failures another attempt can fix. */
export const SETUP_ATTEMPTS = 3;

export const SETUP_JOB_OPTIONS: JobsOptions = {
  attempts: SETUP_ATTEMPTS,
  backoff: { type: 'exponential', delay: 15_000 },
  removeOnComplete: true,
  removeOnFail: true,
};

/** `jobOptions` overrides the defaults above (tests shorten the backoff). */
export function createSetupQueue(
  connection: Redis,
  prefix: string,
  jobOptions: JobsOptions = {},
): SetupQueue {
  return new Queue<SetupJobData, RunOutcome, 'setup'>(SETUP_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: { ...SETUP_JOB_OPTIONS, ...jobOptions },
  });
}
