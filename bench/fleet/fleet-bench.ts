/**
 * 5. Fleet and 6. memory. 200 emulated VMs (in-process ssh2 Servers, 20 ms per command, Docker emulated in
 * memory: bench/fleet/fake-vm.ts) set up from 20 channels by one worker process (concurrency 50), then two;
 * 50 VMs from one channel; 50 runs at once for the worker's memory; Redis bytes per finished run.
 */
import { startFakeGoogle } from '../../test/support/fake-google.js';
import { TEST_POOL, TEST_TOKEN } from '../../test/support/secrets-dir.js';
import { buildProduct } from '../lib/build.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { phaseSelected, size } from '../lib/mode.js';
import { median } from '../lib/stats.js';
import { type PhaseResult, type PhaseSpec, runPhase } from './fleet-phase.js';
import { startVmFleet } from './vm-fleet.js';

const DELAY_MS = 20;
const CONCURRENCY = 50;

export interface SlackFloor {
  /** Parent and approval request of every run in the busiest channel, 1 post a second. */
  lastApprovalMs: number;
  /** Every post (parent, approval, summary) at 1/s per channel, every run's 2 edits at 50/min. */
  settleMs: number;
}

/** What Slack's limits alone impose on a phase, whatever the bot does. */
export function slackFloor(runs: number, channels: number): SlackFloor {
  const perChannel = Math.ceil(runs / channels);
  const posts = (3 * perChannel - 1) * 1000;
  const edits = (Math.max(0, 2 * runs - 50) / 50) * 60_000;
  return { lastApprovalMs: (2 * perChannel - 1) * 1000, settleMs: Math.max(posts, edits) };
}

export interface FleetResults {
  delayMs: number;
  emulation: string;
  singleRunMs: number;
  phases: Record<string, PhaseResult & { slackFloor: SlackFloor; idealMs: number }>;
}

