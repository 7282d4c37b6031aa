/**
 * 17. The watch at scale: 500 emulated VMs (bench/fleet: in-process ssh2 Servers, 20 ms per command),
 * each set up by the engine first, watched by one watch worker at concurrency 50 (the product's
 * `startWatchWorker` and `watchLookWith`, Google's APIs faked, Slack faked behind the real delivery). Two
 * rounds of probes: how long a round takes, what the watch keeps in Redis per VM, and how many Slack calls
 * a round makes when nothing changed.
 */
import { loadConfig } from '../../src/config.js';
import { openRunService } from '../../src/queue/open-run-service.js';
import { createSlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { createWatchStore } from '../../src/watch/watch-store.js';
import { startFakeGoogle } from '../../test/support/fake-google.js';
import { startFakeSlack } from '../../test/support/fake-slack.js';
import { TEST_POOL, TEST_TOKEN } from '../../test/support/secrets-dir.js';
import { startVmFleet } from '../fleet/vm-fleet.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { benchPrefix, dropPrefix, REDIS_URL } from '../lib/redis-prefix.js';
import { setUpFleet } from './set-up-fleet.js';
import { type RoundResult, type WatchMemory, watchMemory, watchRound } from './watch-round.js';

const DELAY_MS = 20;
const CONCURRENCY = 50;
const CHANNELS = 20;
const PROJECT = 'acme-gitspaces';
const ZONE = 'us-central1-a';

export interface WatchResults {
  vms: number;
  concurrency: number;
  delayMs: number;
  setupMs: number;
  setupFailures: Array<{ vm: string; why: string }>;
  rounds: RoundResult[];
  memory: WatchMemory;
  emulation: string;
}

function benchEnv(prefix: string, googleUrl: string, slackUrl: string, port: number) {
  return {
    SLACK_BOT_TOKEN: 'xoxb-bench',
    SLACK_SIGNING_SECRET: 'bench-signing-secret-0123456789abcdef',
    SLACK_API_URL: slackUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    GCP_PROJECT: PROJECT,
    GCP_ZONE: ZONE,
    COMPUTE_API_URL: googleUrl,
    SECRET_MANAGER_API_URL: googleUrl,
    POOL_SECRET: 'pool',
    DELEGATE_TOKEN_SECRET: 'delegate-token',
    SSH_KEY_SECRET: 'ssh-key',
    SSH_USER: 'root',
    SSH_PORT: String(port),
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    APPROVERS: 'U0APP',
    WATCH_INTERVAL: '15m',
  };
}

export async function watchBench(): Promise<{ results: WatchResults; goals: GoalRow[] }> {
  const count = size(60, 500);
  const fleet = await startVmFleet(count, DELAY_MS);
  const google = await startFakeGoogle();
  for (const vm of fleet.vms)
    google.addVm(`${PROJECT}/${ZONE}/${vm.name}`, { internalIp: vm.address, hostKeys: vm.hostKeys });
  google
    .addSecret(PROJECT, 'pool', TEST_POOL)
    .addSecret(PROJECT, 'delegate-token', `${TEST_TOKEN}\n`)
    .addSecret(PROJECT, 'ssh-key', fleet.userPrivateKey);
  const slack = await startFakeSlack({ token: 'xoxb-bench', rateLimits: true });
  const prefix = benchPrefix('watch');
  const config = loadConfig(benchEnv(prefix, google.url, slack.url, fleet.port));
  const service = await openRunService(config);
  const delivery = createSlackDelivery(config, { redis: service.redis, runs: service.runs });
  const vms = fleet.vms.map((vm) => vm.name);
  try {
    process.stdout.write(`  watch: setting up ${count} VMs…\n`);
    const setupStarted = Date.now();
    const setupFailures = await setUpFleet(config, vms, CONCURRENCY);
    const setupMs = Date.now() - setupStarted;
    const store = createWatchStore(service.redis, prefix);
    for (const [i, vm] of vms.entries())
      await store.watch({
        vm,
        project: PROJECT,
        zone: ZONE,
        channel: `C0WATCH${i % CHANNELS}`,
        requester: 'U0REQ',
        runId: `watch-setup-${vm}`,
        messageTs: undefined,
        kind: 'setup',
        images: { runner: config.runnerImage, delegate: config.delegateImage },
        delegateName: undefined,
        tags: undefined,
        since: Date.now(),
      });
    const world = { config, redis: service.redis, store, delivery, slack, vms, concurrency: CONCURRENCY };
    const rounds: RoundResult[] = [];
    for (const n of [1, 2]) {
      const round = await watchRound(world);
      rounds.push(round);
      process.stdout.write(
        `    round ${n}: ${fmt(round.wallMs / 1000)} s, health ${JSON.stringify(round.health)}, notices ${JSON.stringify(round.notices)}, ${round.slackCalls} Slack calls\n`,
      );
    }
    const memory = await watchMemory(service.redis, prefix);
    const results: WatchResults = {
      vms: count,
      concurrency: CONCURRENCY,
      delayMs: DELAY_MS,
      setupMs,
      setupFailures,
      rounds,
      memory,
      emulation:
        'One process: the VMs (bench/fleet’s ssh2 Servers and in-memory Docker, 20 ms per command), fake Compute and Secret Manager APIs, a fake Slack Web API with its rate limits, and the product’s own parts: the engine for the setups, then `startWatchWorker` (concurrency 50) with `watchLookWith` and a `createSlackDelivery` Slack delivery, against Redis on 127.0.0.1.',
    };
    return { results, goals: watchGoals(results) };
  } finally {
    await delivery.close();
    await service.close();
    await dropPrefix(prefix);
    await fleet.close();
    await google.close();
    await slack.close();
  }
}

function watchGoals(r: WatchResults): GoalRow[] {
  const [first, second] = r.rounds;
  const perVm = (r.memory.storeBytes + r.memory.scheduleBytes) / r.vms;
  const healthy = second?.health.healthy ?? 0;
  return [
    row(
      '17a',
      `watch: one round of ${r.vms} probes, 1 worker × ${r.concurrency}`,
      '≤ 60 s',
      `${fmt((second?.wallMs ?? Number.NaN) / 1000)} s (first round ${fmt((first?.wallMs ?? Number.NaN) / 1000)} s); a probe p50 ${fmt(second?.probeMs.p50 ?? Number.NaN, 0)} ms, p99 ${fmt(second?.probeMs.p99 ?? Number.NaN, 0)} ms; ${healthy} of ${r.vms} healthy; ${r.setupFailures.length} setups failed`,
      second === undefined ? null : second.wallMs <= 60_000 && healthy === r.vms,
    ),
    row(
      '17b',
      'watch: Redis bytes per watched VM (watch record + job scheduler + its next job)',
      '< 4 KB',
      `${fmt(perVm / 1024, 2)} KB (record ${fmt(r.memory.storeBytes / r.vms / 1024, 2)} KB, schedule ${fmt(r.memory.scheduleBytes / r.vms / 1024, 2)} KB); the queue's event stream and meta ${fmt(r.memory.queueSharedBytes / 1024, 0)} KB in all`,
      perVm < 4 * 1024,
    ),
    row(
      '17c',
      'watch: Slack calls in a round where nothing changed',
      '0',
      `${second?.slackCalls ?? 'n/a'} (first round ${first?.slackCalls ?? 'n/a'}: ${JSON.stringify(first?.notices ?? {})})`,
      second === undefined ? null : second.slackCalls === 0,
    ),
  ];
}
