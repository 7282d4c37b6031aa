/**
 * What a run's thread is still to receive, in Redis so that any process's delivery job can send it and a
 * crash loses nothing: a list of replies in order, and beside it a hash of what the sender knows about the
 * run's messages (what the parent shows, when it was last edited, the approval request as posted, whether
 * it was closed). The approval request and the closing summary are keyed: each is queued once per run, however
 * often the engine or a resumed worker asks.
 */
import type { Redis } from 'ioredis';
import { LuaScript } from '../../queue/lua-script.js';
import type { SlackMessage } from '../blocks/run-message.js';

/** Replies queued once per run: the approval request, the summary, each retry's notice. */
export type ReplyKey = 'approval' | 'summary' | `retry-${number}`;

export interface Reply {
  message: SlackMessage;
  /** Shown in the channel too (the approval request). */
  broadcast?: boolean;
  key?: ReplyKey;
  /** Unique per reply: a reply is taken off the list only by the job that sent it. */
  id: string;
  /** Its place in the channel's queue of posts (run-reporter.ts's Priority). */
  priority: number;
}

export interface SenderState {
  /** Digest of what the parent shows. */
  shown?: string;
  /** When the parent was last edited (ms since the epoch). */
  editedAt?: string;
  /** The approval request as posted (JSON of a SlackMessage), for its closing edit. */
  approval?: string;
  /** '1' once the approval request shows its decision. */
  closed?: string;
  /** '1' once Slack refused the parent (the bot is not in the channel): nothing more is tried. */
  refused?: string;
  /**
   * `<what>@<ms>` while a post is on its way ('parent' or a reply's id), '' once its outcome is recorded: a
   * job that finds it set cannot know whether Slack took that post (see deliver-run.ts).
   */
  sending?: string;
}

/** Kept as long as finished runs are (the approval may wait for days). */
const KEEP_SECONDS = 30 * 86_400;

/**
 * KEYS: list, hash. ARGV: reply JSON, key or '', seconds to keep, the approval request's message JSON or ''.
 * The approval request is also kept beside the list: its closing edit replaces the buttons of this very message.
 */
const PUSH = new LuaScript(`
if ARGV[2] ~= '' and redis.call('HSETNX', KEYS[2], 'once:' .. ARGV[2], '1') == 0 then return 0 end
redis.call('RPUSH', KEYS[1], ARGV[1])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[2], 'approval', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
`);

/** KEYS: list, hash. ARGV: the reply JSON that was sent. */
const POP = new LuaScript(`
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
redis.call('HSET', KEYS[2], 'sending', '')
return 0
`);

export interface ThreadOutbox {
  /** Queues a reply, unless it is keyed and was queued before. */
  push(runId: string, reply: Reply): Promise<void>;
  /** The next reply to send, and its raw form for `pop`. */
  head(runId: string): Promise<{ reply: Reply; raw: string } | undefined>;
  /** Takes a sent reply off the list and says its post is settled. */
  pop(runId: string, raw: string): Promise<void>;
  state(runId: string): Promise<SenderState>;
  note(runId: string, state: SenderState): Promise<void>;
  /** How long Redis has been up: a write another process could not make while it was down may be on its way. */
  redisUpMs(): Promise<number>;
}

export function createThreadOutbox(redis: Redis, prefix: string): ThreadOutbox {
  const list = (runId: string) => `${prefix}:slack:run:${runId}:replies`;
  const hash = (runId: string) => `${prefix}:slack:run:${runId}`;
  const note = async (runId: string, state: SenderState) => {
    const pairs = Object.entries(state).filter(([, v]) => v !== undefined);
    if (pairs.length > 0)
      await redis
        .multi()
        .hset(hash(runId), Object.fromEntries(pairs))
        .expire(hash(runId), KEEP_SECONDS)
        .exec();
  };
  return {
    async push(runId, reply) {
      const approval = reply.key === 'approval' ? JSON.stringify(reply.message) : '';
      const args = [JSON.stringify(reply), reply.key ?? '', KEEP_SECONDS, approval];
      await PUSH.run(redis, [list(runId), hash(runId)], args);
    },
    async head(runId) {
      const raw = await redis.lindex(list(runId), 0);
      return raw === null ? undefined : { reply: JSON.parse(raw) as Reply, raw };
    },
    async pop(runId, raw) {
      await POP.run(redis, [list(runId), hash(runId)], [raw]);
    },
    async state(runId) {
      return (await redis.hgetall(hash(runId))) as SenderState;
    },
    note,
    async redisUpMs() {
      const info = await redis.info('server');
      return Number(/uptime_in_seconds:(\d+)/.exec(info)?.[1] ?? 0) * 1000;
    },
  };
}
