/**
 * One fleet scenario end to end. The world (fake Slack with its rate limits, fake Google APIs, the emulated
 * VMs, an approver who clicks at once) lives in this process; the bot is the compiled product in processes
 * of its own, exactly as deployed: one `gitspaces-bot app` and N `gitspaces-bot worker`. Nothing in the bot
 * is hooked: timings come from Slack's side, the run records in Redis, the VMs' open SSH connections, /proc.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { createRunStore } from '../../src/queue/run-store.js';
import type { RunRecord } from '../../src/queue/types.js';
import { startFakeSlack } from '../../test/support/fake-slack.js';
import { sendCommand } from '../../test/support/slack-request.js';
import { type BotProcess, startBot } from '../lib/bot-process.js';
import { now, until } from '../lib/clock.js';
import { SKIP_SETTLE, size } from '../lib/mode.js';
import { benchPrefix, dropPrefix, REDIS_URL } from '../lib/redis-prefix.js';
import { SlackWatch } from '../lib/slack-watch.js';
import { type Summary, summarize } from '../lib/stats.js';
import { startClicker } from './clicker.js';
import { measureRunRecords, type RecordMemory } from './record-memory.js';
import { auditRuns, type CallCounts, countCalls } from './slack-audit.js';
import type { VmFleet } from './vm-fleet.js';

const DUMP_DIR = join(import.meta.dirname, '..', 'tmp');
const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const BOT_TOKEN = 'xoxb-bench';
/** APPROVAL_TTL's default: the request's expiry minus this is when the engine asked. */
const APPROVAL_TTL_MS = 24 * 3_600_000;
/** Slack is taken as final once it has had no call for this long (longer than chat.update's minute). */
const QUIET_MS = size(20_000, 75_000);

export interface PhaseSpec {
  name: string;
  /** Indexes into the fleet's VMs. */
  vms: number;
  channels: number;
  workers: number;
  concurrency: number;
  /** Added to every command on the VMs. */
  delayMs: number;
  /** One channel's command at a time, each waiting for its runs to end (the single-run baseline). */
  sequential?: boolean;
  /** End the phase once the worker has driven `concurrency` runs at once for a while (memory). */
  untilFull?: boolean;
  /** Do not wait for Slack to show every run final once the runs have ended. */
  skipSettle?: boolean;
  settleTimeoutMs: number;
  measureRedis?: boolean;
}

export interface ProcessUse {
  idleRssMb: number;
  peakRssMb: number;
  /** Highest RSS while `concurrency` runs were in their steps at once (undefined: never). */
  rssAtFullMb: number | undefined;
  cpuMs: number;
}

export interface PhaseResult {
  name: string;
  runs: number;
  channels: number;
  workers: number;
  concurrency: number;
  delayMs: number;
  states: Record<string, number>;
  /** First command → last run ended. */
  wallMs: number;
  /** First command → Slack showing every run's final messages; undefined when it never did. */
  settledMs: number | undefined;
  runMs: Summary;
  commandAckMs: Summary;
  /** The engine asks for approval → the request arrives at Slack. */
  approvalPostDelayMs: Summary;
  /** Click sent → the approval step recorded done (the delegate step starts right after). */
  clickToActionMs: Summary;
  clickAckMs: Summary;
  maxActive: number;
  samplesAtFull: number;
  calls: CallCounts;
  callsPerSucceededRun: number;
  okCallsPerSucceededRun: number;
  problems: string[];
  workerUse: ProcessUse[];
  appUse: ProcessUse;
  redis: RecordMemory | undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface FleetWorld {
  fleet: VmFleet;
  googleUrl: string;
}

function botEnv(
  world: FleetWorld,
  prefix: string,
  slackUrl: string,
  concurrency: number,
): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: BOT_TOKEN,
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_API_URL: slackUrl,
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WORKER_CONCURRENCY: String(concurrency),
    GCP_PROJECT: 'acme-gitspaces',
    GCP_ZONE: 'us-central1-a',
    COMPUTE_API_URL: world.googleUrl,
    SECRET_MANAGER_API_URL: world.googleUrl,
    POOL_SECRET: 'pool',
    DELEGATE_TOKEN_SECRET: 'delegate-token',
    SSH_KEY_SECRET: 'ssh-key',
    SSH_USER: 'root',
    SSH_PORT: String(world.fleet.port),
    HARNESS_ACCOUNT_ID: 'XxRn14tYSUKILSe3XU0R8w',
    APPROVERS: 'U0APP',
  };
}

