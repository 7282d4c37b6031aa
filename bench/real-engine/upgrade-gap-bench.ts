/**
 * Issue 16's figure: during an upgrade of the delegate to a new image, how long the VM has no healthy
 * delegate (from Docker beginning to stop the old one to the new one's health endpoint answering), against
 * the new container's own start-up (its creation to that answer). The difference is what the bot adds: the
 * old container's stop and rename, and the `docker run` of the new one up to its creation.
 */
import { publishDelegateTag } from '../../test/support/engine/images.js';
import { DELEGATE, type EngineTier, NETWORK } from '../../test/support/engine/tier.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { type Summary, summarize } from '../lib/stats.js';
import { watchReplacement } from './delegate-watch.js';
import { approved, engineSession } from './engine-run.js';

export interface UpgradeGapResults {
  samples: number;
  /** Old stopping → new healthy. */
  noHealthyMs: Summary;
  /** New created → new healthy. */
  startUpMs: Summary;
  /** Old stopping → new created. */
  stopToCreateMs: Summary;
  addedMs: Summary;
  notes: string[];
}

export async function upgradeGapBench(
  tier: EngineTier,
): Promise<{ results: UpgradeGapResults; goals: GoalRow[] }> {
  const count = size(2, 8);
  tier.reset();
  const tags = ['26.11.87101', '26.11.87102'].map((tag) =>
    publishDelegateTag(tier.engine, tier.images.delegate, tag),
  );
  const fresh = await engineSession(tier, 'bench-upgrade-setup').run(approved);
  if (fresh.result.state !== 'succeeded') throw new Error(`setup ended ${fresh.result.state}`);
  const noHealthy: number[] = [];
  const startUp: number[] = [];
  const stopToCreate: number[] = [];
  for (let i = 0; i < count; i++) {
    const image = tags[i % 2] as string;
    const watch = watchReplacement(tier, DELEGATE, NETWORK);
    const run = await engineSession(tier, `bench-upgrade-${i}`).run(approved, { upgradeDelegate: image });
    if (run.result.state !== 'succeeded')
      throw new Error(`upgrade ended ${run.result.state}: ${run.output.join('\n')}`);
    const seen = await watch.done();
    noHealthy.push(seen.healthyAt - seen.stoppedAt);
    startUp.push(seen.healthyAt - seen.createdAt);
    stopToCreate.push(seen.createdAt - seen.stoppedAt);
  }
  tier.reset();
  const results: UpgradeGapResults = {
    samples: count,
    noHealthyMs: summarize(noHealthy),
    startUpMs: summarize(startUp),
    stopToCreateMs: summarize(stopToCreate),
    addedMs: summarize(noHealthy.map((gap, i) => gap - (startUp[i] ?? 0))),
    notes: [
      'Each sample: `upgrade --delegate <tag>` through the engine (approved at once), alternating between two new tags of the stand-in delegate, the image pulled before the old one stops.',
      'Times from Docker’s events (`kill` of the old container, `create` of the new) and from polling the new container’s /api/health from the host every 25 ms.',
    ],
  };
  const { noHealthyMs, startUpMs } = results;
  const goals = [
    row(
      '16',
      'real engine: delegate upgrade, time with no healthy delegate (old stopping → new healthy) vs the new container’s own start-up',
      '≤ own start-up + 2 s',
      `no healthy delegate p50 ${fmt(noHealthyMs.p50, 0)} ms (max ${fmt(noHealthyMs.max, 0)}); own start-up p50 ${fmt(startUpMs.p50, 0)} ms; added p50 ${fmt(results.addedMs.p50, 0)} ms (max ${fmt(results.addedMs.max, 0)}), n=${count}`,
      results.addedMs.max <= 2000,
    ),
  ];
  return { results, goals };
}
