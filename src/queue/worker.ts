/**
 * The setup worker for `gitspaces-bot worker` and `serve`: any number of these, on any number of machines,
 * share one queue. A run parked at approval holds no lock, so stopping a worker loses nothing; a worker
 * that stops while a run is in a step hands the run back to the queue, and one that dies mid-step has its
 * run taken over after the stalled interval: either way the run resumes at the step it was in. A worker
 * that loses a run's lock (Redis away longer than the lock) stops driving it between commands.
 */
import { DelayedError, type Job, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { type Log, silentLog } from '../log.js';
import { type JobLockWatch, watchJobLock } from './job-lock-watch.js';
import { createWorkerConnection } from './redis.js';
import { SETUP_QUEUE } from './run-keys.js';
import type { RunOutcome } from './setup-queue.js';
import type { SetupJobData } from './types.js';
import { sweepDecided } from './wake-decided.js';

export interface WorkerTimings {
  /** How long a job's lock lasts without renewal. @defaultValue 30 s */
  lockDuration?: number;
  /** How often jobs whose worker died are looked for. @defaultValue 30 s */
  stalledInterval?: number;
  /**
   * How many times a run may lose its worker before it is failed. Counted over the run's whole life
   * (hours with an approval), so higher than BullMQ's default of 1. @defaultValue 5
   */
  maxStalledCount?: number;
  /** How often parked jobs are looked at for a decided run whose wake was lost; 0: never. @defaultValue 60 s */
  decidedSweep?: number;
}

/** What a worker runs for each job; it stops between commands once `signal` fires. */
export type SetupJobProcessor = (
  job: Job<SetupJobData, RunOutcome, 'setup'>,
  token?: string,
  signal?: AbortSignal,
) => Promise<RunOutcome>;

export interface WorkerDeps {
  /** The processor (jobs/), given the worker's own Redis connection for the run records it keeps. */
  processorFor(connection: Redis): SetupJobProcessor;
  log?: Log;
  timings?: WorkerTimings;
  /** How long `close` lets active steps finish before leaving them to another worker. @defaultValue 25 s */
  closeTimeoutMs?: number;
}

export interface RunningWorker {
  /**
   * Stops taking jobs, lets active ones finish (within `closeTimeoutMs`, after which runs still in a step go
   * back to the queue for another worker), then closes connections.
   */
  close(): Promise<void>;
}

/** Why a processing ended early when its worker stopped (the run went back to the queue). */
const HANDED_BACK = 'this worker stopped; the run went back to the queue';
/** How long a stopping worker waits for the runs it handed back to wind down before it disconnects. */
const HAND_BACK_MS = 3000;

/** Whether `work` settles within `ms` (a timer that keeps no process alive). */
const settlesWithin = (work: Promise<unknown>, ms: number): Promise<boolean> =>
  Promise.race([work.then(() => true), new Promise<false>((ok) => setTimeout(() => ok(false), ms).unref())]);

/** What the worker's runs go through, in its log. */
function logEvents(worker: Worker<SetupJobData, RunOutcome, 'setup'>, log: Log): void {
  worker.on('error', (error) => log.error({ err: error.message }, 'setup worker error'));
  worker.on('failed', (job, error) =>
    log.warn({ runId: job?.id, attemptsMade: job?.attemptsMade, err: error.message }, 'setup attempt failed'),
  );
  worker.on('completed', (job, outcome) =>
    log.info({ runId: job.id, state: outcome.state }, 'setup run ended'),
  );
  worker.on('stalled', (runId) => log.warn({ runId }, 'setup run lost its worker; resuming it here'));
}

export async function startQueueWorker(config: Config, deps: WorkerDeps): Promise<RunningWorker> {
  const log = deps.log ?? silentLog;
  const connection = createWorkerConnection(config, {
    onError: (error) => log.warn({ err: error.message }, 'Redis connection error; reconnecting'),
  });
  const processor = deps.processorFor(connection);
  const lockDurationMs = deps.timings?.lockDuration ?? 30_000;
  const watches = new Map<string, Set<JobLockWatch>>();
  // Fired when close() stops waiting for active steps: they end between commands and go back to the queue,
  // so another worker resumes them at once instead of after their locks lapse (30 s or more).
  const stopping = new AbortController();
  // The engine stops between commands once this processing's lock is lost (another worker has the run).
  const watched = async (
    job: Job<SetupJobData, RunOutcome, 'setup'>,
    token?: string,
    cancelled?: AbortSignal,
  ): Promise<RunOutcome> => {
    const runId = job.data.runId;
    if (token === undefined) return processor(job, token, cancelled);
    const watch = watchJobLock(job, token, {
      lockDurationMs,
      also: cancelled ? AbortSignal.any([cancelled, stopping.signal]) : stopping.signal,
      onLost: () =>
        log.warn({ runId }, 'setup run lost its lock; stopping it here, the worker holding it goes on'),
    });
    const mine = watches.get(runId) ?? new Set<JobLockWatch>();
    watches.set(runId, mine.add(watch));
    try {
      return await processor(job, token, watch.signal);
    } catch (error) {
      if (watch.signal.reason !== HANDED_BACK) throw error;
      // Still this worker's job (the lock was not lost): delayed until now, it is the next worker's to take.
      await job.moveToDelayed(Date.now(), token);
      log.info({ runId }, 'setup run handed back to the queue; another worker resumes it at its step');
      throw new DelayedError();
    } finally {
      watch.stop();
      mine.delete(watch);
      if (mine.size === 0 && watches.get(runId) === mine) watches.delete(runId);
    }
  };
  const worker = new Worker<SetupJobData, RunOutcome, 'setup'>(SETUP_QUEUE, watched, {
    connection,
    prefix: config.queuePrefix,
    concurrency: config.workerConcurrency,
    lockDuration: lockDurationMs,
    stalledInterval: deps.timings?.stalledInterval ?? 30_000,
    maxStalledCount: deps.timings?.maxStalledCount ?? 5,
  });
  logEvents(worker, log);
  // BullMQ could not renew a lock (Redis was away longer than lockDuration): find out which processing lost it.
  worker.on('lockRenewalFailed', (runIds) => {
    for (const runId of runIds) for (const watch of watches.get(runId) ?? []) watch.check();
  });
  await worker.waitUntilReady();
  const sweepMs = deps.timings?.decidedSweep ?? 60_000;
  const sweep = sweepMs > 0 ? sweepDecided(connection, config.queuePrefix, sweepMs, log) : undefined;

  return {
    async close() {
      const finished = worker.close();
      if (!(await settlesWithin(finished, deps.closeTimeoutMs ?? 25_000))) {
        log.warn({}, 'setup worker closing with runs still in a step; handing them back to the queue');
        stopping.abort(HANDED_BACK);
        const handedBack = await settlesWithin(finished, HAND_BACK_MS);
        // A run not handed back in time stays locked until its lock lapses; another worker then resumes it.
        if (!handedBack) await worker.disconnect().catch(() => undefined);
      }
      await sweep?.stop();
      connection.disconnect();
    },
  };
}
