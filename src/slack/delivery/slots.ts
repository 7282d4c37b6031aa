/**
 * Slack's limits belong to the workspace, not to a process, so their slots live in Redis where every
 * process of one deployment takes them: about one chat.postMessage a second per channel, and a share of the
 * workspace's ~50 chat.update a minute (Tier 3). A 429 blocks only the limit it names, for its Retry-After.
 * Each take answers 0 (the slot is this call's) or how many ms to wait before asking again.
 * https://docs.slack.dev/apis/web-api/rate-limits
 *
 * A channel's posts go by priority: a post that has to wait leaves its priority beside the channel's slot,
 * and a free slot goes to a post of that priority or a better one first, not to whichever asks first (in a
 * busy channel that put summaries of finished runs ahead of other runs' parents and approval requests).
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../../queue/lua-script.js';

/**
 * KEYS: the channel's spacing key, the best priority waiting for it. ARGV: spacing ms, this post's priority
 * (1 goes first), how long a waiting priority holds without being asked again (its post may have died).
 */
const TAKE_POST = new LuaScript(`
local priority = tonumber(ARGV[2])
local waiting = tonumber(redis.call('GET', KEYS[2]) or '99')
if waiting >= priority and redis.call('SET', KEYS[1], '1', 'PX', tonumber(ARGV[1]), 'NX') then
  if waiting == priority then redis.call('DEL', KEYS[2]) end
  return 0
end
local wait = redis.call('PTTL', KEYS[1])
if wait < 1 then wait = 50 end
if priority <= waiting then redis.call('SET', KEYS[2], priority, 'PX', wait + tonumber(ARGV[3])) end
return wait
`);

/**
 * KEYS: the edit times (sorted set), the block set by a 429. ARGV: how many edits this call may find in the
 * window, the window ms, a unique member. Redis's clock: every process measures the same minute.
 */
const TAKE_EDIT = new LuaScript(`
local blocked = redis.call('PTTL', KEYS[2])
if blocked > 0 then return blocked end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], window)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`);

/** Two edits a minute are kept spare for clock and network jitter; progress edits leave room for the rest. */
const EDIT_WINDOW_MS = 60_250;

/** How long a better priority keeps a channel's free slot from worse ones after its post last asked. */
const WAITING_HOLD_MS = 2000;

export interface Slots {
  /** `priority`: 1 (parents, approval requests) before 2 (failures, summaries, notices) before 3. */
  post(channel: string, priority: number): Promise<number>;
  /** `urgent` edits (decisions, final states) may use the whole budget, progress edits 60% of it. */
  edit(urgent: boolean): Promise<number>;
  /** Slack answered 429 for this method (in this channel, for posts): nobody tries before `ms`. */
  block(method: string, channel: string, ms: number): Promise<void>;
}

export function createSlots(
  redis: Redis,
  prefix: string,
  options: { postSpacingMs?: number; editsPerMinute?: number } = {},
): Slots {
  const spacing = options.postSpacingMs ?? 1000;
  const perMinute = options.editsPerMinute ?? 50;
  const postKey = (channel: string) => `${prefix}:slack:pace:post:${channel}`;
  const waitingKey = (channel: string) => `${prefix}:slack:pace:post:${channel}:waiting`;
  const editKeys = [`${prefix}:slack:pace:edits`, `${prefix}:slack:pace:edits-blocked`];
  let seq = 0;
  return {
    async post(channel, priority) {
      const keys = [postKey(channel), waitingKey(channel)];
      return Number(await TAKE_POST.run(redis, keys, [spacing, priority, WAITING_HOLD_MS]));
    },
    async edit(urgent) {
      const limit = urgent ? perMinute - 2 : Math.floor(perMinute * 0.6);
      const member = `${process.pid}-${Date.now()}-${seq++}-${Math.random()}`;
      return Number(await TAKE_EDIT.run(redis, editKeys, [Math.max(1, limit), EDIT_WINDOW_MS, member]));
    },
    async block(method, channel, ms) {
      const key = method === 'chat.update' ? (editKeys[1] as string) : postKey(channel);
      await redis.set(key, '1', 'PX', Math.max(1, Math.round(ms)));
    },
  };
}
