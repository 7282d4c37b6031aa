/**
 * Slack's rate limits belong to the workspace, not to a process: the app and every worker post into the
 * same channels and edit through the same chat.update allowance. A `SlackPace` hands out the slots; with
 * Redis (`createRedisPace`) every process of one deployment shares them, so adding workers adds no 429s.
 * https://docs.slack.dev/apis/web-api/rate-limits
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from '../../queue/lua-script.js';
import { withTimeout } from '../with-timeout.js';

/** How long a slot may take to come from Redis before this process decides alone. */
const ANSWER_MS = 500;

/** At most one call per `ms` (chat.postMessage: about one a second per channel). */
export type PaceRule = { kind: 'spacing'; ms: number } | { kind: 'window'; limit: number; windowMs: number };

export interface SlackPace {
  /** Takes a slot of `lane` if one is free now (0), or says how long to wait before asking again. */
  take(lane: string, rule: PaceRule): Promise<number>;
  /** Slack answered 429 for this lane: no slot is handed out before `ms` from now. */
  block(lane: string, ms: number): Promise<void>;
}

/** The slots of this process alone (one process, or Redis unreachable). */
export function createLocalPace(now: () => number = Date.now): SlackPace {
  const next = new Map<string, number>();
  const blocked = new Map<string, number>();
  const windows = new Map<string, number[]>();
  return {
    async take(lane, rule) {
      const t = now();
      const until = blocked.get(lane) ?? 0;
      if (until > t) return until - t;
      if (rule.kind === 'spacing') {
        const at = next.get(lane) ?? 0;
        if (at > t) return at - t;
        next.set(lane, t + rule.ms);
        return 0;
      }
      const times = windows.get(lane) ?? [];
      windows.set(lane, times);
      while (times.length > 0 && (times[0] as number) <= t - rule.windowMs) times.shift();
      if (times.length < rule.limit) {
        times.push(t);
        return 0;
      }
      // The oldest calls that must leave the window before one more fits.
      return Math.max(1, (times[times.length - rule.limit] as number) + rule.windowMs - t);
    },
    async block(lane, ms) {
      blocked.set(lane, Math.max(blocked.get(lane) ?? 0, now() + ms));
    },
  };
}

/** KEYS: lane state, lane block. ARGV: kind, ms or limit, windowMs, member. Returns ms to wait (0: taken). */
const TAKE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return blocked - now end
if ARGV[1] == 'spacing' then
  local ms = tonumber(ARGV[2])
  local at = tonumber(redis.call('GET', KEYS[1]) or '0')
  if at > now then return at - now end
  redis.call('SET', KEYS[1], now + ms, 'PX', ms + 1000)
  return 0
end
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + window - now)
`);

/** KEYS: lane block. ARGV: ms. */
const BLOCK = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local until_ = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > current then redis.call('SET', KEYS[1], until_, 'PX', tonumber(ARGV[1]) + 1000) end
return 0
`);

/**
 * Slots shared through Redis by every process with the same prefix. Redis's clock decides, so the
 * processes' clocks need not agree. When Redis does not answer, this process paces itself alone.
 */
export function createRedisPace(redis: Redis, prefix: string, fallback = createLocalPace()): SlackPace {
  const key = (lane: string, part: string) => `${prefix}:slack-pace:${part}:${lane}`;
  return {
    async take(lane, rule) {
      try {
        const args =
          rule.kind === 'spacing'
            ? ['spacing', rule.ms, 0, '']
            : ['window', rule.limit, rule.windowMs, randomUUID()];
        const taken = TAKE.run(redis, [key(lane, 'slots'), key(lane, 'blocked')], args);
        return Number(await withTimeout(taken, ANSWER_MS, () => new Error('Redis is slow')));
      } catch {
        return fallback.take(lane, rule);
      }
    },
    async block(lane, ms) {
      await fallback.block(lane, ms);
      const blocked = BLOCK.run(redis, [key(lane, 'blocked')], [Math.ceil(ms)]);
      await withTimeout(blocked, ANSWER_MS, () => new Error('Redis is slow')).catch(() => undefined);
    },
  };
}
