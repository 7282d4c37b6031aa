import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { seconds } from '../duration.js';
import { describeRedis } from '../queue/redis.js';
import { withTimeout } from '../timeout.js';
import { type ConfigCheckRow, failRow, okRow } from './rows.js';

const CHECK = 'Redis';

/** CONFIG GET is refused on some managed Redis services: then the policy is simply not known. */
async function evictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const reply = (await redis.config('GET', 'maxmemory-policy')) as unknown;
    return Array.isArray(reply) && typeof reply[1] === 'string' ? reply[1] : undefined;
  } catch {
    return undefined;
  }
}

async function probe(redis: Redis, where: string): Promise<ConfigCheckRow> {
  await redis.connect();
  const pong = await redis.ping();
  const policy = await evictionPolicy(redis);
  // BullMQ keeps jobs (and so waiting approvals) as Redis keys: an evicting Redis silently loses runs.
  if (policy !== undefined && policy !== 'noeviction') {
    return failRow(
      CHECK,
      `${where} answers ${pong}, but its maxmemory-policy is ${policy}: under memory pressure it deletes queued runs.`,
      'Run Redis with maxmemory-policy noeviction (redis.conf, or `redis-cli CONFIG SET maxmemory-policy noeviction`).',
    );
  }
  return okRow(
    CHECK,
    `${where} answers ${pong}${policy === undefined ? '' : ` (maxmemory-policy ${policy})`}`,
  );
}

/** PING on REDIS_URL within `timeoutMs`, on a connection of its own that gives up instead of reconnecting. */
export async function checkRedis(
  config: Pick<Config, 'redisUrl'>,
  timeoutMs: number,
): Promise<ConfigCheckRow> {
  const where = describeRedis(config.redisUrl);
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectionName: 'gitspaces-check-config',
  });
  // The awaited calls only say "Connection is closed."; the event says why (ECONNREFUSED, ENOTFOUND, NOAUTH).
  let cause: Error | undefined;
  redis.on('error', (error: Error) => {
    cause ??= error;
  });
  try {
    return await withTimeout(
      probe(redis, where),
      timeoutMs + 500,
      () => new Error(`no answer within ${seconds(timeoutMs)}`),
    );
  } catch (error) {
    const reason = cause?.message ?? (error instanceof Error ? error.message : String(error));
    if (/NOAUTH|WRONGPASS|invalid password/i.test(reason)) {
      return failRow(
        CHECK,
        `${where} refused the credentials (${reason}).`,
        'Put the right user and password in REDIS_URL (redis://user:password@host:port).',
      );
    }
    return failRow(
      CHECK,
      `${where} does not answer (${reason}).`,
      'Start Redis (e.g. `redis-server --maxmemory-policy noeviction`) or point REDIS_URL at a running one.',
    );
  } finally {
    redis.disconnect();
  }
}
