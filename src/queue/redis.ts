/**
 * Redis connections. Workers block on Redis for hours and must never give up on a command
 * (`maxRetriesPerRequest: null`, as BullMQ requires); the Slack app must answer within 3 s, so its
 * connection refuses commands at once while Redis is away instead of queueing them.
 */
import { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { GitspacesError, isGitspacesError } from '../errors.js';

export type { Redis } from 'ioredis';

export interface ConnectionOptions {
  /** Connection errors (ioredis keeps reconnecting); unhandled, ioredis prints them to stderr. */
  onError?: (error: Error) => void;
}

/** For BullMQ workers: commands wait for Redis to come back. */
export function createWorkerConnection(
  config: Pick<Config, 'redisUrl'>,
  options: ConnectionOptions = {},
): Redis {
  const redis = new Redis(config.redisUrl, {
    maxRetriesPerRequest: null,
    connectionName: 'gitspaces-worker',
  });
  if (options.onError) redis.on('error', options.onError);
  return redis;
}

/**
 * For the Slack app and other producers: a command fails fast with REDIS_UNAVAILABLE while Redis is down.
 * Lazy: `connectRedis` connects it and says when Redis does not answer.
 */
export function createProducerConnection(
  config: Pick<Config, 'redisUrl'>,
  options: ConnectionOptions = {},
): Redis {
  const redis = new Redis(config.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectionName: 'gitspaces-app',
    lazyConnect: true,
  });
  if (options.onError) redis.on('error', options.onError);
  return redis;
}

/** Connects a lazy (or ended) connection, no-op when connecting or ready; throws REDIS_UNAVAILABLE. */
export async function connectRedis(redis: Redis, redisUrl: string): Promise<void> {
  if (!['wait', 'close', 'end'].includes(redis.status)) return;
  try {
    await redis.connect();
  } catch (error) {
    throw redisUnavailable(error, redisUrl);
  }
}

/** Host and port of a Redis URL, without credentials, for messages. */
export function describeRedis(redisUrl: string): string {
  try {
    const url = new URL(redisUrl);
    return `${url.protocol}//${url.hostname}:${url.port || '6379'}`;
  } catch {
    return 'Redis';
  }
}

export function redisUnavailable(error: unknown, redisUrl: string): GitspacesError {
  if (isGitspacesError(error)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new GitspacesError(
    'REDIS_UNAVAILABLE',
    `Redis at ${describeRedis(redisUrl)} does not answer (${reason}). Check REDIS_URL and that Redis is running.`,
    { retryable: true, cause: error },
  );
}
