/**
 * SIGTERM to `gitspaces-bot serve` (a process of its own, configured only through its environment) while
 * a run is in a step: it takes no new job, lets the active step finish or parks the run, and exits 0
 * within its bound. Another bot on the same Redis prefix then finishes both runs in their own threads.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type FakeGoogle, startFakeGoogle } from '../support/fake-google.js';
import { FaultBot, waitFor } from '../support/fault-bot.js';
import { recordFigures } from '../support/fault-figures.js';
import { type Fleet, fleetEnv, startFleet } from '../support/fault-fleet.js';
import { testPrefix } from '../support/queue-harness.js';
import { holdRunnerPort } from '../support/runner-port.js';
import { BOT_TOKEN, SIGNING_SECRET, shown } from '../support/slack-app-harness.js';
import { sendCommand } from '../support/slack-request.js';

/** Any SIGTERM ends the process within 15 s (SHUTDOWN_BOUND_MS in src/serve.ts is 12 s). */
const EXIT_BOUND_MS = 15_000;

let fleet: Fleet;
let google: FakeGoogle;
let port3000: Awaited<ReturnType<typeof holdRunnerPort>>;
let bot: FaultBot;
let serve: ChildProcess | undefined;
let output = '';

beforeAll(async () => {
  fleet = await startFleet(['vm-1', 'vm-2']);
  port3000 = await holdRunnerPort();
  google = await startFakeGoogle();
  const vm1 = fleet.vm('vm-1');
  google.addVm('acme-gitspaces/us-central1-a/vm-1', { internalIp: '127.0.0.1', hostKeys: vm1.hostKeys });
});
afterAll(async () => {
  if (serve && serve.exitCode === null) serve.kill('SIGKILL');
  await bot?.close();
  await port3000?.release();
  await google?.close();
  await fleet?.stop();
});

function startServe(prefix: string): ChildProcess {
  const vm1 = fleet.vm('vm-1');
  const env = {
    PATH: process.env.PATH,
    HOME: mkdtempSync(join(tmpdir(), 'gsb-serve-home-')),
    ...fleetEnv(fleet.info),
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: bot.slack.url,
    PORT: '0',
    QUEUE_PREFIX: prefix,
    APPROVERS: 'U0APP,U0APP2,S0OPS',
    GCP_PROJECT: 'acme-gitspaces',
    GCP_ZONE: 'us-central1-a',
    COMPUTE_API_URL: google.url,
    SECRET_MANAGER_API_URL: google.url,
    SSH_PORT: String(vm1.sshd.port),
    RUNNER_DIR: vm1.runnerDir,
  };
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '-e',
      "import('./src/cli.ts').then(async (m) => { process.exitCode = await m.main(['serve']); })",
    ],
    { cwd: join(import.meta.dirname, '../..'), env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  return child;
}

it('stops taking jobs on SIGTERM, parks or finishes the active step, exits 0, and leaves nothing lost', async () => {
  const prefix = testPrefix();
  for (const vm of fleet.vms) {
    vm.reset();
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '300' });
  }
  // The app half of another bot on the same prefix, for reading runs and for after `serve` is gone.
  bot = await new FaultBot({ fleet, prefix }).open();
  serve = startServe(prefix);
  const port = await waitFor('serve to listen', () => /"port":(\d+),"mode":"http"/.exec(output)?.[1], 60_000);

  const ack = await sendCommand(
    { url: `http://127.0.0.1:${port}/slack/events`, signingSecret: SIGNING_SECRET },
    { text: 'setup vm-1', user: 'U0REQ', responseUrl: bot.slack.responseUrl('setup') },
  );
  expect(ack.status).toBe(200);
  const first = (await bot.runIdsFor(['vm-1'])).get('vm-1') as string;
  await waitFor('the run to be in a step', async () =>
    /^running:(docker|pool-file|network|runner)$/.test((await bot.record(first))?.state ?? ''),
  );

  const exited = new Promise<number | null>((resolve) => serve?.once('exit', (code) => resolve(code)));
  const signalledAt = Date.now();
  serve.kill('SIGTERM');
  // A run asked for after the signal: the stopping process must leave it to another worker.
  const later = await bot.command('setup vm-2');
  expect(later.status).toBe(200);
  const second = (await bot.runIdsFor(['vm-2'])).get('vm-2') as string;

  const code = await Promise.race([
    exited,
    new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), EXIT_BOUND_MS)),
  ]);
  expect(code, output.slice(-3000)).toBe(0);
  expect(Date.now() - signalledAt).toBeLessThan(EXIT_BOUND_MS);
  expect(output).toContain('stopping: no new jobs');
  expect(output).toContain('"msg":"stopped"');
  const notJson = output.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('{'));
  expect(notJson).toEqual([]);

  // The active run got to a resting point: parked at approval, or handed back mid-step for another worker to
  // resume at once (not left locked until its lock lapses).
  const parked = await bot.record(first);
  expect(parked?.finishedAt).toBeUndefined();
  expect(parked?.state).toMatch(/^(awaiting-approval|running:[a-z-]+)$/);
  expect(await bot.h.queue.queue.getJobState(first)).toMatch(/^(delayed|waiting|prioritized)$/);
  // The later run was not touched: still queued, no step begun, nothing done on its VM.
  const untouched = await bot.record(second);
  expect(untouched?.state).toBe('queued');
  expect(untouched?.audit.filter((e) => e.event === 'step')).toEqual([]);
  expect(fleet.vm('vm-2').sshd.calls()).toEqual([]);

  // Another worker finishes both, each in its own thread.
  await bot.startWorker();
  for (const runId of [first, second]) {
    // The first run waits for serve's lock to lapse (30 s) before this worker resumes it.
    await waitFor(
      `${runId} to wait for approval`,
      async () => (await bot.record(runId))?.state === 'awaiting-approval',
      150_000,
    );
    await bot.approve(runId);
  }
  for (const [vm, runId] of [
    ['vm-1', first],
    ['vm-2', second],
  ] as const) {
    const run = await bot.finished(runId);
    expect(run.state).toBe('succeeded');
    expect(bot.truthProblems(run)).toEqual([]);
    expect(
      fleet
        .vm(vm)
        .containers()
        .map((c) => c.name)
        .sort(),
    ).toEqual([`${vm}-delegate`, 'vm-runner']);
  }
  const status = await bot.command('status');
  expect(shown(await bot.h.response(status))).toContain('succeeded');
  await recordFigures('serve', { faultsInjected: 1, runsCompleted: 2 });
  // serve starts, runs a setup into a step, stops and is taken over: its own waits add up to minutes.
}, 420_000);
