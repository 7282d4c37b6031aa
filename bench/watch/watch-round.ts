/**
 * One round of the watch: every watched VM's scheduler made afresh, one watch worker started as `worker`
 * processes start it, every VM's first probe made due at once (a new schedule's first probe is due one
 * interval on), until every VM was probed; then the Slack messages
 * the probes asked for are delivered. And what the watch keeps in Redis per VM.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../../src/config.js';
import { createWorkerConnection } from '../../src/queue/redis.js';
import { watchNoticeMessage } from '../../src/slack/blocks/watch-notice.js';
import type { SlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { watchLookWith } from '../../src/vm-actions.js';
import type { Health, NoticeKind } from '../../src/watch/verdict.js';
import { createWatchSchedule, WATCH_QUEUE } from '../../src/watch/watch-queue.js';
import type { WatchStore } from '../../src/watch/watch-store.js';
import { startWatchWorker } from '../../src/watch/watch-worker.js';
import type { FakeSlack } from '../../test/support/fake-slack.js';
import { scanPrefix } from '../../test/support/queue-harness.js';
import { slackJobsIdle } from '../../test/support/slack-jobs.js';
import { now, until } from '../lib/clock.js';
import { type Summary, summarize } from '../lib/stats.js';

export interface WatchWorld {
  config: Config;
  redis: Redis;
  store: WatchStore;
  delivery: SlackDelivery;
  slack: FakeSlack;
  vms: string[];
  concurrency: number;
}

export interface RoundResult {
  /** Worker start (schedules made) → the last VM's probe recorded. */
  wallMs: number;
  probeMs: Summary;
  health: Partial<Record<Health, number>>;
  notices: Partial<Record<NoticeKind, number>>;
  /** Web API calls from the worker's start until every message the round asked for was delivered. */
  slackCalls: number;
  warnings: string[];
}

const count = <K extends string>(into: Partial<Record<K, number>>, key: K) => {
  into[key] = (into[key] ?? 0) + 1;
};

export async function watchRound(world: WatchWorld): Promise<RoundResult> {
  const { config, redis, store, delivery, slack, vms } = world;
  const schedule = createWatchSchedule(redis, config.queuePrefix, config.watchIntervalMs);
  await schedule.reconcile([]);
  await schedule.close();
  const result: RoundResult = {
    wallMs: 0,
    probeMs: summarize([]),
    health: {},
    notices: {},
    slackCalls: 0,
    warnings: [],
  };
  const probeMs: number[] = [];
  const callsBefore = slack.calls.length;
  const warn = (fields: object, message?: string) =>
    result.warnings.push(`${message} ${JSON.stringify(fields)}`);
  const started = now();
  const worker = await startWatchWorker({
    store,
    redis,
    workerConnection: () => createWorkerConnection(config),
    prefix: config.queuePrefix,
    network: config.dockerNetwork,
    intervalMs: config.watchIntervalMs,
    concurrency: world.concurrency,
    look: watchLookWith(config),
    notify: (channel, notice, id) => delivery.notice(channel, watchNoticeMessage(notice), id),
    now: Date.now,
    observer: {
      probed: (_vm, seconds, health) => {
        probeMs.push(seconds * 1000);
        count(result.health, health);
      },
      noticed: (kind) => count(result.notices, kind),
    },
    log: { debug: () => undefined, info: () => undefined, warn, error: warn },
  });
  const due = new Queue(WATCH_QUEUE, { connection: redis, prefix: config.queuePrefix });
  await due.promoteJobs();
  await due.close();
  try {
    await until('every VM probed', () => probeMs.length >= vms.length, 10 * 60_000);
    result.wallMs = now() - started;
  } finally {
    await worker.close();
  }
  await slackJobsIdle(world.redis, world.config.queuePrefix);
  result.slackCalls = slack.calls.length - callsBefore;
  result.probeMs = summarize(probeMs);
  return result;
}

export interface WatchMemory {
  /** The watch store: each VM's hash, the set of all VMs, the channels' sets. */
  storeBytes: number;
  /** The `watch` queue's job schedulers and the next job each has waiting. */
  scheduleBytes: number;
  /** The queue's event stream (capped by BullMQ, whatever the number of VMs) and its meta key. */
  queueSharedBytes: number;
  keys: number;
}

export async function watchMemory(redis: Redis, prefix: string): Promise<WatchMemory> {
  const keys = await scanPrefix(redis, `${prefix}:${WATCH_QUEUE}`);
  const sizes = await Promise.all(
    keys.map(async (key) => ({ key, bytes: Number(await redis.memory('USAGE', key, 'SAMPLES', 0)) })),
  );
  const memory: WatchMemory = { storeBytes: 0, scheduleBytes: 0, queueSharedBytes: 0, keys: keys.length };
  const queueKey = `${prefix}:${WATCH_QUEUE}:`;
  for (const { key, bytes } of sizes) {
    const rest = key.slice(queueKey.length);
    if (/^(vm:|vms$|channel:)/.test(rest)) memory.storeBytes += bytes;
    else if (rest === 'events' || rest === 'meta') memory.queueSharedBytes += bytes;
    else memory.scheduleBytes += bytes;
  }
  return memory;
}
