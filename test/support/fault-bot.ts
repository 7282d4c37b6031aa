/**
 * The whole bot against a fleet of test VMs: the real Bolt app (signed requests), the real queue and run
 * records on a Redis of the test's choosing, setup workers (in this process, or in child processes that a
 * test can SIGKILL) with Slack reporters writing to the fake Web API, and every log line kept in memory or
 * in files. Helpers read what a person in Slack would see.
 */

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { type RunningWorker, startWorker, type WorkerTimings } from '../../jobs/setup-worker.js';
import { createLogger, type Logger } from '../../src/log.js';
import { SETUP_QUEUE } from '../../src/queue/run-keys.js';
import type { RunRecord } from '../../src/queue/types.js';
import { STEP_IDS } from '../../src/setup/step-ids.js';
import {
  createSlackDelivery,
  SLACK_QUEUE,
  type SlackDelivery,
} from '../../src/slack/delivery/slack-delivery.js';
import type { FakeMessage } from './fake-slack.js';
import { type Fleet, fleetAdapters, fleetEnv, fleetSettings, tenthClock } from './fault-fleet.js';
import { type FaultWorkerProcess, spawnFaultWorker } from './fault-worker-process.js';
import { BOT_TOKEN, type SlackAppHarness, shown, startSlackAppHarness } from './slack-app-harness.js';
import { slackJobsIdle } from './slack-jobs.js';

export const APPROVERS = 'U0APP,U0APP2,S0OPS';

/** Words in the thread's last reply, by final run state. */
const FINAL_WORDS: Record<string, RegExp> = {
  succeeded: /Setup finished|Everything was already in place/,
  rejected: /Rejected\./,
  expired: /approval request expired/,
  cancelled: /Cancelled\./,
  failed: /Setup failed at `([a-z-]+)`/,
};
const ANY_FINAL =
  /Setup finished|Everything was already in place|Rejected\.|approval request expired|Cancelled\.|Setup failed at/;

export class MemoryLog {
  readonly lines: string[] = [];
  readonly stream = new Writable({
    write: (chunk: Buffer | string, _encoding, done) => {
      this.lines.push(chunk.toString());
      done();
    },
  });
  logger(): Logger {
    return createLogger({ stream: this.stream, pretty: false, level: 'debug' });
  }
  text(): string {
    return this.lines.join('');
  }
}

export interface FaultBotOptions {
  fleet: Fleet;
  redisUrl?: string;
  env?: Record<string, string>;
  usergroups?: Record<string, string[]>;
  timings?: WorkerTimings;
  /**
   * `fleet` (default): the fleet's own VM locator and connector. `google`: the product's Compute and
   * Secret Manager clients, pointed at a stand-in by COMPUTE_API_URL and SECRET_MANAGER_API_URL in `env`.
   */
  engine?: 'fleet' | 'google';
  /** Use this QUEUE_PREFIX (e.g. the one a `serve` process under test uses) instead of a fresh one. */
  prefix?: string;
}

type AnyWorker =
  | { kind: 'in-process'; worker: RunningWorker; delivery: SlackDelivery }
  | { kind: 'child'; process: FaultWorkerProcess };

