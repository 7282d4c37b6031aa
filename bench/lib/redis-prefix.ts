/** Every benchmark keeps its Redis keys under a QUEUE_PREFIX of its own and removes them afterwards. */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_URL, scanPrefix } from '../../test/support/queue-harness.js';

export { REDIS_URL };

/** QUEUE_PREFIX allows 32 characters. */
export function benchPrefix(name: string): string {
  return `bench-${name}-${randomUUID().replaceAll('-', '').slice(0, 12)}`.slice(0, 32);
}

export function openRedis(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 3 });
}

export async function dropPrefix(prefix: string): Promise<void> {
  const redis = openRedis();
  try {
    const keys = await scanPrefix(redis, prefix);
    for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
  } finally {
    redis.disconnect();
  }
}
