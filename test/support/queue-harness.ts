/**
 * A queue on the real Redis with a prefix of its own, the run service the Slack app uses, and a cleanup
 * that removes every key under the prefix.
 */
import { randomUUID } from 'node:crypto';
import { type Config, loadConfig } from '../../src/config.js';
import { connectRedis, createProducerConnection, type Redis } from '../../src/queue/redis.js';
import { createRunService, type RunService } from '../../src/queue/run-service.js';
import { createRunStore, type RunStore } from '../../src/queue/run-store.js';
import { createSetupQueue, type SetupQueue } from '../../src/queue/setup-queue.js';
import type { RunTarget } from '../../src/queue/types.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

export interface QueueHarness {
  prefix: string;
  config: Config;
  redis: Redis;
  queue: SetupQueue;
  store: RunStore;
  runs: RunService;
  /** Every key under the prefix, with its value rendered as text. */
  dump(): Promise<Array<{ key: string; value: string }>>;
  close(): Promise<void>;
}

/** QUEUE_PREFIX allows 32 characters: `test-` and 27 hex digits of a UUID. */
export function testPrefix(): string {
  return `test-${randomUUID().replaceAll('-', '').slice(0, 27)}`;
}

export function testConfig(prefix: string, env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      REDIS_URL,
      QUEUE_PREFIX: prefix,
      APPROVERS: 'U0APPROVER',
      HARNESS_ACCOUNT_ID: 'acct_test',
      POOL_SECRET: 'file:/nonexistent/pool.yaml',
      DELEGATE_TOKEN_SECRET: 'env:GITSPACES_TEST_TOKEN',
      SSH_KEY_SECRET: 'file:/nonexistent/id_ed25519',
      ...env,
    },
    { dotEnv: false },
  );
}

export async function openQueueHarness(
  options: { env?: Record<string, string>; startGraceMs?: number; now?: () => number; prefix?: string } = {},
): Promise<QueueHarness> {
  const prefix = options.prefix ?? testPrefix();
  const config = testConfig(prefix, options.env);
  const redis = createProducerConnection(config);
  await connectRedis(redis, config.redisUrl);
  // Retries in tests wait a moment, not BullMQ's production backoff.
  const queue = createSetupQueue(redis, prefix, { backoff: { type: 'fixed', delay: 200 } });
  const store = createRunStore(redis, prefix);
  const runs = createRunService({
    config,
    redis,
    queue,
    store,
    startGraceMs: options.startGraceMs ?? 60_000,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    prefix,
    config,
    redis,
    queue,
    store,
    runs,
    dump: () => dumpPrefix(redis, prefix),
    async close() {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
      const keys = await scanPrefix(redis, prefix);
      if (keys.length > 0) await redis.del(...keys);
      redis.disconnect();
    },
  };
}

export async function scanPrefix(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function dumpPrefix(redis: Redis, prefix: string): Promise<Array<{ key: string; value: string }>> {
  const out: Array<{ key: string; value: string }> = [];
  for (const key of await scanPrefix(redis, prefix)) {
    const type = await redis.type(key);
    let value: unknown;
    if (type === 'string') value = await redis.get(key);
    else if (type === 'hash') value = await redis.hgetall(key);
    else if (type === 'list') value = await redis.lrange(key, 0, -1);
    else if (type === 'set') value = await redis.smembers(key);
    else if (type === 'zset') value = await redis.zrange(key, '0', '-1');
    else if (type === 'stream') value = await redis.xrange(key, '-', '+');
    out.push({ key, value: JSON.stringify(value) });
  }
  return out;
}

export function vmTarget(vm: string): RunTarget {
  return { vm, project: undefined, zone: undefined };
}
