import type { Config } from '../../config.js';
import { createWorkerConnection, type Redis } from '../../queue/redis.js';
import type { RunRecord } from '../../queue/types.js';
import type { Reporter } from '../../setup/ports.js';
import { type Log, silentLog } from '../log.js';
import type { RunAccess } from './deliver-run.js';
import { createRunReporter } from './run-reporter.js';
import { createSlackCalls, type SlackCallObserver } from './slack-calls.js';
import { createSlackDelivery, type SlackDelivery } from './slack-delivery.js';

export interface ProcessDelivery extends SlackDelivery {
  /** The reporter a worker hands the engine for `run`. */
  reporterFor(run: RunRecord): Reporter;
}

/** A process's delivery of runs' Slack messages, as `serve`, `app` and `worker` build it from the configuration. */
export function createProcessDelivery(
  config: Config,
  deps: { redis: Redis; runs: RunAccess; log?: Log | undefined; observer?: SlackCallObserver | undefined },
): ProcessDelivery {
  const log = deps.log ?? silentLog;
  const delivery = createSlackDelivery({
    redis: deps.redis,
    workerConnection: () =>
      createWorkerConnection(config, { onError: (e) => log.debug({ err: e.message }, 'Slack jobs: Redis') }),
    prefix: config.queuePrefix,
    calls: createSlackCalls({
      token: config.slack.botToken,
      apiUrl: config.slack.apiUrl,
      log,
      observer: deps.observer,
    }),
    runs: deps.runs,
    log,
  });
  return { ...delivery, reporterFor: (run) => createRunReporter(delivery, run, config.approvers, log) };
}
