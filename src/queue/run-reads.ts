/** Reading run records: one run, the run holding a VM or its last one, and the indexes of recent runs. */
import type { Redis } from 'ioredis';
import { decodeRun } from './run-codec.js';
import type { RunKeys } from './run-keys.js';
import type { RunRecord } from './types.js';

export interface RunReads {
  get(runId: string): Promise<RunRecord | undefined>;
  /** The unfinished run holding the VM (a run whose job is gone holds nothing). */
  active(vm: string): Promise<RunRecord | undefined>;
  last(vm: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  recent(options: { channel?: string; limit: number }): Promise<RunRecord[]>;
  /** Runs waiting for an approver's decision, oldest first (among the runs the overall index keeps). */
  awaiting(): Promise<RunRecord[]>;
  /** Runs created at `since` or later, oldest first (among the runs the overall index keeps). */
  createdSince(since: number): Promise<RunRecord[]>;
}

export function runReads(redis: Redis, keys: RunKeys): RunReads {
  async function get(runId: string): Promise<RunRecord | undefined> {
    const [fields, audit] = await Promise.all([
      redis.hgetall(keys.run(runId)),
      redis.lrange(keys.audit(runId), 0, -1),
    ]);
    return decodeRun(fields, audit);
  }

  async function getMany(ids: string[]): Promise<RunRecord[]> {
    const runs = await Promise.all(ids.map(get));
    return runs.filter((run): run is RunRecord => run !== undefined);
  }

  return {
    get,
    async active(vm) {
      const runId = await redis.get(keys.vmActive(vm));
      if (runId === null) return undefined;
      const [run, hasJob] = await Promise.all([get(runId), redis.exists(keys.job(runId))]);
      return run?.finishedAt === undefined && hasJob === 1 ? run : undefined;
    },

    async last(vm) {
      const runId = await redis.get(keys.vmLast(vm));
      return runId === null ? undefined : get(runId);
    },

    async recent({ channel, limit }) {
      const index = channel === undefined ? keys.allRuns : keys.channelRuns(channel);
      const ids = await redis.zrevrange(index, 0, Math.max(0, limit - 1));
      const runs = await getMany(ids);
      // Records past their retention leave stale ids behind: drop them from the index as they are found.
      const gone = ids.filter((id) => !runs.some((run) => run.id === id));
      if (gone.length > 0) await redis.zrem(index, ...gone);
      return runs;
    },

    async awaiting() {
      const ids = await redis.zrange(keys.allRuns, '0', '-1');
      if (ids.length === 0) return [];
      // Only the state of each run is read first: a full record is two reads, and few runs wait.
      const states = await redis.pipeline(ids.map((id) => ['hget', keys.run(id), 'state'])).exec();
      const waiting = ids.filter((_, i) => states?.[i]?.[1] === 'awaiting-approval');
      return getMany(waiting);
    },

    async createdSince(since) {
      const ids = await redis.zrangebyscore(keys.allRuns, since, '+inf');
      return getMany(ids);
    },
  };
}
