/**
 * A soak: 50 setup runs (10 rounds of 5 VMs at once) through the whole bot, with faults drawn at random
 * from the list the other reliability tests cover one by one: a worker SIGKILLed, Redis connections cut,
 * Redis restarted, an SSH connection dropped, a VM unreachable for a moment, Slack answering 500s or 429s.
 * It fails on any run lost, duplicated or wrongly reported, and prints runs, faults and recoveries.
 * SOAK_SEED=<n> replays a sequence of faults.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunRecord } from '../../src/queue/types.js';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, startFleet } from '../support/fault-fleet.js';
import { type PrivateRedis, startPrivateRedis } from '../support/fault-redis.js';
import type { FaultWorkerProcess } from '../support/fault-worker-process.js';

const VMS = ['soak-1', 'soak-2', 'soak-3', 'soak-4', 'soak-5'];
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 10);
const LOCK_MS = 6000;

const FAULTS = [
  'worker-sigkill',
  'redis-client-kill',
  'redis-restart',
  'ssh-drop',
  'vm-unreachable',
  'slack-500',
  'slack-429',
] as const;
type Fault = (typeof FAULTS)[number];

/** mulberry32: a small seeded generator, so that a failing sequence can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let fleet: Fleet;
let redis: PrivateRedis;
let bot: FaultBot;
const workers: FaultWorkerProcess[] = [];

beforeAll(async () => {
  fleet = await startFleet(VMS);
  redis = await startPrivateRedis();
  // Job locks shorter than production's 30 s, so that a killed worker's runs are taken over within
  // seconds, and Redis outages of any length against them.
  bot = await new FaultBot({
    fleet,
    redisUrl: redis.url,
    timings: { lockDuration: LOCK_MS, stalledInterval: 2000 },
  }).open();
  // Two worker processes (a killed one is replaced): runs move between them at approvals and kills.
  workers.push(await bot.startChildWorker());
  workers.push(await bot.startChildWorker());
}, 120_000);
afterAll(async () => {
  await bot?.close();
  await redis?.stop();
  await fleet?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const inStep = /^running:(docker|pool-file|network|runner|runner-health|delegate|delegate-health)$/;

it(
  'loses, duplicates and misreports no run among 50 with random faults',
  async () => {
    const seed = Number(process.env.SOAK_SEED ?? Date.now() % 1_000_000);
    const next = random(seed);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
    const injected: Record<string, number> = {};
    let faults = 0;
    let recoveries = 0;
    const problems: string[] = [];
    const all: RunRecord[] = [];

    const t0 = Date.now();
    const log = (text: string) => console.log(`soak +${((Date.now() - t0) / 1000).toFixed(1)}s ${text}`);
    log(`seed ${seed}`);
    async function inject(fault: Fault, busyVm: string | undefined): Promise<void> {
      log(`fault ${fault} ${busyVm ?? ''}`);
      faults += 1;
      injected[fault] = (injected[fault] ?? 0) + 1;
      const vm = fleet.vm(busyVm ?? pick(VMS));
      switch (fault) {
        case 'worker-sigkill': {
          const index = Math.floor(next() * workers.length);
          await workers[index]?.kill();
          workers[index] = await bot.startChildWorker();
          return;
        }
        case 'redis-client-kill':
          await redis.cutClients();
          return;
        case 'redis-restart':
          await redis.restart(1000);
          return;
        case 'ssh-drop':
          vm.relay.cut();
          return;
        case 'vm-unreachable':
          vm.relay.down();
          await sleep(1000);
          vm.relay.up();
          return;
        case 'slack-500':
          bot.slack.fail('*', { status: 500 }, 4);
          return;
        case 'slack-429':
          bot.slack.fail('chat.update', { status: 429, retryAfter: 1 }, 3);
          bot.slack.fail('chat.postMessage', { status: 429, retryAfter: 1 }, 2);
          return;
      }
    }

    const states = async (ids: string[]) => Promise.all(ids.map((id) => bot.record(id)));

    for (let round = 1; round <= ROUNDS; round++) {
      // Odd rounds set up bare VMs; even rounds run setup again on the VMs set up just before, which must
      // change nothing (and need no approval) whatever the faults.
      const fresh = round % 2 === 1;
      if (fresh) for (const vm of fleet.vms) vm.reset();
      const roundFaults = faults;
      // As a person would: ask again when the bot says its queue is unavailable (a fault just before).
      let ids: Map<string, string> | undefined;
      for (let tries = 1; ids === undefined; tries++) {
        const answer = await bot.command(`setup ${VMS.join(' ')}`);
        expect(answer.status).toBe(200);
        ids = await bot.runIdsFor(VMS, undefined, 20_000).catch(async (error) => {
          const said = JSON.stringify(answer.responses());
          if (tries >= 5 || !said.includes('unavailable'))
            throw new Error(`${String(error)}; the bot said ${said}`);
          await sleep(1000);
          return undefined;
        });
      }
      const runIds = [...ids.values()];

      // A fault while runs are in their steps.
      const busy = await waitFor('a run in a step', async () => {
        const runs = await states(runIds);
        return runs.find((r) => r !== undefined && inStep.test(r.state))?.target.vm;
      });
      await inject(pick(FAULTS), busy);

      // Another while fresh runs wait for approval, or a moment later while re-runs check their steps.
      if (!fresh) await sleep(Math.floor(next() * 2000));
      await waitFor(
        `round ${round}: every run to wait for approval`,
        async () =>
          !fresh ||
          (await states(runIds)).every(
            (r) => r?.state === 'awaiting-approval' || r?.finishedAt !== undefined,
          ),
        180_000,
      );
      await inject(pick(FAULTS), undefined);

      // Approvals as people give them, all at once; a third fault lands among the delegate steps.
      const approvals = runIds.map(async (runId, index) => {
        await sleep(index * 300);
        if ((await bot.record(runId))?.finishedAt === undefined) await bot.approve(runId);
      });
      await sleep(Math.floor(next() * 1500));
      await inject(pick(FAULTS), pick(VMS));
      const approved = await Promise.allSettled(approvals);
      for (const [index, outcome] of approved.entries())
        if (outcome.status === 'rejected')
          problems.push(`round ${round} ${VMS[index]}: ${String(outcome.reason)}`);
      log(`round ${round}: all approved`);
      let roundOk = true;
      for (const [vm, runId] of ids) {
        const run = await bot.finished(runId, 180_000);
        all.push(run);
        const say = (problem: string) => {
          roundOk = false;
          problems.push(`round ${round} ${vm} ${runId}: ${problem}`);
          log(`PROBLEM ${problems.at(-1)}`);
        };
        if (run.state !== 'succeeded') say(`ended ${run.state}: ${run.audit.at(-1)?.detail ?? ''}`);
        const changed = run.steps.filter((step) => step.state !== 'unchanged').map((step) => step.id);
        if (!fresh && changed.length > 0) say(`a re-run changed ${changed.join(', ')}`);
        for (const problem of bot.truthProblems(run)) say(problem);
        if (run.audit.filter((e) => e.event === 'finished').length !== 1) say('finished more than once');
        const names = fleet
          .vm(vm)
          .containers()
          .filter((c) => c.status === 'running')
          .map((c) => c.name)
          .sort();
        if (names.join(',') !== `${vm}-delegate,vm-runner`) say(`containers on the VM: ${names.join(', ')}`);
      }
      // No run lost or duplicated: exactly one record per VM for this round.
      const recent = await bot.runs.recent({ limit: 500 });
      for (const vm of VMS) {
        const ofVm = recent.filter((r) => r.target.vm === vm);
        if (ofVm.length !== round) {
          roundOk = false;
          problems.push(`round ${round} ${vm}: ${ofVm.length} runs recorded after ${round} rounds`);
        }
      }
      if (roundOk) recoveries += faults - roundFaults;
      log(`round ${round}: done ${roundOk ? 'ok' : 'with problems'}`);
    }

    const retries = all.reduce((n, r) => n + r.audit.filter((e) => e.event === 'retry').length, 0);
    const doubleAsks = all.filter((r) => bot.approvalRequests(r).length > 1).length;
    const slackFailures = bot.slack.calls.filter((c) => c.status !== 200).length;
    const summary = {
      seed,
      runs: all.length,
      runsCompleted: all.filter((r) => r.state === 'succeeded').length,
      faultsInjected: faults,
      recoveries,
      faultsByKind: injected,
      queueRetries: retries,
      slackCallsFailed: slackFailures,
      approvalAskedTwice: doubleAsks,
      problems: problems.length,
    };
    console.log(`soak: ${JSON.stringify(summary)}`);
    await recordFigures('soak', summary);
    expect(problems).toEqual([]);
    expect(all).toHaveLength(VMS.length * ROUNDS);
  },
  15 * 60_000,
);
