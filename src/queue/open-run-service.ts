/**
 * The queue side of the Slack app in one call: a fail-fast Redis connection, the setup queue and the run
 * service over them, plus a readiness probe for `/readyz`.
 */
import type { Config } from '../config.js';
import { connectRedis, createProducerConnection, type Redis } from './redis.js';
import { createRunService, type RunService } from './run-service.js';
import { createSetupQueue, type SetupQueue } from './setup-queue.js';

export interface OpenedRunService {
  runs: RunService;
  queue: SetupQueue;
  redis: Redis;
  /** True while Redis answers. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

/** Throws REDIS_UNAVAILABLE when Redis does not answer at start. */
export async function openRunService(
  config: Config,
  options: { onRedisError?: (error: Error) => void; startGraceMs?: number } = {},
): Promise<OpenedRunService> {
  const redis = createProducerConnection(
    config,
    options.onRedisError ? { onError: options.onRedisError } : {},
  );
  await connectRedis(redis, config.redisUrl);
  const queue = createSetupQueue(redis, config.queuePrefix);
  const runs = createRunService({
    config,
    redis,
    queue,
    ...(options.startGraceMs === undefined ? {} : { startGraceMs: options.startGraceMs }),
  });
  return {
    runs,
    queue,
    redis,
    ready: async () => (await redis.ping().catch(() => undefined)) === 'PONG',
    async close() {
      await queue.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
