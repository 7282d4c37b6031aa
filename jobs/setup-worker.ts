/**
 * `gitspaces-bot worker` and `serve`'s worker: the queue worker (src/queue/worker.ts) driving the setup
 * processor, with run records and learned host keys kept on the worker's own Redis connection.
 */
import { systemClock } from '../src/clock.js';
import type { Config } from '../src/config.js';
import { createRedisHostKeyStore } from '../src/queue/host-key-store.js';
import { createRunStore } from '../src/queue/run-store.js';
import { type RunningWorker, startQueueWorker, type WorkerDeps } from '../src/queue/worker.js';
import { runSetup } from '../src/setup/engine.js';
import { type RunSetup, type SetupProcessorContext, setupProcessor } from './setup.js';

export type { RunningWorker, WorkerTimings } from '../src/queue/worker.js';

export interface SetupWorkerDeps
  extends Omit<WorkerDeps, 'processorFor'>,
    Pick<SetupProcessorContext, 'reporterFor'> {
  /** The engine; tests of queue mechanics pass a stand-in. */
  runSetup?: RunSetup;
  engine?: SetupProcessorContext['engine'];
  settings?: SetupProcessorContext['settings'];
  clock?: SetupProcessorContext['clock'];
  succeeded?: SetupProcessorContext['succeeded'];
}

export function startWorker(config: Config, deps: SetupWorkerDeps): Promise<RunningWorker> {
  const { reporterFor, runSetup: run, engine, settings, clock, succeeded, ...workerDeps } = deps;
  return startQueueWorker(config, {
    ...workerDeps,
    processorFor: (connection) =>
      setupProcessor({
        config,
        store: createRunStore(connection, config.queuePrefix),
        hostKeys: createRedisHostKeyStore(connection, config.queuePrefix),
        reporterFor,
        runSetup: run ?? runSetup,
        engine: engine ?? {},
        clock: clock ?? systemClock,
        ...(settings ? { settings } : {}),
        ...(succeeded ? { succeeded } : {}),
      }),
  });
}