export async function fleetBench(): Promise<{ results: FleetResults; goals: GoalRow[] }> {
  const fleetSize = size(20, 200);
  const channels = size(4, 20);
  const oneChannel = size(6, 50);
  const settle = size(3, 20) * 60_000;
  buildProduct();
  const fleet = await startVmFleet(Math.max(fleetSize, CONCURRENCY), DELAY_MS);
  const google = await startFakeGoogle();
  for (const vm of fleet.vms)
    google.addVm(`acme-gitspaces/us-central1-a/${vm.name}`, {
      internalIp: vm.address,
      hostKeys: vm.hostKeys,
    });
  google
    .addSecret('acme-gitspaces', 'pool', TEST_POOL)
    .addSecret('acme-gitspaces', 'delegate-token', `${TEST_TOKEN}\n`)
    .addSecret('acme-gitspaces', 'ssh-key', fleet.userPrivateKey);
  const world = { fleet, googleUrl: google.url };
  const base = { concurrency: CONCURRENCY, delayMs: DELAY_MS, settleTimeoutMs: settle };
  const specs: PhaseSpec[] = [
    { ...base, name: 'single', vms: size(2, 3), channels: size(2, 3), workers: 1, sequential: true },
    { ...base, name: 'fleet-1-worker', vms: fleetSize, channels, workers: 1, measureRedis: true },
    { ...base, name: 'fleet-2-workers', vms: fleetSize, channels, workers: 2 },
    // The same fleet with a channel per VM: no channel's post rate in the way, so the bot's own
    // throughput shows (Slack's messages are not waited for).
    { ...base, name: 'spread-1-worker', vms: fleetSize, channels: fleetSize, workers: 1, skipSettle: true },
    { ...base, name: 'spread-2-workers', vms: fleetSize, channels: fleetSize, workers: 2, skipSettle: true },
    { ...base, name: 'one-channel', vms: oneChannel, channels: 1, workers: 1 },
    // 50 runs at once (a channel each, so no post waits for another): the worker's memory at full load;
    // slower commands keep them all in their steps together for a few seconds.
    {
      ...base,
      name: 'memory',
      vms: CONCURRENCY,
      channels: CONCURRENCY,
      workers: 1,
      delayMs: 200,
      untilFull: true,
    },
  ];
  const phases: FleetResults['phases'] = {};
  let singleRunMs = Number.NaN;
  try {
    for (const spec of specs.filter((s) => s.name === 'single' || phaseSelected(s.name))) {
      process.stdout.write(
        `  fleet phase ${spec.name}: ${spec.vms} VMs, ${spec.channels} channel(s), ${spec.workers} worker(s)…\n`,
      );
      const result = await runPhase(world, spec);
      if (spec.name === 'single') singleRunMs = median(result.runMs.n > 0 ? [result.runMs.p50] : []);
      const ideal = (spec.vms / (spec.concurrency * spec.workers)) * singleRunMs;
      phases[spec.name] = { ...result, slackFloor: slackFloor(spec.vms, spec.channels), idealMs: ideal };
      process.stdout.write(
        `    wall ${fmt(result.wallMs / 1000)} s, settled ${result.settledMs === undefined ? 'never' : `${fmt(result.settledMs / 1000)} s`}, states ${JSON.stringify(result.states)}, ${fmt(result.callsPerSucceededRun)} calls/run, problems ${result.problems.length}\n`,
      );
    }
  } finally {
    await fleet.close();
    await google.close();
  }
  const results: FleetResults = {
    delayMs: DELAY_MS,
    emulation:
      'The bot: the compiled product as deployed (`gitspaces-bot app` and `gitspaces-bot worker` processes, Compute and Secret Manager clients against a local fake of both APIs). The VMs: in-process ssh2 Servers on 127.0.1.x (one port), each answering exec requests and the bot’s kept shell after the delay from an in-memory emulation of exactly the commands and scripts the engine sends (docker info/inspect with its JSON templates, network and image inspect/create, pull, run/start/stop/rm/rename/exec/logs; observe scripts, files written from stdin here-documents, sha256sum, the delegate’s env-file script and health script), plain or under `sudo -n sh -c`; the runner’s /healthz answered over forwarded SSH channels.',
    singleRunMs,
    phases,
  };
  return { results, goals: fleetGoals(results) };
}

