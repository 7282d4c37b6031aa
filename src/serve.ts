import { startWorker } from '../jobs/setup-worker.js';
import type { Config } from './config.js';
import { asGitspacesError } from './errors.js';
import { closeGoogleClients, warmGoogleClients } from './gcp/clients.js';
import type { Io } from './io.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { observedReporter } from './observed-reporter.js';
import { openRunService } from './queue/open-run-service.js';
import { createWorkerConnection } from './queue/redis.js';
import { Redactor } from './setup/redactor.js';
import { watchNoticeMessage } from './slack/blocks/watch-notice.js';
import { createSlackDelivery } from './slack/delivery/slack-delivery.js';
import { logsVmWith, planVmWith, probeVmWith, watchLookWith } from './vm-actions.js';
import { startWatching } from './watch/start-watching.js';
import { createWatchSchedule } from './watch/watch-queue.js';
import { createWatchStore, type WatchStore } from './watch/watch-store.js';
import { startWatchWorker } from './watch/watch-worker.js';

type Kind = 'serve' | 'app' | 'worker';

/**
 * How long shutdown may take before the process exits anyway: a service manager's stop (systemd's
 * TimeoutStopSec, Docker's 10 s + grace) must see it go. Active steps get most of it, then are left to
 * another worker.
 */
const SHUTDOWN_BOUND_MS = 12_000;
const WORKER_CLOSE_MS = 8000;

export interface ServeOptions {
  /** Aborting it stops the process as SIGTERM does (for embedding). */
  signal?: AbortSignal;
  /**
   * Stop when the parent process goes away (`npm start` killed without passing the signal on): set when
   * started by npm, whose script shell would otherwise leave the bot running with nobody to stop it.
   */
  watchParent?: boolean;
}

type Log = ReturnType<typeof createLogger>;

/** What must be closed at the end: the parts that take work first (together), then their connections. */
interface Closers {
  front: (() => Promise<void>)[];
  back: (() => Promise<void>)[];
}

/**
 * `serve` (app and worker in one process), `app` or `worker`. Runs until SIGTERM/SIGINT (at any time,
 * start-up included), then stops taking jobs, lets active steps finish (or leaves them to another worker),
 * closes Redis and HTTP, and returns 0. Returns 1 with one line on stderr when it cannot start, or when
 * Slack refuses the app token later.
 */
export async function serve(kind: Kind, config: Config, io: Io, options: ServeOptions = {}): Promise<number> {
  const secrets = new Redactor()
    .add(config.slack.botToken)
    .add(config.slack.signingSecret)
    .add(config.slack.appToken);
  const log = createLogger({ redactor: secrets }).child({ process: kind });
  // Listen for signals before starting anything: a SIGTERM during start-up still stops cleanly.
  const stop = stopped(log, options);
  const closers: Closers = { front: [], back: [] };
  const starting = startParts(kind, config, log, closers);
  const first = await Promise.race([
    starting.then(
      (started) => started,
      (error: unknown) => ({ error }),
    ),
    stop.then(() => ({ stopped: true as const })),
  ]);
  if ('error' in first) {
    io.stderr.write(`${kind} could not start: ${oneLine(first.error)}\n`);
    await shutdown(closers, log);
    return 1;
  }
  if ('stopped' in first) {
    log.info({}, 'stopping during start-up');
    // Close what is up (that also ends a start still waiting on Slack or Redis), then what came up since.
    await shutdown(closers, log);
    await Promise.race([starting.catch(() => undefined), delay(SHUTDOWN_BOUND_MS / 2)]);
    await shutdown(closers, log);
    log.info({}, 'stopped');
    return 0;
  }
  log.info({ concurrency: config.workerConcurrency, prefix: config.queuePrefix }, `${kind} started`);
  const refused = await Promise.race([stop.then(() => undefined), first.failed.catch((e: unknown) => e)]);
  if (refused !== undefined) {
    io.stderr.write(`${kind} stopped: ${oneLine(refused)}\n`);
    log.error({}, `stopping: ${oneLine(refused)}`);
    await shutdown(closers, log);
    return 1;
  }
  log.info({}, 'stopping: no new jobs; letting active steps finish');
  await shutdown(closers, log);
  log.info({}, 'stopped');
  return 0;
}

