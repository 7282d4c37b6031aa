/**
 * 10b. Approve click → delegate healthy, with the delegate image pulled while the run waited for approval
 * against without (the image removed from the VM before the click), for a 300 MB delegate image served by
 * the loopback registry. Each sample is one run as a worker drives it: the first attempt parks at approval
 * (pulling meanwhile), the second, started at the click with the run's journal, goes on from there.
 */
import { publishBigImage } from '../../test/support/engine/images.js';
import type { EngineTier } from '../../test/support/engine/tier.js';
import { alternate } from '../lib/alternate.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { type Summary, summarize } from '../lib/stats.js';
import { approved, engineSession, pending } from './engine-run.js';

export interface PullAheadResults {
  imageMegabytes: number;
  aheadMs: Summary;
  withoutMs: Summary;
  ratio: number;
  notes: string[];
}

const MEGABYTES = 300;

/** One sample: setup up to approval, then (optionally) the image removed, then the click. */
async function sample(tier: EngineTier, image: string, ahead: boolean, index: number): Promise<number> {
  tier.reset();
  tier.engine.tryDocker(['rmi', image]);
  const session = engineSession(tier, `bench-pull-${index}`, { delegateImage: image });
  const parked = await session.run(pending);
  if (parked.result.state !== 'awaiting-approval')
    throw new Error(`the run did not wait for approval: ${parked.result.state} ${parked.output.join('\n')}`);
  if (tier.engine.tryDocker(['image', 'inspect', image]).code !== 0)
    throw new Error('the delegate image was not pulled while the run waited for approval');
  if (!ahead) tier.engine.docker(['rmi', image]);
  const clicked = performance.now();
  const resumed = await session.run(approved);
  const healthy = resumed.finishedAt['delegate-health'];
  if (resumed.result.state !== 'succeeded' || healthy === undefined)
    throw new Error(`the resumed run ended ${resumed.result.state}: ${resumed.output.join('\n')}`);
  return healthy - clicked;
}

export async function pullAheadBench(
  tier: EngineTier,
): Promise<{ results: PullAheadResults; goals: GoalRow[] }> {
  const count = size(1, 4);
  const image = publishBigImage(tier.engine, tier.registry.address, MEGABYTES);
  let index = 0;
  const run = (pulled: boolean) => () => sample(tier, image, pulled, index++);
  try {
    const [ahead, without] = await alternate(count, run(true), run(false));
    return report(summarize(ahead), summarize(without), count);
  } finally {
    tier.reset();
    tier.engine.tryDocker(['rmi', image]);
  }
}

function report(
  aheadMs: Summary,
  withoutMs: Summary,
  count: number,
): { results: PullAheadResults; goals: GoalRow[] } {
  const results: PullAheadResults = {
    imageMegabytes: MEGABYTES,
    aheadMs,
    withoutMs,
    ratio: aheadMs.p50 / withoutMs.p50,
    notes: [
      'From the approval given (the resumed run started) to `delegate-health` done, in the engine as a worker drives it (connect, approval, delegate, delegate-health).',
      `Delegate image: the stand-in delegate plus ${MEGABYTES} MB of random data in one layer, from docker-registry on loopback.`,
      'without: the image removed from the VM after the wait, before the approval, so the resumed run pulls it.',
    ],
  };
  const goals = [
    row(
      '10b',
      `real engine: approval → delegate healthy, ${MEGABYTES} MB delegate image pulled during the wait vs not`,
      '≤ 0.2× of without',
      `pulled ahead p50 ${fmt(aheadMs.p50, 0)} ms vs without p50 ${fmt(withoutMs.p50, 0)} ms → ${fmt(results.ratio, 2)}×, n=${count} each`,
      results.ratio <= 0.2,
    ),
  ];
  return { results, goals };
}