function fleetGoals(r: FleetResults): GoalRow[] {
  const one = r.phases['fleet-1-worker'];
  const two = r.phases['fleet-2-workers'];
  const channel = r.phases['one-channel'];
  const memory = r.phases.memory;
  const goals: GoalRow[] = [];
  const s = (ms: number | undefined) => (ms === undefined ? 'never' : `${fmt(ms / 1000)} s`);
  if (one) {
    goals.push(
      row(
        '5a',
        `fleet: ${one.runs} VMs from ${one.channels} channels, 1 worker × ${one.concurrency}`,
        'wall ≤ 1.25× ideal (runs ÷ concurrency × one run)',
        `wall ${s(one.wallMs)} vs ideal ${s(one.idealMs)} (one run ${s(r.singleRunMs)}) → ${fmt(one.wallMs / one.idealMs, 2)}×; Slack's floor for the last approval ${s(one.slackFloor.lastApprovalMs)}`,
        one.wallMs <= 1.25 * one.idealMs,
      ),
    );
    // Every run posts its parent and its approval request in its channel at about one a second: with
    // several runs a channel, that, not the bot, bounds when the last approval can be clicked.
    const bound = Math.max(one.idealMs, one.slackFloor.lastApprovalMs);
    goals.push(
      row(
        '5a′',
        `fleet: ${one.runs} VMs from ${one.channels} channels against what Slack allows`,
        "wall ≤ 1.25× the larger of the ideal and Slack's floor for the last approval request",
        `wall ${s(one.wallMs)} vs ${s(bound)} → ${fmt(one.wallMs / bound, 2)}×; 2 workers ${s(two?.wallMs)} → ${two ? fmt(two.wallMs / bound, 2) : 'n/a'}×`,
        one.wallMs <= 1.25 * bound && (two === undefined || two.wallMs <= 1.25 * bound),
      ),
    );
  }
  const spread1 = r.phases['spread-1-worker'];
  const spread2 = r.phases['spread-2-workers'];
  if (one && two) {
    const spread =
      spread1 && spread2
        ? `; a channel per VM: 2 workers ${s(spread2.wallMs)} vs 1 worker ${s(spread1.wallMs)} → ${fmt(spread1.wallMs / spread2.wallMs, 2)}×`
        : '';
    goals.push(
      row(
        '5b',
        'fleet: two worker processes against one',
        '≥ 1.8× faster',
        `2 workers ${s(two.wallMs)} vs 1 worker ${s(one.wallMs)} → ${fmt(one.wallMs / two.wallMs, 2)}×${spread}`,
        one.wallMs / two.wallMs >= 1.8,
      ),
    );
  }
  const all = Object.values(r.phases).filter((p) => p.name !== 'memory');
  const failed = all.reduce((n, p) => n + p.runs - (p.states.succeeded ?? 0), 0);
  goals.push(
    row(
      '5c',
      'fleet: runs that did not succeed (all phases)',
      '0',
      `${failed} of ${all.reduce((n, p) => n + p.runs, 0)}`,
      failed === 0,
    ),
  );
  const fleets = [one, two, channel].filter((p) => p !== undefined);
  // Spread phases do not wait for Slack's last messages: their call counts are not complete.
  const worst = Math.max(...fleets.map((p) => p.callsPerSucceededRun));
  goals.push(
    row(
      '5d',
      'fleet: Web API calls per successful run',
      '≤ 15',
      fleets
        .map(
          (p) =>
            `${p.name} ${fmt(p.callsPerSucceededRun)} (${fmt(p.okCallsPerSucceededRun)} answered ok, ${p.calls.rateLimited} 429s)`,
        )
        .join('; '),
      worst <= 15,
    ),
  );
  if (channel) {
    const lost = channel.problems.length;
    goals.push(
      row(
        '5e',
        `${channel.runs} VMs from one channel`,
        "Slack's limit bounds the time; no run fails or loses a message",
        `all messages final after ${s(channel.settledMs)} vs Slack's floor ${s(channel.slackFloor.settleMs)} (${channel.settledMs === undefined ? 'n/a' : `${fmt(channel.settledMs / channel.slackFloor.settleMs, 2)}×`}); runs ended after ${s(channel.wallMs)}; runs with missing or stale messages: ${lost}`,
        channel.settledMs !== undefined &&
          lost === 0 &&
          (channel.states.succeeded ?? 0) === channel.runs &&
          channel.settledMs <= 1.25 * channel.slackFloor.settleMs,
      ),
    );
  }
  if (memory) {
    const worker = memory.workerUse[0];
    goals.push(
      row(
        '6a',
        `worker RSS with ${memory.concurrency} runs at once`,
        '< 250 MB',
        `${worker?.rssAtFullMb ?? 'n/a'} MB (idle ${worker?.idleRssMb} MB; ${memory.samplesAtFull} samples at ${memory.concurrency} runs in their steps)`,
        worker?.rssAtFullMb === undefined ? null : worker.rssAtFullMb < 250,
      ),
    );
  }
  const redis = one?.redis;
  if (redis) {
    goals.push(
      row(
        '6b',
        'Redis bytes per finished run record (hash + audit list)',
        '< 10 KB',
        `p50 ${fmt(redis.recordBytes.p50 / 1024, 2)} KB, max ${fmt(redis.recordBytes.max / 1024, 2)} KB (n=${redis.runs}); indexes +${redis.indexBytesPerRun} B per run`,
        redis.recordBytes.max < 10 * 1024,
      ),
    );
  }
  return goals;
}
