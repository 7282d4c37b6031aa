/**
 * The watch against the test VM (real sshd as a non-root sudo user, the Docker stand-in): probes read what is
 * live and tell the VM's channel, through the `slack` queue and the fake Web API, only what changed.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { silentLog } from '../../src/log.js';
import { createWorkerConnection } from '../../src/queue/redis.js';
import type { RunRecord, RunTarget } from '../../src/queue/types.js';
import type { ConnectOptions } from '../../src/setup/ports.js';
import { watchNoticeMessage } from '../../src/slack/blocks/watch-notice.js';
import { createSlackDelivery, type SlackDelivery } from '../../src/slack/delivery/slack-delivery.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { watchLookWith } from '../../src/vm-actions.js';
import { type ProbeDeps, probeWatched } from '../../src/watch/probe-job.js';
import { createWatchSchedule } from '../../src/watch/watch-queue.js';
import { createWatchStore, type WatchStore } from '../../src/watch/watch-store.js';
import { type RunningWatch, startWatchWorker } from '../../src/watch/watch-worker.js';
import { startTestVm, type TestVm } from '../support/engine-vm.js';
import { type FakeSlack, startFakeSlack } from '../support/fake-slack.js';
import { openQueueHarness, type QueueHarness } from '../support/queue-harness.js';
import {
  type TestVmInfo,
  testVmAdapters,
  testVmEnv,
  testVmInfo,
  testVmSettings,
} from '../support/queue-test-vm.js';
import { spawnWorker } from '../support/queue-worker-process.js';
import { until } from '../support/slack-app-harness.js';
import { slackJobsIdle } from '../support/slack-jobs.js';

const CHANNEL = 'C0WATCH';
let vm: TestVm;
let info: TestVmInfo;
let slack: FakeSlack;
let q: QueueHarness;
let delivery: SlackDelivery;
let store: WatchStore;

beforeAll(async () => {
  vm = await startTestVm();
  info = testVmInfo(vm);
  slack = await startFakeSlack();
});
afterAll(async () => {
  await vm?.stop();
  await slack?.close();
});
beforeEach(async () => {
  vm.resetDocker();
  const { result } = await vm.run();
  expect(result.state, `${result.step}: ${result.error?.code} ${result.error?.message}`).toBe('succeeded');
  slack.messages.splice(0);
  slack.calls.splice(0);
  q = await openQueueHarness({
    env: { ...testVmEnv(info), SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_API_URL: slack.url },
  });
  delivery = createSlackDelivery(q.config, { redis: q.redis, runs: q.runs });
  store = createWatchStore(q.redis, q.prefix);
  await store.watch({
    vm: 'vm-1',
    project: undefined,
    zone: undefined,
    channel: CHANNEL,
    requester: 'U0REQ',
    runId: 'run-1',
    messageTs: '1700000000.000100',
    kind: 'setup',
    images: { runner: 'drone/drone-runner-aws:latest', delegate: vm.settings().delegateImage },
    delegateName: undefined,
    tags: undefined,
    since: Date.now(),
  });
});
afterEach(async () => {
  await delivery?.close();
  await q?.close();
});

function probeDeps(): ProbeDeps {
  const settings = (target: RunTarget) =>
    testVmSettings(q.config, info)({ target, delegateName: undefined, tags: undefined } as RunRecord);
  return {
    store,
    redis: q.redis,
    prefix: q.prefix,
    network: 'harness',
    look: watchLookWith(q.config, { adapters: testVmAdapters(info), settings }),
    notify: (channel, notice, id) => delivery.notice(channel, watchNoticeMessage(notice), id),
    now: Date.now,
  };
}

let probes = 0;
/** One probe as a job would run it, then whatever it asked Slack for is delivered. */
async function probe(): Promise<string> {
  const health = await probeWatched(probeDeps(), 'vm-1', `probe-${probes++}`);
  await slackJobsIdle(q.redis, q.prefix);
  return health;
}

/**
 * Notices in the channel about health (the delegate image's age is told once as well, and the disk of this
 * machine when it is nearly full; left aside here).
 */
