/**
 * 2. First feedback and 3. approval to action, one setup at a time, as `serve` runs: the product's Slack app
 * and a worker in one process, the real engine over SSH to the test VM (OpenSSH sshd with the Docker
 * stand-in), the Slack reporter posting to the fake Web API (Slack's rate limits on). Each sample starts
 * from a bare VM in a channel of its own.
 */

import { startWorker } from '../../jobs/setup-worker.js';
import { systemClock } from '../../src/clock.js';
import { createSlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { testVmAdapters, testVmEnv, testVmSettings } from '../../test/support/queue-test-vm.js';
import { startSlackAppHarness } from '../../test/support/slack-app-harness.js';
import { slackJobsIdle } from '../../test/support/slack-jobs.js';
import { now, sleep, until } from '../lib/clock.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { createRunProbe, ProbeLog } from '../lib/run-probe.js';
import { isApprovalRequest, runIdOf, SlackWatch } from '../lib/slack-watch.js';
import { type Summary, summarize } from '../lib/stats.js';
import { startBenchVm, vmInfo } from '../lib/test-vm.js';

interface Sample {
  ackMs: number;
  firstFeedbackMs: number;
  /** Approval request posted → the click (the clicker's reaction, not the bot's). */
  clickAckMs: number;
  approvalToActionMs: number;
  /** Click → the parent message in Slack showing `delegate` past pending. */
  approvalToVisibleMs: number;
  /** Parts of approval → action. */
  parts: Record<string, number>;
  runMs: number;
}

export interface FeedbackResults {
  samples: number;
  firstFeedbackMs: Summary;
  ackMs: Summary;
  approvalToActionMs: Summary;
  approvalToVisibleMs: Summary;
  approvalParts: Record<string, Summary>;
  runMs: Summary;
  notes: string[];
}

const PART_EVENTS = [
  'job',
  'runStarted',
  'finished:preflight',
  'finished:connect',
  'finished:approval',
  'started:delegate',
];

export async function feedbackBench(): Promise<{ results: FeedbackResults; goals: GoalRow[] }> {
  const count = size(4, 40);
  const vm = await startBenchVm();
  const info = vmInfo(vm);
  const h = await startSlackAppHarness({ env: testVmEnv(info) });
  h.slack.rateLimits = true;
  const watch = new SlackWatch(h.slack);
  const log = new ProbeLog();
  const probe = createRunProbe(log.sink);
  const delivery = createSlackDelivery(h.config, { redis: h.queue.redis, runs: h.queue.runs });
  const worker = await startWorker(h.config, {
    reporterFor: (run) => probe.wrapReporter(run, delivery.reporterFor(run)),
    runSetup: probe.runSetup,
    engine: testVmAdapters(info),
    settings: testVmSettings(h.config, info),
    clock: systemClock,
  });
  const samples: Sample[] = [];
  try {
    for (let i = 0; i < count + 1; i++) {
      const sample = await oneRun(i);
      // The first run warms every path up (JIT, connections); it is not counted.
      if (i > 0) samples.push(sample);
    }
  } finally {
    await worker.close();
    await delivery.close();
    await h.close();
    await vm.stop();
  }

  async function oneRun(i: number): Promise<Sample> {
    vm.resetDocker();
    const channel = `C0FB${i}`;
    const t0 = now();
    const answer = await h.command('setup vm-1', { channel });
    const ackMs = now() - t0;
    if (answer.status !== 200) throw new Error(`setup answered ${answer.status}`);
    const parent = await watch.message(
      'the parent message',
      (m) => m.channel === channel && m.threadTs === undefined,
      30_000,
    );
    const firstFeedbackMs = watch.arrivedAt(parent) - t0;
    const request = await watch.message(
      'the approval request',
      (m) => m.channel === channel && isApprovalRequest(m),
      60_000,
    );
    const runId = runIdOf(request);
    const tClick = now();
    const clicked = await h.click({
      actionId: 'delegate_approve',
      value: runId,
      user: 'U0APP',
      channel,
      message: { ts: request.ts, text: request.text, blocks: request.blocks },
    });
    const clickAckMs = now() - tClick;
    if (clicked.status !== 200) throw new Error(`click answered ${clicked.status}`);
    const delegate = await log.wait(runId, 'started:delegate', 60_000, tClick);
    const finished = await log.wait(runId, 'runFinished', 60_000, tClick);
    const record = await until(
      'the run record to end',
      async () => {
        const run = await h.queue.store.get(runId);
        return run?.finishedAt !== undefined ? run : undefined;
      },
      30_000,
    );
    if (record.state !== 'succeeded') throw new Error(`run ${runId} ended ${record.state}`);
    const visible = await until(
      'the checklist to show delegate',
      () =>
        watch.calls.find(
          (c) =>
            c.method === 'chat.update' &&
            c.ok &&
            c.at >= tClick &&
            c.args.ts === parent.ts &&
            /step-delegate[^}]*· (running|done|unchanged)/.test(JSON.stringify(c.args.blocks)),
        ),
      120_000,
    );
    const parts: Record<string, number> = {};
    let previous = tClick;
    for (const event of PART_EVENTS) {
      const at = log.find(runId, event, tClick)?.at ?? Number.NaN;
      parts[`→ ${event}`] = at - previous;
      previous = at;
    }
    // Let this run's remaining Slack edits go out before the next run starts (bounded: chat.update is paced).
    await Promise.race([slackJobsIdle(h.queue.redis, h.queue.prefix), sleep(15_000)]);
    return {
      ackMs,
      firstFeedbackMs,
      clickAckMs,
      approvalToActionMs: delegate.at - tClick,
      approvalToVisibleMs: visible.at - tClick,
      parts,
      runMs: finished.at - t0,
    };
  }

  const pick = (f: (s: Sample) => number) => summarize(samples.map(f));
  const partNames = Object.keys(samples[0]?.parts ?? {});
  const results: FeedbackResults = {
    samples: samples.length,
    firstFeedbackMs: pick((s) => s.firstFeedbackMs),
    ackMs: pick((s) => s.ackMs),
    approvalToActionMs: pick((s) => s.approvalToActionMs),
    approvalToVisibleMs: pick((s) => s.approvalToVisibleMs),
    approvalParts: Object.fromEntries(partNames.map((p) => [p, pick((s) => s.parts[p] ?? Number.NaN)])),
    runMs: pick((s) => s.runMs),
    notes: [
      'One run at a time on a bare test VM (resetDocker), each in its own channel; first run not counted (warm-up).',
      'approval → action: click sent → the engine reporting `delegate` started (reporter hook in the worker).',
      'approval → visible: click sent → the chat.update of the parent that shows `delegate` running or done.',
    ],
  };
  const goals = [
    row(
      '2',
      'first feedback: command → parent message at Slack',
      'p50 < 300 ms',
      `p50 ${fmt(results.firstFeedbackMs.p50)} ms, p99 ${fmt(results.firstFeedbackMs.p99)} ms (n=${results.samples})`,
      results.firstFeedbackMs.p50 < 300,
    ),
    row(
      '3',
      'approval → `delegate` step starting',
      'p50 < 250 ms',
      `p50 ${fmt(results.approvalToActionMs.p50)} ms, p99 ${fmt(results.approvalToActionMs.p99)} ms (n=${results.samples}); shown in Slack p50 ${fmt(results.approvalToVisibleMs.p50)} ms`,
      results.approvalToActionMs.p50 < 250,
    ),
  ];
  return { results, goals };
}
