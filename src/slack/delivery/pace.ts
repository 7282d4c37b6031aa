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

/**
 * How long a claim outlives the wait its process was told: a process that died or hangs holds the lane's
 * other claimants back this long at most.
 */
const CLAIM_GRACE_MS = 1500;

/** Lower goes first: priority, then the longest waiting (epoch ms fit below 1e13 until the year 2286). */
function claimScore(claim: PaceClaim): number {
  return claim.priority * 1e13 + Math.max(0, Math.min(claim.since, 1e13 - 1));
}

/** At most one call per `ms` (chat.postMessage: about one a second per channel). */
export type PaceRule = { kind: 'spacing'; ms: number } | { kind: 'window'; limit: number; windowMs: number };

/**
 * The call a process would send next in a lane: processes waiting for the same lane get its free slots
 * best first (lower `priority`, then the one waiting longest), as calls of one process do.
 */
export interface PaceClaim {
  priority: number;
  /** When the call began to wait (ms since the epoch). */
  since: number;
}

export interface SlackPace {
  /**
   * Takes a slot of `lane` if one is free now (0), or says how long to wait before asking again. With a
   * claim, a free slot goes to the best claim any process has made for the lane; the claim stands until
   * this process takes a slot, leaves, or stops asking for longer than the wait it was told.
   */
  take(lane: string, rule: PaceRule, claim?: PaceClaim): Promise<number>;
  /** This process has nothing waiting in `lane` any more: its claim no longer holds anyone back. */
  leave(lane: string): Promise<void>;
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
    async leave() {},
    async block(lane, ms) {
      blocked.set(lane, Math.max(blocked.get(lane) ?? 0, now() + ms));
    },
  };
}

/**
 * KEYS: lane slots, lane block, claims (score: priority and age), claim deadlines.
 * ARGV: kind, ms or limit, windowMs, slot member, claimant ('' for none), claim score, claim grace ms.
 * Returns ms to wait (0: taken). A claimant told to wait keeps its claim until the wait (at most a second,
 * which is how often a waiting process asks again) and the grace have passed; a free slot goes to the
 * best claim, and others are told to ask again shortly, once it has been taken.
 */
const TAKE = new LuaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local claimant = ARGV[5]
local gone = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
for _, member in ipairs(gone) do
  redis.call('ZREM', KEYS[3], member)
  redis.call('ZREM', KEYS[4], member)
end
local function wait(ms)
  if claimant ~= '' then
    local keep = math.min(ms, 1000) + tonumber(ARGV[7])
    redis.call('ZADD', KEYS[3], tonumber(ARGV[6]), claimant)
    redis.call('ZADD', KEYS[4], now + keep, claimant)
    redis.call('PEXPIRE', KEYS[3], keep + 1000)
    redis.call('PEXPIRE', KEYS[4], keep + 1000)
  end
  return ms
end
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return wait(blocked - now) end
local window = tonumber(ARGV[3])
if ARGV[1] == 'spacing' then
  local at = tonumber(redis.call('GET', KEYS[1]) or '0')
  if at > now then return wait(at - now) end
else
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
  local limit = tonumber(ARGV[2])
  local n = redis.call('ZCARD', KEYS[1])
  if n >= limit then
    local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
    return wait(math.max(1, tonumber(oldest[2]) + window - now))
  end
end
if claimant ~= '' then
  local best = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
  if best[1] ~= nil and best[1] ~= claimant and tonumber(best[2]) < tonumber(ARGV[6]) then return wait(20) end
  redis.call('ZREM', KEYS[3], claimant)
  redis.call('ZREM', KEYS[4], claimant)
end
if ARGV[1] == 'spacing' then
  local ms = tonumber(ARGV[2])
  redis.call('SET', KEYS[1], now + ms, 'PX', ms + 1000)
else
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], window + 1000)
end
return 0
`);

/** KEYS: claims, claim deadlines. ARGV: claimant. */
const LEAVE = new LuaScript(`
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 0
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
  const claimKeys = (lane: string) => [key(lane, 'claims'), key(lane, 'claim-deadlines')];
  /** This process, as a claimant: one claim per lane, for its best waiting call. */
  const claimant = randomUUID();
  return {
    async take(lane, rule, claim) {
      try {
        const limit = rule.kind === 'spacing' ? rule.ms : rule.limit;
        const windowMs = rule.kind === 'spacing' ? 0 : rule.windowMs;
        const args = [
          rule.kind,
          limit,
          windowMs,
          rule.kind === 'spacing' ? '' : randomUUID(),
          claim === undefined ? '' : claimant,
          claim === undefined ? 0 : claimScore(claim),
          CLAIM_GRACE_MS,
        ];
        const keys = [key(lane, 'slots'), key(lane, 'blocked'), ...claimKeys(lane)];
        const taken = TAKE.run(redis, keys, args);
        return Number(await withTimeout(taken, ANSWER_MS, () => new Error('Redis is slow')));
      } catch {
        return fallback.take(lane, rule);
      }
    },
    async leave(lane) {
      const left = LEAVE.run(redis, claimKeys(lane), [claimant]);
      await withTimeout(left, ANSWER_MS, () => new Error('Redis is slow')).catch(() => undefined);
    },
    async block(lane, ms) {
      await fallback.block(lane, ms);
      const blocked = BLOCK.run(redis, [key(lane, 'blocked')], [Math.ceil(ms)]);
      await withTimeout(blocked, ANSWER_MS, () => new Error('Redis is slow')).catch(() => undefined);
    },
  };
}
