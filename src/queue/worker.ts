/**
 * The setup worker for `gitspaces-bot worker` and `serve`: any number of these, on any number of machines,
 * share one queue. A run parked at approval holds no lock, so stopping a worker loses nothing; a worker
 * that dies mid-step has its run taken over after the stalled interval, resuming at the step it was in. A
 * worker that loses a run's lock (Redis away longer than the lock) stops driving it between commands.
 */
import { type Job, Worker } from 'bullmq';
import { type RunSetup, type SetupProcessorContext, setupProcessor } from '../../jobs/setup.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { runSetup } from '../setup/engine.js';
import { createRedisHostKeyStore } from './host-key-store.js';
import { type JobLockWatch, watchJobLock } from './job-lock-watch.js';
import { createWorkerConnection } from './redis.js';
import { SETUP_QUEUE } from './run-keys.js';
import { createRunStore } from './run-store.js';
import type { RunOutcome } from './setup-queue.js';
import type { SetupJobData } from './types.js';

/** pino's call shape, so a pino logger can be passed straight in. */
export interface WorkerLog {
  info(fields: object, message?: string): void;
  warn(fields: object, message?: string): void;
  error(fields: object, message?: string): void;
}

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
}

export interface WorkerDeps extends Pick<SetupProcessorContext, 'reporterFor'> {
  /** The engine; tests of queue mechanics pass a stand-in. */
  runSetup?: RunSetup;
  engine?: SetupProcessorContext['engine'];
  settings?: SetupProcessorContext['settings'];
  clock?: SetupProcessorContext['clock'];
  log?: WorkerLog;
  timings?: WorkerTimings;
  /** How long `close` lets active steps finish before leaving them to another worker. @defaultValue 25 s */
  closeTimeoutMs?: number;
}

export interface RunningWorker {
  /** Stops taking jobs, lets active ones finish (within `closeTimeoutMs`), then closes connections. */
  close(): Promise<void>;
}

const silent: WorkerLog = { info: () => undefined, warn: () => undefined, error: () => undefined };

export async function startWorker(config: Config, deps: WorkerDeps): Promise<RunningWorker> {
  const log = deps.log ?? silent;
  const connection = createWorkerConnection(config, {
    onError: (error) => log.warn({ err: error.message }, 'Redis connection error; reconnecting'),
  });
  const processor = setupProcessor({
    config,
    store: createRunStore(connection, config.queuePrefix),
    hostKeys: createRedisHostKeyStore(connection, config.queuePrefix),
    reporterFor: deps.reporterFor,
    runSetup: deps.runSetup ?? runSetup,
    engine: deps.engine ?? {},
    clock: deps.clock ?? systemClock,
    ...(deps.settings ? { settings: deps.settings } : {}),
  });
  const lockDurationMs = deps.timings?.lockDuration ?? 30_000;
  const watches = new Map<string, Set<JobLockWatch>>();
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
      also: cancelled,
      onLost: () =>
        log.warn({ runId }, 'setup run lost its lock; stopping it here, the worker holding it goes on'),
    });
    const mine = watches.get(runId) ?? new Set<JobLockWatch>();
    watches.set(runId, mine.add(watch));
    try {
      return await processor(job, token, watch.signal);
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
  worker.on('error', (error) => log.error({ err: error.message }, 'setup worker error'));
  worker.on('failed', (job, error) =>
    log.warn({ runId: job?.id, attemptsMade: job?.attemptsMade, err: error.message }, 'setup attempt failed'),
  );
  worker.on('completed', (job, outcome) =>
    log.info({ runId: job.id, state: outcome.state }, 'setup run ended'),
  );
  worker.on('stalled', (runId) => log.warn({ runId }, 'setup run lost its worker; resuming it here'));
  // BullMQ could not renew a lock (Redis was away longer than lockDuration): find out which processing lost it.
  worker.on('lockRenewalFailed', (runIds) => {
    for (const runId of runIds) for (const watch of watches.get(runId) ?? []) watch.check();
  });
  await worker.waitUntilReady();

  return {
    async close() {
      const finished = worker.close().then(() => true);
      const timeout = new Promise<false>((resolve) =>
        setTimeout(() => resolve(false), deps.closeTimeoutMs ?? 25_000).unref(),
      );
      if (!(await Promise.race([finished, timeout]))) {
        // Steps still running keep their jobs locked until the lock lapses; another worker then resumes them.
        log.warn({}, 'setup worker closing with runs still in a step; another worker will resume them');
        await worker.disconnect().catch(() => undefined);
      }
      connection.disconnect();
    },
  };
}
