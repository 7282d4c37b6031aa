/**
 * A setup worker in a process of its own, as `gitspaces-bot worker` runs it (Slack reporters writing to
 * the Web API, the run service's attach), but with the fleet's adapters. It reads what it needs (no
 * secret values) from GSB_FAULT_WORKER, logs JSON lines to a file, and prints `ready` once it takes jobs.
 */
import { createWriteStream } from 'node:fs';
import { startWorker, type WorkerTimings } from '../../jobs/setup-worker.js';
import { createLogger } from '../../src/log.js';
import { openRunService } from '../../src/queue/open-run-service.js';
import { createSlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { type FleetInfo, fleetAdapters, fleetSettings, tenthClock } from './fault-fleet.js';
import { testConfig } from './queue-harness.js';

export interface FaultWorkerSpec {
  prefix: string;
  env: Record<string, string>;
  info: FleetInfo;
  slackApiUrl: string;
  botToken: string;
  logFile: string;
  timings: WorkerTimings;
}

const spec = JSON.parse(process.env.GSB_FAULT_WORKER ?? '{}') as FaultWorkerSpec;
const config = testConfig(spec.prefix, {
  ...spec.env,
  SLACK_BOT_TOKEN: spec.botToken,
  SLACK_API_URL: spec.slackApiUrl,
});
const log = createLogger({
  stream: createWriteStream(spec.logFile, { flags: 'a' }),
  pretty: false,
  level: 'debug',
});
const service = await openRunService(config, { onRedisError: (e) => log.warn({ err: e.message }, 'redis') });
const delivery = createSlackDelivery(config, { redis: service.redis, runs: service.runs, log });
const worker = await startWorker(config, {
  reporterFor: (run) => delivery.reporterFor(run),
  engine: fleetAdapters(spec.info),
  settings: fleetSettings(config, spec.info),
  clock: tenthClock,
  log,
  timings: spec.timings,
});
process.stdout.write('ready\n');
process.once('SIGTERM', () => {
  void worker
    .close()
    .then(() => delivery.close())
    .then(() => service.close())
    .then(() => process.exit(0));
});