export async function runPhase(world: FleetWorld, spec: PhaseSpec): Promise<PhaseResult> {
  const { fleet } = world;
  fleet.reset(spec.delayMs);
  const servers = fleet.servers.slice(0, spec.vms);
  const vmNames = fleet.vms.slice(0, spec.vms).map((vm) => vm.name);
  const prefix = benchPrefix(spec.name);
  const slack = await startFakeSlack({ token: BOT_TOKEN, rateLimits: true });
  const watch = new SlackWatch(slack);
  const env = botEnv(world, prefix, slack.url, spec.concurrency);
  const redis = new Redis(REDIS_URL);
  const store = createRunStore(redis, prefix);
  const bots: BotProcess[] = [];
  const samples: Array<{ at: number; active: number; rss: number[] }> = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    const appPort = await freePort();
    const app = await startBot('app', { ...env, PORT: String(appPort) }, `${spec.name}-app`);
    bots.push(app);
    const workers: BotProcess[] = [];
    for (let i = 0; i < spec.workers; i++)
      workers.push(await startBot('worker', env, `${spec.name}-worker-${i}`));
    bots.push(...workers);
    const idle = bots.map((b) => b.rssBytes());
    sampler = setInterval(() => {
      const active = servers.reduce((n, s) => n + s.openConnections(), 0);
      samples.push({ at: now(), active, rss: bots.map((b) => b.rssBytes()) });
    }, 100);

    const target = { url: `http://127.0.0.1:${appPort}/slack/events`, signingSecret: SIGNING_SECRET };
    const clicks = startClicker(slack, watch, target, 'U0APP');
    const groups = Array.from({ length: spec.channels }, (_, c) =>
      vmNames.filter((_, i) => i % spec.channels === c),
    );
    const sentAt = new Map<string, number>();
    const acks: number[] = [];
    const records = new Map<string, RunRecord>();
    const full = () => samples.filter((s) => s.active >= spec.concurrency * spec.workers).length;

    async function command(c: number, vms: string[]): Promise<void> {
      const at = now();
      for (const vm of vms) sentAt.set(vm, at);
      const response = await sendCommand(target, {
        text: `setup ${vms.join(' ')}`,
        channel: `C0FLEET${c}`,
        user: 'U0REQ',
        responseUrl: slack.responseUrl(`command-${c}`),
      });
      await response.text();
      acks.push(now() - at);
      if (response.status !== 200) throw new Error(`setup in C0FLEET${c} answered ${response.status}`);
    }

    async function refresh(): Promise<number> {
      const ids = await redis.zrange(store.keys.allRuns, '0', '-1');
      for (const id of ids) {
        if (records.get(id)?.finishedAt !== undefined) continue;
        const run = await store.get(id);
        if (run) records.set(id, run);
      }
      return [...records.values()].filter((r) => r.finishedAt !== undefined).length;
    }

    const t0 = now();
    if (spec.sequential) {
      for (const [c, vms] of groups.entries()) {
        await command(c, vms);
        const goal = records.size + vms.length;
        await until(`${goal} runs to end`, async () => (await refresh()) >= goal, spec.settleTimeoutMs, 100);
      }
    } else {
      await Promise.all(groups.map((vms, c) => command(c, vms)));
      await until(
        spec.untilFull ? 'the worker to drive every run at once' : `${spec.vms} runs to end`,
        async () => (spec.untilFull ? full() >= 20 : (await refresh()) >= spec.vms),
        spec.settleTimeoutMs,
        250,
      );
    }
    await refresh();
    const runs = [...records.values()];
    const finished = runs.filter((r) => r.finishedAt !== undefined);
    const wallMs = Math.max(...finished.map((r) => r.finishedAt as number)) - t0;
    let settledMs: number | undefined;
    if (!spec.untilFull && !spec.skipSettle && !SKIP_SETTLE) {
      await until(
        'Slack to show every run final, or to go quiet',
        () => {
          if (auditRuns(slack, runs).length === 0) {
            settledMs = now() - t0;
            return true;
          }
          const last = watch.calls.at(-1)?.at ?? t0;
          return now() - last > QUIET_MS;
        },
        spec.settleTimeoutMs,
        500,
      ).catch(() => undefined);
    }
    clearInterval(sampler);
    if (process.env.BENCH_PHASES) dumpPhase(spec.name, t0, runs, watch, clicks, samples);
    const calls = countCalls(slack);
    const succeeded = runs.filter((r) => r.state === 'succeeded').length;
    const perRun = (f: (run: RunRecord) => number) => summarize(runs.map(f).filter(Number.isFinite));
    const clickOf = (run: RunRecord) => clicks.find((c) => c.runId === run.id);
    const approvedAt = (run: RunRecord) =>
      run.audit.find((a) => a.event === 'step' && a.step === 'approval' && a.detail?.startsWith('done'))
        ?.at ?? Number.NaN;
    const use = (i: number): ProcessUse => {
      const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
      const atFull = samples
        .filter((s) => s.active >= spec.concurrency * spec.workers)
        .map((s) => s.rss[i] ?? 0);
      return {
        idleRssMb: mb(idle[i] ?? 0),
        peakRssMb: mb(Math.max(0, ...samples.map((s) => s.rss[i] ?? 0))),
        rssAtFullMb: atFull.length === 0 ? undefined : mb(Math.max(...atFull)),
        cpuMs: bots[i]?.cpuMs() ?? 0,
      };
    };
    return {
      name: spec.name,
      runs: runs.length,
      channels: spec.channels,
      workers: spec.workers,
      concurrency: spec.concurrency,
      delayMs: spec.delayMs,
      states: countStates(runs),
      wallMs,
      settledMs,
      runMs: perRun((r) => (r.finishedAt ?? Number.NaN) - (sentAt.get(r.target.vm) ?? Number.NaN)),
      commandAckMs: summarize(acks),
      approvalPostDelayMs: perRun(
        (r) => (clickOf(r)?.postedAt ?? Number.NaN) - ((r.approvalExpiresAt ?? Number.NaN) - APPROVAL_TTL_MS),
      ),
      clickToActionMs: perRun((r) => approvedAt(r) - (clickOf(r)?.sentAt ?? Number.NaN)),
      clickAckMs: summarize(clicks.map((c) => c.ackMs).filter(Number.isFinite)),
      maxActive: Math.max(0, ...samples.map((s) => s.active)),
      samplesAtFull: full(),
      calls,
      callsPerSucceededRun: calls.total / Math.max(1, succeeded),
      okCallsPerSucceededRun: calls.ok / Math.max(1, succeeded),
      problems: spec.untilFull || spec.skipSettle ? [] : auditRuns(slack, runs).slice(0, 20),
      workerUse: workers.map((_, i) => use(i + 1)),
      appUse: use(0),
      redis: spec.measureRedis ? await measureRunRecords(redis, store.keys, finished) : undefined,
    };
  } finally {
    clearInterval(sampler);
    // Workers first: they stop taking jobs before what they report through goes away.
    await Promise.all(bots.slice(1).map((b) => b.stop()));
    await bots[0]?.stop();
    await slack.close();
    redis.disconnect();
    await dropPrefix(prefix);
  }
}

/** A `BENCH_PHASES` run keeps each run's record and every Slack call, to look into where time went. */
function dumpPhase(
  name: string,
  t0: number,
  runs: RunRecord[],
  watch: SlackWatch,
  clicks: unknown[],
  samples: unknown[],
) {
  mkdirSync(DUMP_DIR, { recursive: true });
  const file = join(DUMP_DIR, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      t0: Date.now() - (now() - t0),
      runs,
      calls: watch.calls.map((c) => ({
        at: c.at - t0,
        method: c.method,
        channel: c.args.channel,
        ts: c.args.ts,
        thread: c.args.thread_ts,
        text: typeof c.args.text === 'string' ? c.args.text.slice(0, 80) : undefined,
        status: c.status,
      })),
      clicks,
      samples,
    }),
  );
  process.stdout.write(`    runs and calls in ${file}\n`);
}

function countStates(runs: RunRecord[]): Record<string, number> {
  const states: Record<string, number> = {};
  for (const run of runs) states[run.state] = (states[run.state] ?? 0) + 1;
  return states;
}