export class FaultBot {
  h!: SlackAppHarness;
  readonly log = new MemoryLog();
  readonly workers: AnyWorker[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'gsb-faultbot-'));
  private children = 0;

  constructor(private readonly options: FaultBotOptions) {}

  get env(): Record<string, string> {
    return {
      ...(this.options.redisUrl ? { REDIS_URL: this.options.redisUrl } : {}),
      APPROVERS,
      ...fleetEnv(this.options.fleet.info),
      ...this.options.env,
    };
  }

  async open(): Promise<this> {
    // The product's start grace (10 s), not the harness's minute: a run whose parent message was not
    // recorded starts as it would in production.
    this.h = await startSlackAppHarness({
      env: this.env,
      usergroups: this.options.usergroups ?? { S0OPS: ['U0OPS1'] },
      deps: { log: this.log.logger() },
      startGraceMs: 10_000,
      ...(this.options.prefix === undefined ? {} : { prefix: this.options.prefix }),
    });
    // The harness's own queue handle: without a listener BullMQ prints each reconnect error to stderr.
    this.h.queue.queue.on('error', () => undefined);
    return this;
  }

  get slack() {
    return this.h.slack;
  }

  get runs() {
    return this.h.queue.runs;
  }

  /** A worker in this process, as `serve` runs it (its own Slack delivery, which also takes Slack jobs). */
  async startWorker(): Promise<void> {
    const log = this.log.logger();
    const config = this.h.config;
    const delivery = createSlackDelivery(config, { redis: this.h.queue.redis, runs: this.runs, log });
    const worker = await startWorker(config, {
      reporterFor: (run) => delivery.reporterFor(run),
      engine: this.options.engine === 'google' ? {} : fleetAdapters(this.options.fleet.info),
      settings: fleetSettings(config, this.options.fleet.info),
      clock: tenthClock,
      log,
      ...(this.options.timings ? { timings: this.options.timings } : {}),
      closeTimeoutMs: 20_000,
    });
    this.workers.push({ kind: 'in-process', worker, delivery });
  }

  /** A worker in a child process, which `kill()` ends with SIGKILL. */
  async startChildWorker(): Promise<FaultWorkerProcess> {
    this.children += 1;
    const child = await spawnFaultWorker({
      prefix: this.h.queue.prefix,
      env: this.env,
      info: this.options.fleet.info,
      slackApiUrl: this.slack.url,
      botToken: BOT_TOKEN,
      logFile: join(this.dir, `worker-${this.children}.log`),
      timings: this.options.timings ?? { lockDuration: 2000, stalledInterval: 1000 },
    });
    this.workers.push({ kind: 'child', process: child });
    return child;
  }

  /** Resolves once every Slack message asked for so far was delivered. */
  async idle(): Promise<void> {
    await slackJobsIdle(this.h.queue.redis, this.h.queue.prefix);
  }

  /** A run parked at approval (its job delayed) whose request and checklist are in Slack, with nothing left to deliver. */
  async waiting(runId: string): Promise<void> {
    await waitFor(`${runId} to wait for approval`, async () => {
      const run = await this.record(runId);
      return run?.state === 'awaiting-approval' && run.approvalTs !== undefined && this.parentShows(run);
    });
    // Parked: the delegate image is pulled while the request waits, then the job holds no worker.
    await waitFor(
      `${runId} to be parked`,
      async () => (await this.h.queue.queue.getJobState(runId)) === 'delayed',
    );
    await this.idle();
  }

  /** Everything every part of the bot logged so far (this process and the child workers). */
  logs(): string {
    const files = readdirSync(this.dir)
      .filter((f) => f.endsWith('.log'))
      .map((f) => readFileSync(join(this.dir, f), 'utf8'));
    return [this.log.text(), ...files].join('');
  }

  private lastCommandAt = 0;

  command(text: string, user = 'U0REQ', channel = 'C0RUNS') {
    this.lastCommandAt = Date.now();
    return this.h.command(text, { user, channel });
  }

  /** The ids of the runs of these VMs requested since the last command, once each has its record. */
  async runIdsFor(
    vms: string[],
    since = this.lastCommandAt,
    timeoutMs = 60_000,
  ): Promise<Map<string, string>> {
    return waitFor(
      `runs for ${vms.join(', ')}`,
      async () => {
        const recent = await this.runs.recent({ limit: 500 }).catch(() => []);
        const found = new Map<string, string>();
        for (const vm of vms) {
          // Newest first; a second's margin for clocks read in other processes.
          const run = recent.find((r) => r.target.vm === vm && r.createdAt >= since - 1000);
          if (run) found.set(vm, run.id);
        }
        return found.size === vms.length ? found : undefined;
      },
      timeoutMs,
    );
  }

  /** The approval request of a run, as posted in its thread (a copy, as the approver's client shows it). */
  approvalRequest(runId: string): FakeMessage | undefined {
    const found = this.slack.messages.find(
      (m) => m.replyBroadcast && JSON.stringify(m.blocks).includes(`"value":"${runId}"`),
    );
    return found === undefined ? undefined : structuredClone(found);
  }

  /** Approval requests posted in a run's thread (broadcast replies), whatever they show now. */
  approvalRequests(run: RunRecord): FakeMessage[] {
    return this.thread(run).filter((m) => m.replyBroadcast);
  }

  async click(runId: string, actionId: string, user: string) {
    const request = await waitFor(
      `the approval request of ${runId}`,
      async () => this.approvalRequest(runId),
      10_000,
    );
    return this.h.click({
      actionId,
      value: runId,
      user,
      message: { ts: request.ts, text: request.text, blocks: request.blocks },
    });
  }

  /**
   * Approves as a person would: waits for the request, clicks, and clicks again when the bot said its
   * queue was unavailable (Redis away) or nothing came back. Returns how many clicks it took.
   */
  async approve(runId: string, user = 'U0APP', timeoutMs = 120_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (let clicks = 1; Date.now() < deadline; clicks++) {
      // A run that ended without asking (everything in place, or failed) has nothing to approve.
      if ((await this.record(runId))?.finishedAt !== undefined) return 0;
      const answer = await this.click(runId, 'delegate_approve', user).catch(() => undefined);
      if (answer !== undefined && answer.status === 200) {
        const reply = await waitFor(
          'an answer or the decision',
          async () => {
            const said = answer.responses()[0];
            if (said !== undefined) return { said: shown(said) };
            const run = await this.runs.get(runId).catch(() => undefined);
            return run?.decision !== undefined ? { said: '' } : undefined;
          },
          15_000,
        ).catch(() => ({ said: 'no answer' }));
        const run = await this.runs.get(runId).catch(() => undefined);
        if (run?.decision?.kind === 'approved') return clicks;
        if (!/unavailable|no answer/.test(reply.said) && reply.said !== '')
          throw new Error(`approving ${runId} was refused: ${reply.said}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const run = await this.record(runId);
    throw new Error(
      `could not approve ${runId} (${run?.state}; approval request ${run?.approvalTs === undefined ? 'never posted' : `posted at ${run.approvalTs}`})`,
    );
  }

  async record(runId: string): Promise<RunRecord | undefined> {
    return this.runs.get(runId).catch(() => undefined);
  }

  /** Waits until the run record is final and the thread has said how it ended. */
  async finished(runId: string, timeoutMs = 120_000): Promise<RunRecord> {
    const run = await waitFor(
      `run ${runId} to finish`,
      async () => {
        const r = await this.record(runId);
        return r?.finishedAt !== undefined ? r : undefined;
      },
      timeoutMs,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}: ${await this.runReport(runId)}`);
    });
    await waitFor(
      `the thread of ${runId} to say how it ended`,
      async () => this.finalReplies(run).length > 0 && this.parentShows(run),
      // A summary a dead worker was sending waits for its Slack job's lock to lapse and, when Slack may have
      // taken it already, for the grace after a restart; plus a loaded machine's pace.
      120_000,
    ).catch(async (error: unknown) => {
      throw new Error(`${String(error)}: ${await this.deliveryReport(run)}`);
    });
    return run;
  }

  /** Where a run that never ended stands: its record, its setup job in BullMQ and what was logged about it. */
  private async runReport(runId: string): Promise<string> {
    const run = await this.record(runId);
    const redis = this.h.queue.redis;
    const key = `${this.h.queue.prefix}:${SETUP_QUEUE}:${runId}`;
    const job = (await redis.hgetall(key).catch(() => ({}))) as Record<string, string | undefined>;
    const { atm, ats, stc, failedReason, delay, processedOn, finishedOn } = job;
    const lock = await redis.pttl(`${key}:lock`).catch(() => -3);
    const setupQueue = new Queue(SETUP_QUEUE, { connection: redis, prefix: this.h.queue.prefix });
    const state = await setupQueue.getJobState(runId).catch((e: unknown) => `? ${String(e)}`);
    await setupQueue.close().catch(() => undefined);
    return [
      `record ${run?.state ?? 'missing'}; audit: ${run?.audit.map((a) => `${a.event}:${a.step ?? ''}@${a.at}`).join(' ')}`,
      `setup job: ${JSON.stringify({ state, atm, ats, stc, delay, processedOn, finishedOn, failedReason, lockMs: lock })}`,
      `log:\n${this.logs()
        .split('\n')
        .filter((line) => line.includes(runId))
        .slice(-25)
        .join('\n')}`,
    ].join('\n');
  }

  /** What Slack shows of a run, where its delivery jobs stand and what was logged about it: a failure's post-mortem. */
  private async deliveryReport(run: RunRecord): Promise<string> {
    const parent = this.parent(run);
    const redis = this.h.queue.redis;
    const prefix = this.h.queue.prefix;
    const slackQueue = new Queue(SLACK_QUEUE, { connection: redis, prefix });
    const jobs = await Promise.all(
      (['post', 'edit'] as const).map(async (kind) => {
        const id = await redis.get(`${prefix}:slack:de:${kind}-${run.id}`).catch(() => null);
        const job = id === null ? {} : await redis.hgetall(`${prefix}:slack:${id}`).catch(() => ({}));
        const state = id === null ? 'none' : await slackQueue.getJobState(id).catch(() => '?');
        const { atm, ats, stc, failedReason, delay, data } = job as Record<string, string | undefined>;
        return `${kind} ${id ?? '-'}: ${JSON.stringify({ state, atm, ats, stc, delay, failedReason, data })}`;
      }),
    );
    await slackQueue.close().catch(() => undefined);
    const sender = await redis.hgetall(`${prefix}:slack:run:${run.id}`).catch(() => ({}));
    const sent = this.slack.calls.filter(
      (c) => c.args.channel === run.channel && String(c.args.text).includes(run.target.vm),
    );
    return [
      `record ${run.state} (parent ${run.messageTs ?? 'none'}), parent shows "${parent?.text ?? 'nothing'}"`,
      `thread: ${this.thread(run)
        .map((m) => m.text.slice(0, 60))
        .join(' | ')}`,
      `calls naming the VM: ${sent.map((c) => `${c.method} ${c.status}${c.error ? `:${c.error}` : ''} ${String(c.args.text).slice(0, 40)}`).join(', ')}`,
      `audit: ${run.audit.map((a) => `${a.event}:${a.step ?? ''}`).join(' ')}`,
      `Slack jobs: ${jobs.join('; ')}`,
      `sender state: ${JSON.stringify(Object.fromEntries(Object.entries(sender).filter(([k]) => k !== 'approval')))}`,
      `log:\n${this.logs()
        .split('\n')
        .filter((line) => line.includes(run.id))
        .slice(-15)
        .join('\n')}`,
    ].join('\n');
  }

  parent(run: RunRecord): FakeMessage | undefined {
    return run.messageTs === undefined ? undefined : this.slack.message(run.channel, run.messageTs);
  }

  thread(run: RunRecord): FakeMessage[] {
    return run.messageTs === undefined ? [] : this.slack.thread(run.channel, run.messageTs);
  }

  finalReplies(run: RunRecord): FakeMessage[] {
    return this.thread(run).filter((m) => ANY_FINAL.test(m.text) && !m.replyBroadcast);
  }

  /** Slack has been told how this finished run ended (closing reply, parent showing the state). */
  reported(run: RunRecord): boolean {
    return this.finalReplies(run).length > 0 && this.parentShows(run);
  }

  private parentShows(run: RunRecord): boolean {
    return JSON.stringify(this.parent(run)?.blocks ?? []).includes(`\`${run.state}\``);
  }

  /**
   * Problems with what Slack shows about a finished run, compared with its record: one parent message, its
   * status line and step blocks agreeing with the record, exactly one closing reply that says the same.
   */
  truthProblems(run: RunRecord): string[] {
    const problems: string[] = [];
    const parents = this.slack
      .channelMessages(run.channel)
      .filter((m) => JSON.stringify(m.blocks).includes(`run \`${run.id}\``));
    if (parents.length !== 1) problems.push(`${parents.length} parent messages`);
    const parent = this.parent(run);
    if (parent === undefined) return [...problems, 'no parent message recorded'];
    const blocks = JSON.stringify(parent.blocks);
    if (!blocks.includes(`\`${run.state}\``)) problems.push(`parent does not show ${run.state}`);
    for (const id of STEP_IDS) {
      const block = JSON.stringify(parent.blocks.find((b) => b.block_id === `step-${id}`) ?? {});
      const step = run.steps.find((s) => s.id === id);
      if (step !== undefined && !block.includes(`· ${step.state}`))
        problems.push(`step ${id} shows ${/· (\w+)/.exec(block)?.[1]} but the record says ${step.state}`);
    }
    if (run.state === 'succeeded') {
      for (const id of STEP_IDS) {
        const block = JSON.stringify(parent.blocks.find((b) => b.block_id === `step-${id}`) ?? {});
        if (!/· (done|unchanged)/.test(block)) problems.push(`succeeded, but step ${id} is not shown done`);
      }
    }
    const finals = this.finalReplies(run);
    if (finals.length !== 1) problems.push(`${finals.length} closing replies`);
    const kind = run.state.startsWith('failed:') ? 'failed' : run.state;
    const words = FINAL_WORDS[kind];
    const last = finals[0]?.text ?? '';
    if (words === undefined || !words.test(last)) problems.push(`closing reply "${last}" for ${run.state}`);
    if (kind === 'failed' && words?.exec(last)?.[1] !== run.state.slice('failed:'.length))
      problems.push(`closing reply names another step than ${run.state}`);
    return problems;
  }

  async close(): Promise<void> {
    for (const w of this.workers.splice(0)) {
      if (w.kind === 'child') await w.process.kill();
      else {
        await w.worker.close();
        await w.delivery.close();
      }
    }
    await this.h?.close();
    // KEEP_TEST_LOGS=1 leaves the worker processes' logs behind for a failure's post-mortem.
    if (process.env.KEEP_TEST_LOGS === '1') {
      writeFileSync(join(this.dir, 'app.txt'), this.log.text());
      console.log(`logs kept in ${this.dir}`);
    } else rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resolves with the first truthy value; fails with `what` after `timeoutMs` (a hang, never a timing check). */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | null | false> | T | undefined | null | false,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