/** Starts Redis, the worker and the app, registering each closer as soon as there is something to close. */
async function startParts(
  kind: Kind,
  config: Config,
  log: Log,
  closers: Closers,
): Promise<{ failed: Promise<never> }> {
  const metrics = createMetrics();
  // Redis errors during an outage are logged at warn, once in a while with a count of the others.
  const service = await openRunService(config, { log });
  closers.back.push(() => service.close());
  metrics.setQueueCounts(() => service.queue.getJobCounts());
  metrics.setWaitingApprovals(
    async () =>
      (await service.runs.recent({ limit: 500 })).filter((r) => r.state === 'awaiting-approval').length,
  );
  const slackObserver = { call: metrics.slackCall, rateLimited: metrics.slackRateLimited };
  // One delivery of runs' Slack messages per process; every process takes Slack jobs from Redis.
  const delivery = createSlackDelivery(config, {
    redis: service.redis,
    runs: service.runs,
    log,
    observer: slackObserver,
  });
  // Slack jobs stop after everything that asks for them (the worker, the app), before Redis closes.
  closers.back.splice(closers.back.length - 1, 1, async () => {
    await delivery.close();
    await service.close();
  });
  const watchStore = createWatchStore(service.redis, config.queuePrefix);
  if (kind !== 'app') await startWorkers(config, { service, delivery, metrics, log, watchStore }, closers);
  if (kind === 'worker') return { failed: new Promise<never>(() => undefined) };
  // A worker process has no use for the Bolt app and its receivers: loaded only where it runs.
  const { createApp } = await import('./slack/create-app.js');
  const app = createApp(config, {
    runService: service.runs,
    redis: service.redis,
    log,
    probeVm: probeVmWith(config),
    planVm: planVmWith(config),
    watch: watchStore,
    logsVm: logsVmWith(config),
    metrics: metrics.registry,
    slackObserver,
    delivery,
  });
  closers.front.push(() => app.close());
  const { port } = await app.start();
  log.info({ port, mode: config.slack.appToken ? 'socket' : 'http' }, 'Slack app listening');
  return { failed: app.failed };
}

/** The setup worker, and the watch's probes of the VMs it set up. */
async function startWorkers(
  config: Config,
  parts: {
    service: Awaited<ReturnType<typeof openRunService>>;
    delivery: ReturnType<typeof createSlackDelivery>;
    metrics: ReturnType<typeof createMetrics>;
    log: Log;
    watchStore: WatchStore;
  },
  closers: Closers,
): Promise<void> {
  const { service, delivery, metrics, log, watchStore } = parts;
  // Before any job, so that the first runs do not wait for Google's clients to load.
  const warming = Date.now();
  await warmGoogleClients(config);
  log.info({ ms: Date.now() - warming }, 'Google clients loaded');
  const schedule = createWatchSchedule(service.redis, config.queuePrefix, config.watchIntervalMs);
  closers.back.unshift(() => schedule.close());
  const worker = await startWorker(config, {
    reporterFor: (run) =>
      observedReporter(delivery.reporterFor(run), { runId: run.id, vm: run.target.vm }, log, metrics),
    log,
    closeTimeoutMs: WORKER_CLOSE_MS,
    succeeded: startWatching(watchStore, schedule, log),
  });
  closers.front.push(() => worker.close());
  const watch = await startWatchWorker({
    store: watchStore,
    redis: service.redis,
    workerConnection: () =>
      createWorkerConnection(config, { onError: (e) => log.debug({ err: e.message }, 'watch: Redis') }),
    prefix: config.queuePrefix,
    network: config.dockerNetwork,
    intervalMs: config.watchIntervalMs,
    look: watchLookWith(config),
    notify: (channel, notice, id) => delivery.notice(channel, watchNoticeMessage(notice), id),
    now: Date.now,
    observer: metrics.watch,
    log,
  });
  closers.front.push(() => watch.close());
}

/** Runs (once each) the closers registered so far, within the shutdown bound. */
async function shutdown(closers: Closers, log: Log): Promise<void> {
  const front = closers.front.splice(0);
  const back = closers.back.splice(0);
  const run = (close: () => Promise<void>) =>
    close().catch((e: unknown) => log.warn({ err: String(e) }, 'while stopping'));
  await Promise.race([
    (async () => {
      await Promise.all(front.map(run));
      await Promise.all(back.map(run));
      await closeGoogleClients().catch(() => undefined);
    })(),
    delay(SHUTDOWN_BOUND_MS),
  ]);
}

function oneLine(error: unknown): string {
  return asGitspacesError(error).message.replace(/\s*\n\s*/g, ' ');
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Resolves on SIGTERM or SIGINT, when `signal` aborts, or (with `watchParent`) once the parent process is
 * gone: an orphan's parent id changes to its new reaper's.
 */
function stopped(log: Log, options: ServeOptions): Promise<void> {
  return new Promise((resolve) => {
    const parent = process.ppid;
    const watch = options.watchParent
      ? setInterval(() => {
          if (process.ppid === parent) return;
          log.warn({ parent }, 'the process that started this one is gone: stopping');
          done();
        }, 500).unref()
      : undefined;
    function done() {
      clearInterval(watch);
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    }
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    options.signal?.addEventListener('abort', done, { once: true });
  });
}
