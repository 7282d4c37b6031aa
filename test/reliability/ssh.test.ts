/**
 * The network between the bot and the VM fails under a running bot: the SSH connection is dropped while a
 * command runs on the VM, and the VM stops answering for a while or for good. A TCP relay in front of the
 * test VM's real sshd does the breaking; the Docker stand-in records what the VM was asked to do.
 */
import { existsSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, type FleetVm, startFleet } from '../support/fault-fleet.js';

let fleet: Fleet;
let vm: FleetVm;
let bot: FaultBot;
const figures = { faultsInjected: 0, runsCompleted: 0, runsFailedAsExpected: 0 };

beforeAll(async () => {
  fleet = await startFleet(['vm-1']);
  vm = fleet.vm('vm-1');
});
afterAll(async () => {
  await recordFigures('ssh', figures);
  await fleet?.stop();
});
afterEach(async () => {
  vm.relay.up();
  await bot?.close();
});

async function openBot(delayMs: number): Promise<FaultBot> {
  vm.reset();
  await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: String(delayMs) });
  bot = await new FaultBot({ fleet }).open();
  await bot.startWorker();
  return bot;
}

async function startRun(): Promise<string> {
  await bot.command('setup vm-1');
  return (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
}

const calls = () => vm.sshd.calls();
const matching = (pattern: (argv: string[]) => boolean) => calls().filter(pattern).length;

/** Waits until the VM was asked to run a command like this (it is still running: every call is slow). */
async function whileRunning(what: string, pattern: (argv: string[]) => boolean): Promise<void> {
  const before = matching(pattern);
  await waitFor(what, () => matching(pattern) > before, 120_000);
}

const isNetworkCreate = (a: string[]) => a[0] === 'network' && a[1] === 'create';
const isRun = (name: string) => (a: string[]) => a[0] === 'run' && a.includes(name);

describe('the SSH connection dropped in the middle of a command', () => {
  it('reconnects, finds what the interrupted command did, and leaves one network, one runner and one delegate', async () => {
    await openBot(800);
    const runId = await startRun();
    await whileRunning('network create', isNetworkCreate);
    expect(vm.relay.cut()).toBeGreaterThan(0);
    await whileRunning('docker run of the runner', isRun('vm-runner'));
    expect(vm.relay.cut()).toBeGreaterThan(0);
    await waitFor(
      'the approval request',
      async () => (await bot.record(runId))?.state === 'awaiting-approval',
    );
    await bot.approve(runId);
    await whileRunning('docker run of the delegate', isRun('vm-1-delegate'));
    expect(vm.relay.cut()).toBeGreaterThan(0);
    figures.faultsInjected += 3;

    const run = await bot.finished(runId);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(
      vm
        .containers()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['vm-1-delegate', 'vm-runner']);
    expect(Object.values(vm.state().networks).filter((n) => n.name === 'harness')).toHaveLength(1);
    // Every `docker run` of the delegate named its env file: none may be left on the VM with the token.
    const envFiles = calls()
      .filter(isRun('vm-1-delegate'))
      .map((argv) => argv[argv.indexOf('--env-file') + 1] ?? '');
    expect(envFiles.length).toBeGreaterThan(0);
    for (const file of envFiles) expect(existsSync(file), `${file} is still on the VM`).toBe(false);
    figures.runsCompleted += 1;
  });
});

describe('the VM unreachable', () => {
  it('retries with backoff while the VM does not answer for a moment, then finishes the run', async () => {
    await openBot(300);
    const runId = await startRun();
    await whileRunning('network create', isNetworkCreate);
    vm.relay.down();
    const refusedBefore = vm.relay.refused;
    await waitFor('the bot to try again', () => vm.relay.refused > refusedBefore);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    vm.relay.up();
    figures.faultsInjected += 1;

    await waitFor(
      'the approval request',
      async () => (await bot.record(runId))?.state === 'awaiting-approval',
    );
    await bot.approve(runId);
    const run = await bot.finished(runId);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(
      vm
        .containers()
        .map((c) => c.name)
        .sort(),
    ).toEqual(['vm-1-delegate', 'vm-runner']);
    figures.runsCompleted += 1;
  });

  it('gives up after a bounded number of attempts and says which step failed and why', async () => {
    await openBot(300);
    const runId = await startRun();
    await whileRunning('network create', isNetworkCreate);
    const refusedBefore = vm.relay.refused;
    vm.relay.down();
    figures.faultsInjected += 1;

    const run = await bot.finished(runId);
    expect(run.state).toMatch(/^failed:(network|connect)$/);
    expect(bot.truthProblems(run)).toEqual([]);
    const step = run.state.slice('failed:'.length);
    const failure = bot.thread(run).find((m) => m.text.startsWith(`${step} failed:`));
    expect(failure?.text).toContain('Cannot reach');
    expect(JSON.stringify(failure?.blocks)).toContain('SSH_CONNECT_FAILED');
    // Three attempts of the run (the queue's), each with a few reconnects: bounded, then it stops.
    expect(run.audit.filter((e) => e.event === 'retry')).toHaveLength(2);
    const attempts = vm.relay.refused - refusedBefore;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThanOrEqual(3 * 4);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(vm.relay.refused - refusedBefore).toBe(attempts);
    expect(vm.containers().map((c) => c.name)).not.toContain('vm-1-delegate');
    figures.runsFailedAsExpected += 1;
  });
});
