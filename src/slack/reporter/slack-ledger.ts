/**
 * What the thread of a run is still owed, kept in Redis rather than in one worker's memory: the approval
 * request the engine asked for and the closing summary. The process delivering one holds a short lease
 * on it (renewed while it tries); when that process dies, the lease lapses and any worker's sweep
 * (`SlackReporters.sweep`) delivers what is still owed, once. Nothing secret is kept: the request holds
 * the VM, the host key's fingerprint, the delegate's name, image, tags and account id.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LuaScript } from '../../queue/lua-script.js';
import type { ApprovalRequest } from '../../setup/ports.js';
import { withTimeout } from '../with-timeout.js';

/** The approval request, the closing summary, and the parent's edit to the run's final state. */
export type OwedKind = 'approval' | 'summary' | 'final';
/** What a lease can be held on: an owed message, or the run's parent message while it is posted and recorded. */
export type LeaseKind = OwedKind | 'parent';

export interface SlackLedger {
  /** The thread will be owed this (the summary from the run's start, the request once asked). */
  owe(runId: string, kind: OwedKind, request?: ApprovalRequest): Promise<void>;
  /** Delivered: no longer owed. */
  delivered(runId: string, kind: OwedKind): Promise<void>;
  /** Everything still owed, oldest first, with when it became owed. */
  owed(): Promise<Array<{ runId: string; kind: OwedKind; since: number }>>;
  /** How long Redis has been up: writes a process could not make while it was down may still be on their way. */
  redisUptimeMs(): Promise<number>;
  /** The approval request recorded for the run. */
  request(runId: string): Promise<ApprovalRequest | undefined>;
  /**
   * Takes the right to deliver (or keeps it, renewed until `release`); false while another process holds
   * it. When Redis does not answer, true: a message twice is better than never.
   */
  hold(runId: string, kind: LeaseKind): Promise<boolean>;
  release(runId: string, kind: LeaseKind): void;
  close(): void;
}

export interface RedisLedgerOptions {
  /** How long a lease lasts without renewal. @defaultValue 30 s */
  leaseMs?: number;
  /** Owed entries older than this are dropped. @defaultValue 8 days */
  keepMs?: number;
}

/** KEYS: lease. ARGV: owner, ms. 1 when the lease is (now) this owner's. */
const HOLD = new LuaScript(`
local current = redis.call('GET', KEYS[1])
if current == false or current == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', tonumber(ARGV[2]))
  return 1
end
return 0
`);

/** KEYS: lease. ARGV: owner. */
const RELEASE = new LuaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 0
`);

const ANSWER_MS = 2000;

/** Tries `write` again (for up to 10 minutes) while Redis is away. */
export async function persist(write: () => Promise<void>): Promise<void> {
  const until = Date.now() + 10 * 60_000;
  for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
    try {
      return await write();
    } catch (error) {
      if (Date.now() > until) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * Records `kind` delivered, trying again while Redis is away (another worker must not deliver it again),
 * then lets go of its lease.
 */
export async function markDelivered(ledger: SlackLedger, runId: string, kind: OwedKind): Promise<void> {
  try {
    await persist(() => ledger.delivered(runId, kind));
  } finally {
    ledger.release(runId, kind);
  }
}

export function createRedisLedger(
  redis: Redis,
  prefix: string,
  options: RedisLedgerOptions = {},
): SlackLedger {
  const owner = randomUUID();
  const leaseMs = options.leaseMs ?? 30_000;
  const keepMs = options.keepMs ?? 8 * 24 * 3_600_000;
  const owedKey = `${prefix}:slack-owed`;
  const requestKey = (runId: string) => `${prefix}:slack-request:${runId}`;
  const leaseKey = (runId: string, kind: LeaseKind) => `${prefix}:slack-lease:${kind}:${runId}`;
  const renewals = new Map<string, NodeJS.Timeout>();
  const bounded = <T>(work: Promise<T>) => withTimeout(work, ANSWER_MS, () => new Error('Redis is slow'));

  return {
    async owe(runId, kind, request) {
      const multi = redis.multi().zadd(owedKey, 'NX', String(Date.now()), `${kind}:${runId}`);
      if (request !== undefined)
        multi.set(
          requestKey(runId),
          JSON.stringify(request),
          'PX',
          Math.max(keepMs, request.expiresAt - Date.now()),
        );
      await bounded(multi.exec());
    },
    async delivered(runId, kind) {
      const multi = redis.multi().zrem(owedKey, `${kind}:${runId}`);
      if (kind === 'approval') multi.del(requestKey(runId));
      await bounded(multi.exec());
    },
    async owed() {
      await redis.zremrangebyscore(owedKey, '-inf', Date.now() - keepMs);
      const members = await redis.zrange(owedKey, '0', '499', 'WITHSCORES');
      const owed: Array<{ runId: string; kind: OwedKind; since: number }> = [];
      for (let i = 0; i + 1 < members.length; i += 2) {
        const member = members[i] as string;
        const at = member.indexOf(':');
        const kind = member.slice(0, at);
        if (kind === 'approval' || kind === 'summary' || kind === 'final')
          owed.push({ runId: member.slice(at + 1), kind, since: Number(members[i + 1]) });
      }
      return owed;
    },
    async redisUptimeMs() {
      const info = await redis.info('server');
      const seconds = /uptime_in_seconds:(\d+)/.exec(info)?.[1];
      return seconds === undefined ? Number.POSITIVE_INFINITY : Number(seconds) * 1000;
    },
    async request(runId) {
      const text = await redis.get(requestKey(runId));
      return text === null ? undefined : (JSON.parse(text) as ApprovalRequest);
    },
    async hold(runId, kind) {
      let held = true;
      for (let attempt = 1; attempt <= 3; attempt += 1) {
        try {
          held = Number(await bounded(HOLD.run(redis, [leaseKey(runId, kind)], [owner, leaseMs]))) === 1;
          break;
        } catch {
          // Redis away (a cut connection comes back at once): after a few tries this process delivers,
          // and its renewals take the lease as soon as Redis is back.
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      const name = `${kind}:${runId}`;
      if (held && !renewals.has(name)) {
        const timer = setInterval(
          () => void HOLD.run(redis, [leaseKey(runId, kind)], [owner, leaseMs]).catch(() => undefined),
          Math.max(1000, Math.floor(leaseMs / 3)),
        );
        timer.unref();
        renewals.set(name, timer);
      }
      return held;
    },
    release(runId, kind) {
      const name = `${kind}:${runId}`;
      clearInterval(renewals.get(name));
      renewals.delete(name);
      void RELEASE.run(redis, [leaseKey(runId, kind)], [owner]).catch(() => undefined);
    },
    close() {
      for (const timer of renewals.values()) clearInterval(timer);
      renewals.clear();
    },
  };
}
