/**
 * 10a. What a person waits for: `gitspaces-bot setup --host … --yes` as its own process (the compiled CLI,
 * start-up included) from a bare VM to runner and delegate healthy, on the real engine of the test tier
 * (dockerd of its own, images pulled from the loopback registry, SSH as the `gitspaces` sudo user), against
 * the floor: the same docker commands, with the bot's own container arguments, as one script through one
 * `ssh`, waiting for each health endpoint by polling every 100 ms. Samples alternate bot/floor; every sample
 * starts bare (no containers, no network, no images: both pull).
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { delegateEnv, delegateSpec, envFileContent, runnerSpec } from '../../src/setup/container-specs.js';
import type { SetupSettings } from '../../src/setup/settings.js';
import { command, quote } from '../../src/setup/shell.js';
import { DELEGATE, type EngineTier, NETWORK, startEngineTier } from '../../test/support/engine/tier.js';
import { runOverSsh } from '../engine/replay-script.js';
import { alternate } from '../lib/alternate.js';
import { buildProduct } from '../lib/build.js';
import { fmt, type GoalRow, row } from '../lib/goals.js';
import { size } from '../lib/mode.js';
import { type Summary, summarize } from '../lib/stats.js';
import { fullLogBench } from './full-log-bench.js';
import { pullAheadBench } from './pull-ahead-bench.js';
import { upgradeGapBench } from './upgrade-gap-bench.js';

export interface RealEngineResults {
  samples: number;
  botMs: Summary;
  floorMs: Summary;
  ratio: number;
  overheadMsPerRun: number;
  notes: string[];
}

/** The floor: what setup does, written as one privileged script (the bot's own `docker run` arguments). */
function floorScript(tier: EngineTier): string {
  const pool = readFileSync(tier.secrets.files.pool);
  const token = readFileSync(tier.secrets.files.token, 'utf8').trim();
  const settings = {
    runnerDir: tier.runnerDir,
    dockerNetwork: NETWORK,
    runnerImage: tier.images.runner,
    delegateImage: tier.images.delegate,
    delegateName: DELEGATE,
    delegateTags: '',
    accountId: 'XxRn14tYSUKILSe3XU0R8w',
    managerUrl: 'https://app.harness.io',
  } as SetupSettings;
  const envFile = join(tier.runnerDir, '..', 'delegate.env');
  const runner = runnerSpec(settings, createHash('sha256').update(pool).digest('hex'));
  const delegate = delegateSpec(settings, token, envFile);
  const write = (path: string, content: string | Buffer) =>
    `(umask 077; printf '%s' ${quote(Buffer.from(content).toString('base64'))} | base64 -d > ${quote(path)})`;
  const root = [
    'set -e',
    "docker info --format '{{.ServerVersion}}' >/dev/null",
    `mkdir -p ${quote(tier.runnerDir)}`,
    write(join(tier.runnerDir, 'pool.yml'), pool),
    `docker network create ${quote(NETWORK)} >/dev/null`,
    `docker pull -q ${quote(runner.image)} >/dev/null`,
    `docker run ${command(...runner.args)} >/dev/null`,
    'until curl -fs --max-time 2 127.0.0.1:3000/healthz >/dev/null; do sleep 0.1; done',
    `docker pull -q ${quote(delegate.image)} >/dev/null`,
    write(envFile, envFileContent(delegateEnv(settings, token))),
    `docker run ${command(...delegate.args)} >/dev/null; rm -f ${quote(envFile)}`,
    `until docker exec ${quote(DELEGATE)} curl -fs localhost:3460/api/health >/dev/null; do sleep 0.1; done`,
  ].join('\n');
  return `sudo -n sh -c ${quote(root)}\n`;
}

/** 10a, then 10b and issue 16's upgrade figure on the same tier. */
export async function realEngineBench(): Promise<{ results: unknown; goals: GoalRow[] }> {
  const tier = await startEngineTier({ compiledCli: join(buildProduct(), 'src', 'cli.js') });
  try {
    const whole = await wholeProcess(tier);
    const pullAhead = await pullAheadBench(tier);
    const upgradeGap = await upgradeGapBench(tier);
    const fullLog = await fullLogBench(tier);
    return {
      results: {
        ...whole.results,
        pullAhead: pullAhead.results,
        upgradeGap: upgradeGap.results,
        fullLog: fullLog.results,
      },
      goals: [...whole.goals, ...pullAhead.goals, ...upgradeGap.goals, ...fullLog.goals],
    };
  } finally {
    await tier.stop();
  }
}

async function wholeProcess(tier: EngineTier): Promise<{ results: RealEngineResults; goals: GoalRow[] }> {
  const count = size(2, 8);
  const target = {
    host: '127.0.0.1',
    port: tier.vm.port,
    user: tier.vm.user,
    keyFile: tier.secrets.files.sshKey,
    knownHostsFile: tier.vm.knownHostsFile,
  };
  const bare = () => tier.reset();
  const healthy = () => {
    for (const name of ['vm-runner', DELEGATE])
      if (tier.inspect(name, '{{.State.Status}}') !== 'running') throw new Error(`${name} is not running`);
  };
  async function botRun(): Promise<number> {
    bare();
    const run = await tier.cli('setup', ['--yes']);
    if (run.code !== 0) throw new Error(`setup exited ${run.code}:\n${run.output}`);
    healthy();
    return run.ms;
  }
  async function floorRun(): Promise<number> {
    bare();
    const { ms } = await runOverSsh(target, floorScript(tier));
    healthy();
    return ms;
  }
  // Warm-up (not counted): the first pulls and the first docker runs of this engine.
  await botRun();
  await floorRun();
  const [bot, floor] = await alternate(count, botRun, floorRun);
  const botMs = summarize(bot);
  const floorMs = summarize(floor);
  const results: RealEngineResults = {
    samples: count,
    botMs,
    floorMs,
    ratio: botMs.p50 / floorMs.p50,
    overheadMsPerRun: botMs.p50 - floorMs.p50,
    notes: [
      'bot: `gitspaces-bot setup --host 127.0.0.1 --port … --user gitspaces --known-hosts … --yes`, the compiled CLI in its own Node process, timed from spawn to exit.',
      'floor: one `ssh` running one `sudo -n sh -c` script: docker info, the pool file, network create, pull + run of each image with the bot’s own arguments, health polled every 100 ms.',
      'Real engine: Debian docker.io (a dockerd of the bench’s own), the stand-in runner and delegate images (busybox, ~2 MB each) from docker-registry on loopback.',
    ],
  };
  const goals = [
    row(
      '10a',
      'real engine: `gitspaces-bot setup --yes` as a process, bare → healthy, vs one-script floor',
      '≤ 1.1× floor',
      `bot p50 ${fmt(botMs.p50, 0)} ms vs floor p50 ${fmt(floorMs.p50, 0)} ms → ${fmt(results.ratio, 2)}×; overhead ${fmt(results.overheadMsPerRun, 0)} ms per run, n=${count} each`,
      results.ratio <= 1.1,
    ),
  ];
  return { results, goals };
}
