/** The run store's atomic steps are Lua scripts: they keep working after Redis forgot its scripts (a restart). */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { LuaScript } from '../../src/queue/lua-script.js';
import { type PrivateRedis, startPrivateRedis } from '../support/fault-redis.js';

const INCR_BY = new LuaScript(`return redis.call('INCRBY', KEYS[1], tonumber(ARGV[1]))`);
// A Redis of its own: flushing the scripts of the shared one would touch every other test running.
let server: PrivateRedis;
let redis: Redis;
const key = 'counter';

beforeEach(async () => {
  server = await startPrivateRedis();
  redis = new Redis(server.url);
});
afterEach(async () => {
  redis.disconnect();
  await server.stop();
});

it('runs on every connection, and again after Redis flushed its scripts', async () => {
  const other = new Redis(server.url);
  try {
    expect(await INCR_BY.run(redis, [key], [2])).toBe(2);
    expect(await INCR_BY.run(other, [key], [3])).toBe(5);
    await redis.script('FLUSH');
    expect(await INCR_BY.run(redis, [key], [4])).toBe(9);
    expect(await INCR_BY.run(other, [key], [1])).toBe(10);
  } finally {
    other.disconnect();
  }
});
