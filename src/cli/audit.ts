/**
 * `gitspaces-bot audit`: the run records in Redis, for people (`table`) or tools (`jsonl`). Reads only:
 * records hold references and results, never a secret value, and nothing else is read.
 */
import type { Config } from '../config.js';
import type { Io } from '../io.js';
import { connectRedis, createProducerConnection, redisUnavailable } from '../queue/redis.js';
import { createRunStore } from '../queue/run-store.js';
import type { RunRecord } from '../queue/types.js';
import type { AuditArgs } from './audit-args.js';
import { auditRow } from './audit-row.js';
import { auditTable } from './audit-table.js';

async function readRuns(
  config: Pick<Config, 'redisUrl' | 'queuePrefix'>,
  from: number,
): Promise<RunRecord[]> {
  // Errors reach the user once, as REDIS_UNAVAILABLE; ioredis would also print each reconnect attempt's.
  const redis = createProducerConnection(config, { onError: () => undefined });
  try {
    await connectRedis(redis, config.redisUrl);
    return await createRunStore(redis, config.queuePrefix).createdSince(from);
  } catch (error) {
    throw redisUnavailable(error, config.redisUrl);
  } finally {
    redis.disconnect();
  }
}

function heading(count: number, from: number, vm: string | undefined): string {
  const since = new Date(from).toISOString().slice(0, 16).replace('T', ' ');
  const runs = count === 1 ? '1 run' : `${count} runs`;
  return `${count === 0 ? 'No runs' : runs}${vm === undefined ? '' : ` of ${vm}`} since ${since} UTC`;
}

/** Prints the runs created within `args.sinceMs` of `now`, oldest first. Returns the exit code. */
export async function runAudit(
  config: Pick<Config, 'redisUrl' | 'queuePrefix'>,
  args: AuditArgs,
  io: Pick<Io, 'stdout'>,
  now: number = Date.now(),
): Promise<number> {
  const from = now - args.sinceMs;
  const runs = (await readRuns(config, from)).filter((r) => args.vm === undefined || r.target.vm === args.vm);
  const rows = runs.map(auditRow);
  if (args.format === 'jsonl') {
    io.stdout.write(rows.map((row) => `${JSON.stringify(row)}\n`).join(''));
  } else {
    io.stdout.write(auditTable(rows, heading(rows.length, from, args.vm)));
  }
  return 0;
}
