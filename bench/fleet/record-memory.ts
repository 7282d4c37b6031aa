/**
 * Redis bytes a finished run keeps: MEMORY USAGE (exact, SAMPLES 0) of its record hash and audit list, and
 * its share of the indexes (recent runs overall and per channel, the VM's last run).
 */
import type { Redis } from 'ioredis';
import type { RunKeys } from '../../src/queue/run-keys.js';
import type { RunRecord } from '../../src/queue/types.js';
import { type Summary, summarize } from '../lib/stats.js';

export interface RecordMemory {
  runs: number;
  /** Record hash + audit list, per run. */
  recordBytes: Summary;
  /** Indexes and per-VM keys, divided by the runs. */
  indexBytesPerRun: number;
  /** Keys under the prefix left once every run ended (BullMQ's included). */
  keysLeft: number;
}

async function usage(redis: Redis, key: string): Promise<number> {
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

export async function measureRunRecords(
  redis: Redis,
  keys: RunKeys,
  runs: RunRecord[],
): Promise<RecordMemory> {
  const perRun = await Promise.all(
    runs.map(
      async (run) => (await usage(redis, keys.run(run.id))) + (await usage(redis, keys.audit(run.id))),
    ),
  );
  const channels = [...new Set(runs.map((r) => r.channel))];
  const vms = [...new Set(runs.map((r) => r.target.vm))];
  const indexKeys = [keys.allRuns, ...channels.map(keys.channelRuns), ...vms.map(keys.vmLast)];
  const index = (await Promise.all(indexKeys.map((k) => usage(redis, k)))).reduce((a, b) => a + b, 0);
  let cursor = '0';
  let keysLeft = 0;
  const prefix = keys.allRuns.slice(0, -':runs'.length);
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    keysLeft += batch.length;
    cursor = next;
  } while (cursor !== '0');
  return {
    runs: runs.length,
    recordBytes: summarize(perRun),
    indexBytesPerRun: Math.round(index / Math.max(1, runs.length)),
    keysLeft,
  };
}
