/**
 * 10f. `gitspaces-bot status` (what `/gitspaces status <vm>` and each watch probe run) on a VM whose delegate
 * and runner have logged up to their rotation bound (20 MB × 5 files each, as setup starts them): the probe
 * reads the delegate's whole log for Harness's refusals of its token (a frozen delegate still answers its
 * health check), and the runner's log of the last hour for errors. Against the same status with fresh logs:
 * through `docker logs`, which decodes every line, a delegate's log at its bound added about 3 s to each probe.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { DELEGATE, type EngineTier } from '../../test/support/engine/tier.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { type Summary, summarize } from '../lib/stats.js';

export interface FullLogResults {
  samples: number;
  freshMs: Summary;
  fullMs: Summary;
  /** What Docker kept of both containers' logs when the full samples were taken. */
  logMegabytes: number;
  notes: string[];
}

/** A delegate's log line is about this long (a timestamp, the thread, the class, the message). */
const LINE = `2026-12-05 10:00:00,000 [heartbeat-1] INFO  io.harness.delegate.service.DelegateAgentServiceImpl - Last heartbeat received at 1764928800000 and sent to manager at 1764928800000 ${'x'.repeat(40)}`;
/** More than the bound, once Docker wraps each line in JSON: the oldest files are rotated away. */
const WRITTEN_BYTES = 150 * 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const CONTAINERS = [DELEGATE, 'vm-runner'];

/** A container's log files on the engine's disk (the current one and those rotated), with their sizes. */
function logFiles(tier: EngineTier, container: string): number[] {
  const path = tier.inspect(container, '{{.LogPath}}');
  const name = basename(path);
  return readdirSync(dirname(path))
    .filter((file) => file.startsWith(name))
    .map((file) => statSync(join(dirname(path), file)).size);
}
const logBytes = (tier: EngineTier) =>
  CONTAINERS.flatMap((c) => logFiles(tier, c)).reduce((sum, bytes) => sum + bytes, 0);

async function statusMs(tier: EngineTier): Promise<number> {
  const run = await tier.cli('status');
  if (run.code !== 0) throw new Error(`status exited ${run.code}:\n${run.output}`);
  return run.ms;
}

export async function fullLogBench(tier: EngineTier): Promise<{ results: FullLogResults; goals: GoalRow[] }> {
  const count = size(2, 8);
  tier.reset();
  const setup = await tier.cli('setup', ['--yes']);
  if (setup.code !== 0) throw new Error(`setup exited ${setup.code}:\n${setup.output}`);
  await statusMs(tier); // warm-up, not counted
  const fresh: number[] = [];
  for (let i = 0; i < count; i++) fresh.push(await statusMs(tier));
  // Written to each main process's stdout, as their own lines are; Docker rotates as they arrive.
  for (const container of CONTAINERS)
    tier.engine.docker([
      'exec',
      container,
      'sh',
      '-c',
      `yes '${LINE}' | head -c ${WRITTEN_BYTES} > /proc/1/fd/1`,
    ]);
  for (let last = -1, now = logBytes(tier); now !== last; last = now, now = logBytes(tier)) await sleep(1000);
  const logMegabytes = logBytes(tier) / 1024 / 1024;
  // Each at its bound: four full rotated files and the current one (partly written: 80 to 100 MB in all).
  for (const container of CONTAINERS)
    if (logFiles(tier, container).length < 5)
      throw new Error(`${container}'s log is in fewer than 5 files: not at its bound`);
  const full: number[] = [];
  for (let i = 0; i < count; i++) full.push(await statusMs(tier));
  tier.reset();
  const results: FullLogResults = {
    samples: count,
    freshMs: summarize(fresh),
    fullMs: summarize(full),
    logMegabytes,
    notes: [
      '`gitspaces-bot status` as its own process (the compiled CLI), against the real engine of the test tier.',
      `Each container's log filled by ${WRITTEN_BYTES / 1024 / 1024} MB of ${LINE.length + 1}-byte lines written to its main process's stdout; Docker keeps 20 MB × 5 files of it.`,
    ],
  };
  const goals = [
    row(
      '10f',
      "real engine: `status` of a VM whose containers' logs are at their rotation bound (5 files of 20 MB each): the delegate's read whole for a refused token, the runner's last hour for errors",
      "≤ fresh logs' p50 + 0.5 s",
      `p50 ${fmt(results.fullMs.p50, 0)} ms (max ${fmt(results.fullMs.max, 0)}) with ${fmt(logMegabytes)} MB of logs; fresh logs p50 ${fmt(results.freshMs.p50, 0)} ms, n=${count}`,
      results.fullMs.p50 <= results.freshMs.p50 + 500,
    ),
  ];
  return { results, goals };
}