const healthNotices = () =>
  slack.messages.filter(
    (m) =>
      m.channel === CHANNEL &&
      m.threadTs === undefined &&
      !/months old|nearly full|start at boot|started it again/.test(m.text),
  );
const logins = () => (vm.sshd.log().match(/Accepted publickey/g) ?? []).length;

describe('keeping watch over a VM', () => {
  it('tells the channel once when the delegate stops, with its log tail and Repair, and once when it is back', async () => {
    expect(await probe()).toBe('healthy');
    expect(healthNotices()).toEqual([]);
    vm.docker(['stop', 'vm-1-delegate']);
    expect(await probe()).toBe('unhealthy');
    const [notice, ...more] = healthNotices();
    expect(more).toEqual([]);
    expect(notice?.text).toMatch(/^vm-1 is unhealthy: delegate vm-1-delegate exited \(\d+\)/);
    const blocks = JSON.stringify(notice?.blocks);
    expect(blocks).toContain('last log lines of vm-1-delegate');
    expect(notice?.blocks.at(-1)).toMatchObject({
      type: 'actions',
      elements: [{ type: 'button', action_id: 'watch_repair', value: 'vm-1' }],
    });
    expect(await probe()).toBe('unhealthy');
    expect(healthNotices()).toHaveLength(1);
    vm.docker(['start', 'vm-1-delegate']);
    expect(await probe()).toBe('healthy');
    expect(healthNotices().map((m) => m.text)).toEqual([notice?.text, 'vm-1 is healthy again']);
    expect((await store.get('vm-1'))?.probe?.health).toBe('healthy');
  });

  // A token Harness does not know stops the delegate answering; a revoked one freezes it, still answering. The
  // stand-in's delegate logs either at a start; a real one logs a revocation whenever Harness makes it.
  it.each([
    {
      knob: 'FAKE_DOCKER_UNHEALTHY',
      answers: false,
      logged: 'Delegate used invalid token',
      said: 'Harness refuses its token (not a token of this account, or deleted): put a valid token in DELEGATE_TOKEN_SECRET and run setup again',
    },
    {
      knob: 'FAKE_DOCKER_REVOKED',
      answers: true,
      logged: 'Delegate used revoked token',
      said: 'Harness revoked its token, so it is frozen and takes no tasks: create a delegate token in Harness (Account Settings → Account Resources → Delegates → Tokens), put it in DELEGATE_TOKEN_SECRET and run setup again',
    },
  ])("says when Harness refuses the delegate's token ($knob), and how to fix it, with Repair", async (c) => {
    expect(await probe()).toBe('healthy');
    const knobs = { [c.knob]: 'vm-1-delegate' };
    await vm.sshd.setDockerEnv(knobs);
    try {
      vm.docker(['restart', 'vm-1-delegate'], knobs);
      const health = () =>
        vm.docker(['exec', 'vm-1-delegate', 'curl', '-fs', 'localhost:3460/api/health'], knobs);
      if (c.answers) expect(health()).toContain('healthy');
      else expect(health).toThrow();
      expect(await probe()).toBe('unhealthy');
      const [notice, ...more] = healthNotices();
      expect(more).toEqual([]);
      expect(notice?.text).toContain(`delegate vm-1-delegate is running but ${c.said}`);
      expect(JSON.stringify(notice?.blocks)).toContain(c.logged);
      expect(JSON.stringify(notice?.blocks)).toContain('watch_repair');
    } finally {
      await vm.sshd.setDockerEnv({});
    }
  });

  it('tells the channel once when the runner fails to create Gitspace VMs, though its /healthz says OK', async () => {
    expect(await probe()).toBe('healthy');
    // Google refuses the runner new VMs for a used-up quota: it logs the error and goes on answering /healthz.
    vm.docker(['restart', 'vm-runner'], { FAKE_DOCKER_QUOTA: 'vm-runner' });
    const told = () => slack.messages.filter((m) => m.channel === CHANNEL && /vm-runner logged/.test(m.text));
    expect(await probe()).toBe('healthy');
    expect(told().map((m) => m.text)).toEqual([
      "vm-1: vm-runner logged an error in the last hour, so new Gitspaces may fail to start; the last: google: failed to provision VM: googleapi: Error 403: Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1., quotaExceeded: a Compute Engine quota of the project is used up: raise it (IAM & Admin → Quotas) or lower the pool's size in the pool file; its log: `/gitspaces logs vm-1 runner 300`",
    ]);
    expect(await probe()).toBe('healthy');
    expect(told()).toHaveLength(1);
  });

  it('tells the channel once when the disk Docker keeps its data on is nearly full, and how to free it', async () => {
    const small = mkdtempSync(join(tmpdir(), 'gsb-disk-'));
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=10m', 'tmpfs', small]);
    try {
      // 9.5 of 10 MB taken: df rounds the use up to 96%.
      writeFileSync(join(small, 'images'), Buffer.alloc(9.5 * 1024 * 1024));
      await vm.sshd.setDockerEnv({ FAKE_DOCKER_ROOT_DIR: small });
      expect(await probe()).toBe('healthy');
      expect(await probe()).toBe('healthy');
      const disk = slack.messages.filter((m) => m.channel === CHANNEL && /disk/.test(m.text));
      expect(disk).toHaveLength(1);
      expect(disk[0]?.text).toMatch(
        new RegExp(
          `^vm-1: the disk is nearly full, 9\\d% used, \\d+ MB free \\(${small} holds Docker's ${small}\\)`,
        ),
      );
      expect(disk[0]?.text).toContain('sudo docker system df');
      expect(JSON.stringify(disk[0]?.blocks)).not.toContain('watch_repair');
    } finally {
      await vm.sshd.setDockerEnv({});
      execFileSync('umount', [small]);
      rmSync(small, { recursive: true, force: true });
    }
  });

  it('tells the channel once that Docker would not come back after a restart, with Repair', async () => {
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_AT_BOOT: 'disabled' });
    try {
      expect(await probe()).toBe('healthy');
      expect(await probe()).toBe('healthy');
      const boot = slack.messages.filter((m) => m.channel === CHANNEL && /start at boot/.test(m.text));
      expect(boot).toHaveLength(1);
      expect(boot[0]?.text).toContain(
        'vm-1: Docker does not start at boot (docker.service is disabled): after the VM restarts, the runner and the delegate stay down',
      );
      expect(JSON.stringify(boot[0]?.blocks)).toContain('watch_repair');
    } finally {
      await vm.sshd.setDockerEnv({});
    }
  });

  it('tells the channel when the runner exited by itself and Docker started it again between probes', async () => {
    expect(await probe()).toBe('healthy');
    // The runner dies at a start without its pool file, and its restart policy keeps starting it until it is back.
    const pool = join(vm.runnerDir, 'pool.yml');
    renameSync(pool, `${pool}.away`);
    vm.docker(['restart', 'vm-runner']);
    renameSync(`${pool}.away`, pool);
    expect(await probe()).toBe('healthy');
    const restarted = slack.messages.filter((m) => m.channel === CHANNEL && /started it again/.test(m.text));
    expect(restarted).toHaveLength(1);
    expect(restarted[0]?.text).toMatch(
      /^vm-1: runner vm-runner exited by itself and Docker started it again, once in the last \d+ min; it runs now/,
    );
    expect(restarted[0]?.text).toContain('/gitspaces logs vm-1 runner 300');
    // Docker's events tell the exits: the restart by hand (0), then the start without its pool file (1).
    expect(restarted[0]?.text).toContain('(exited twice in the last 24 h; last exit code 1)');
    expect(await probe()).toBe('healthy');
    expect(slack.messages.filter((m) => /started it again/.test(m.text))).toHaveLength(1);
  });

  it('tells nothing while muted, and what changed once unmuted', async () => {
    expect(await probe()).toBe('healthy');
    await store.mute('vm-1', Date.now() + 3600_000);
    vm.docker(['stop', 'vm-1-delegate']);
    expect(await probe()).toBe('unhealthy');
    expect(healthNotices()).toEqual([]);
    await store.mute('vm-1', undefined);
    expect(await probe()).toBe('unhealthy');
    expect(healthNotices()).toHaveLength(1);
  });

  it('says it could not probe, apart from unhealthy, when SSH is refused', async () => {
    const deps = probeDeps();
    const refused = { ...deps, look: () => Promise.reject(new Error('connect ECONNREFUSED 10.0.0.7:22')) };
    expect(await probeWatched(refused, 'vm-1', 'probe-refused')).toBe('unreachable');
    await slackJobsIdle(q.redis, q.prefix);
    expect(healthNotices().map((m) => m.text)).toEqual([
      'could not probe vm-1: connect ECONNREFUSED 10.0.0.7:22',
    ]);
  });

  it('says a VM Google no longer has is gone, with how to stop watching it, not to check its name', async () => {
    await store.watch({ ...(await store.get('vm-1'))!.vm, project: 'acme-prod', zone: 'us-central1-a' });
    const gone = new GitspacesError(
      'VM_NOT_FOUND',
      'There is no VM named vm-1 in project acme-prod, zone us-central1-a. Check the name, GCP_PROJECT and GCP_ZONE.',
    );
    const deps = { ...probeDeps(), look: () => Promise.reject(gone) };
    expect(await probeWatched(deps, 'vm-1', 'probe-gone')).toBe('unreachable');
    await slackJobsIdle(q.redis, q.prefix);
    expect(healthNotices().map((m) => m.text)).toEqual([
      'could not probe vm-1: Google has no VM named vm-1 in project acme-prod, zone us-central1-a any more: if it was deleted, `/gitspaces forget vm-1` stops watching it',
    ]);
  });

  it('reads the guest attributes once and reuses the pinned keys at later probes', async () => {
    let keyReads = 0;
    const adapters = testVmAdapters(info);
    const counting = {
      ...adapters,
      vms: {
        locate: async (...args: Parameters<typeof adapters.vms.locate>) => {
          if (args[1]?.hostKeys) keyReads++;
          return adapters.vms.locate(...args);
        },
      },
    };
    const config = { ...q.config, ssh: { ...q.config.ssh, hostKeyPolicy: 'guest-attributes' as const } };
    const settings = (target: RunTarget) =>
      testVmSettings(q.config, info)({ target, delegateName: undefined, tags: undefined } as RunRecord);
    const deps = { ...probeDeps(), look: watchLookWith(config, { adapters: counting, settings }) };
    for (let i = 0; i < 3; i++) expect(await probeWatched(deps, 'vm-1', `keys-${i}`)).toBe('healthy');
    expect(keyReads).toBe(1);
  });

  it('logs in as the user OS Login gave it, found at the first probe and tried first at the next ones', async () => {
    // SSH_USER is one the VM refuses; the bot's key is in an OS Login profile whose POSIX user the VM knows.
    const tried: string[] = [];
    let lookups = 0;
    const adapters = testVmAdapters(info);
    const parts = {
      ...adapters,
      connect: (options: ConnectOptions) => {
        tried.push(options.user);
        return connectSsh(options);
      },
      keys: {
        letIn: async () => {
          lookups++;
          return { how: 'present' as const, user: info.sshUser, place: 'the OS Login profile of bot@acme' };
        },
      },
    };
    const settings = (target: RunTarget) => ({
      ...testVmSettings(q.config, info)({ target, delegateName: undefined, tags: undefined } as RunRecord),
      sshUser: 'gitspaces-nobody',
    });
    const deps = { ...probeDeps(), look: watchLookWith(q.config, { adapters: parts, settings }) };
    for (let i = 0; i < 3; i++) expect(await probeWatched(deps, 'vm-1', `os-login-${i}`)).toBe('healthy');
    expect(tried).toEqual(['gitspaces-nobody', info.sshUser, info.sshUser, info.sshUser]);
    expect(lookups).toBe(1);
    expect((await store.get('vm-1'))?.sshUser).toBe(info.sshUser);
  });

  it('probes each VM once per interval with two workers, never twice at once, and a forgotten VM no more', async () => {
    const intervalMs = 2000;
    // How late a worker may take up a due probe on a loaded machine.
    const slackMs = 1000;
    const spans: Array<[number, number]> = [];
    const deps = probeDeps();
    const timed = {
      ...deps,
      look: async (entry: Parameters<ProbeDeps['look']>[0]) => {
        const start = Date.now();
        try {
          return await deps.look(entry);
        } finally {
          spans.push([start, Date.now()]);
        }
      },
    };
    const workers: RunningWatch[] = [];
    for (let i = 0; i < 2; i++)
      workers.push(
        await startWatchWorker({
          ...timed,
          workerConnection: () => createWorkerConnection(q.config, { onError: () => undefined }),
          intervalMs,
          log: silentLog,
        }),
      );
    const before = logins();
    const schedule = createWatchSchedule(q.redis, q.prefix, intervalMs);
    const started = Date.now();
    await schedule.schedule('vm-1');
    await new Promise((resolve) => setTimeout(resolve, 6 * intervalMs + 500));
    const elapsed = Date.now() - started;
    await schedule.unschedule('vm-1');
    await store.forget('vm-1');
    const forgotten = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 2 * intervalMs));
    for (const w of workers) await w.close();
    await schedule.close();
    const intervals = Math.floor(elapsed / intervalMs) + 1;
    const sorted = [...spans].sort((a, b) => a[0] - b[0]);
    const shown = sorted.map(([start, end]) => `+${start - started}ms for ${end - start}ms`).join(', ');
    // At most one probe per interval, and never two at once.
    expect(spans.length, shown).toBeLessThanOrEqual(intervals);
    for (let i = 1; i < sorted.length; i++)
      expect(sorted[i]?.[0], shown).toBeGreaterThanOrEqual(sorted[i - 1]?.[1] ?? 0);
    // No interval lost: a firing is skipped only while a probe still runs (a slow machine makes probes longer
    // than the interval), so no gap between probes, nor before the first or after the last, is much longer.
    const ends = [started, ...sorted.map(([, end]) => end)];
    const starts = [...sorted.map(([start]) => start), started + elapsed];
    const gaps = starts.map((start, i) => start - (ends[i] as number));
    expect(spans.length, shown).toBeGreaterThanOrEqual(2);
    expect(Math.max(...gaps), shown).toBeLessThan(intervalMs + slackMs);
    expect(spans.every(([start]) => start < forgotten)).toBe(true);
    expect(logins() - before).toBe(spans.length);
  });

  it('probes again at a later interval after a worker is killed mid-probe', async () => {
    const intervalMs = 4000;
    // Each docker call on the VM takes 1.5 s: a probe (several calls) is long enough to be killed in.
    await vm.sshd.setDockerEnv({ FAKE_DOCKER_DELAY_MS: '1500' });
    const killed = await spawnWorker({ prefix: q.prefix, info, intervalMs }, 'watch-worker-child.ts');
    const schedule = createWatchSchedule(q.redis, q.prefix, intervalMs);
    const before = logins();
    await schedule.schedule('vm-1');
    await until('a probe logged in', async () => logins() > before, 10_000);
    await killed.kill();
    const killedAt = Date.now();
    await vm.sshd.setDockerEnv({});
    expect((await store.get('vm-1'))?.probe).toBeUndefined();
    const worker = await startWatchWorker({
      ...probeDeps(),
      workerConnection: () => createWorkerConnection(q.config, { onError: () => undefined }),
      intervalMs,
      log: silentLog,
    });
    try {
      const probed = await until(
        'a probe after the kill',
        async () => {
          const at = (await store.get('vm-1'))?.probe?.at;
          return at !== undefined && at > killedAt ? at : undefined;
        },
        4 * intervalMs,
      );
      // The killed probe's lease lapses within 5 s; the interval after that probes.
      expect(probed - killedAt).toBeLessThan(5000 + 2 * intervalMs);
      expect((await store.get('vm-1'))?.probe?.health).toBe('healthy');
    } finally {
      await schedule.unschedule('vm-1');
      await schedule.close();
      await worker.close();
    }
  });
});
