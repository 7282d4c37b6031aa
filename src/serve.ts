import type { Io } from './cli/terminal-run.js';
import type { Config } from './config.js';
import { asGitspacesError } from './errors.js';
import { closeGoogleClients } from './gcp/clients.js';
import { createLogger } from './log.js';
import { createMetrics } from './metrics.js';
import { observedReporter } from './observed-reporter.js';
import { openRunService } from './queue/open-run-service.js';
import { startWorker } from './queue/worker.js';
import { Redactor } from './setup/redactor.js';
import { createRedisPace } from './slack/delivery/pace.js';
import { createRedisLedger } from './slack/reporter/slack-ledger.js';
import { createSlackReporterFactory } from './slack/reporter/slack-reporters.js';
import { planVmWith, probeVmWith } from './vm-actions.js';

type Kind = 'serve' | 'app' | 'worker';

/** How long shutdown may take before the process exits anyway (the worker gets most of it). */
const SHUTDOWN_BOUND_MS = 30_000;

/**
 * `serve` (app and worker in one process), `app` or `worker`. Runs until SIGTERM/SIGINT, then stops taking
 * jobs, lets active steps finish (or leaves them to another worker), closes Redis and HTTP, and exits 0.
 */
export async function serve(
  kind: Kind,
  config: Config,
  io: Io,
  options: { signal?: AbortSignal } = {},
): Promise<number> {
  const secrets = new Redactor()
    .add(config.slack.botToken)
    .add(config.slack.signingSecret)
    .add(config.slack.appToken);
  const log = createLogger({ redactor: secrets }).child({ process: kind });
  const metrics = createMetrics();
  // Listen for signals before starting anything: a SIGTERM during start-up still stops cleanly.
  const stop = stopped(options.signal);
  const closers: (() => Promise<void>)[] = [];
  try {
    // Redis errors during an outage are logged at warn, once in a while with a count of the others.
    const service = await openRunService(config, { log });
    closers.push(() => service.close());
    metrics.setQueueCounts(() => service.queue.getJobCounts());
    metrics.setWaitingApprovals(
      async () =>
        (await service.runs.recent({ limit: 500 })).filter((r) => r.state === 'awaiting-approval').length,
    );
    const slackObserver = { call: metrics.slackCall, rateLimited: metrics.slackRateLimited };
    // Slack's limits are the workspace's: every process of this deployment takes its slots from Redis.
    const slackPace = createRedisPace(service.redis, config.queuePrefix);
    if (kind !== 'app') {
      const reporters = createSlackReporterFactory({
        botToken: config.slack.botToken,
        slackApiUrl: config.slack.apiUrl,
        approvers: config.approvers,
        attach: (runId, messages) => service.runs.attachMessage(runId, messages),
        log,
        observer: slackObserver,
        pace: slackPace,
        ledger: createRedisLedger(service.redis, config.queuePrefix),
        getRun: (runId) => service.runs.get(runId),
      });
      reporters.startSweeping();
      const worker = await startWorker(config, {
        reporterFor: (run) =>
          observedReporter(reporters.reporterFor(run), { runId: run.id, vm: run.target.vm }, log, metrics),
        log,
      });
      // Worker first: it must stop taking jobs before anything it reports through goes away.
      closers.unshift(async () => {
        await worker.close();
        await reporters.close(5000);
      });
    }
    if (kind !== 'worker') {
      // A worker process has no use for the Bolt app and its receivers: loaded only where it runs.
      const { startApp } = await import('./slack/create-app.js');
      const app = await startApp(config, {
        runService: service.runs,
        redis: service.redis,
        log,
        probeVm: probeVmWith(config),
        planVm: planVmWith(config),
        metrics: metrics.registry,
        slackObserver,
        slackPace,
      });
      closers.unshift(() => app.close());
      log.info({ port: app.port, mode: config.slack.appToken ? 'socket' : 'http' }, 'Slack app listening');
    }
    log.info({ concurrency: config.workerConcurrency, prefix: config.queuePrefix }, `${kind} started`);
  } catch (error) {
    const e = asGitspacesError(error);
    io.stderr.write(`${kind} could not start: ${e.message}\n`);
    await Promise.allSettled(closers.map((close) => close()));
    return 1;
  }
  await stop;
  log.info({}, 'stopping: no new jobs; letting active steps finish');
  const bound = new Promise<void>((resolve) => setTimeout(resolve, SHUTDOWN_BOUND_MS).unref());
  await Promise.race([
    (async () => {
      for (const close of closers)
        await close().catch((e: unknown) => log.warn({ err: String(e) }, 'while stopping'));
      await closeGoogleClients().catch(() => undefined);
    })(),
    bound,
  ]);
  log.info({}, 'stopped');
  return 0;
}

/** Resolves on SIGTERM or SIGINT (or when `signal` aborts, for embedding). */
function stopped(signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      process.off('SIGTERM', done);
      process.off('SIGINT', done);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    signal?.addEventListener('abort', done, { once: true });
  });
}
