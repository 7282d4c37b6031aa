/**
 * The queue side of the Slack app in one call: a fail-fast Redis connection, the setup queue and the run
 * service over them, plus a readiness probe for `/readyz`.
 */
import type { Config } from '../config.js';
import { connectRedis, createProducerConnection, type Redis } from './redis.js';
import { createRunService, type RunService } from './run-service.js';
import { createSetupQueue, type SetupQueue } from './setup-queue.js';
import { throttleErrors } from './throttle-errors.js';

export interface OpenedRunService {
  runs: RunService;
  queue: SetupQueue;
  redis: Redis;
  /** True while Redis answers. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface OpenRunServiceOptions {
  /**
   * Told of errors of the Redis connection and the setup queue while Redis is away, at most once per
   * `errorIntervalMs` (without it they are dropped: BullMQ would print them raw to stderr).
   */
  onRedisError?: (error: Error) => void;
  /** Used instead of `onRedisError`: the errors are logged at warn with how many were left out. */
  log?: { warn(fields: object, message?: string): void };
  /** @defaultValue 10 s */
  errorIntervalMs?: number;
  startGraceMs?: number;
}

function errorReporter(options: OpenRunServiceOptions): (error: Error) => void {
  const { log, onRedisError } = options;
  return throttleErrors(
    (error, suppressed) => {
      if (log !== undefined)
        log.warn({ err: error.message, suppressed }, 'Redis unavailable to the setup queue; reconnecting');
      else onRedisError?.(error);
    },
    options.errorIntervalMs === undefined ? {} : { intervalMs: options.errorIntervalMs },
  );
}

/** Throws REDIS_UNAVAILABLE when Redis does not answer at start. */
export async function openRunService(
  config: Config,
  options: OpenRunServiceOptions = {},
): Promise<OpenedRunService> {
  const onError = errorReporter(options);
  const redis = createProducerConnection(config, { onError });
  await connectRedis(redis, config.redisUrl);
  const queue = createSetupQueue(redis, config.queuePrefix);
  // Without a listener BullMQ's emitter prints every error of an outage to stderr.
  queue.on('error', onError);
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
