/**
 * Slack calls as durable BullMQ jobs on the `slack` queue (under QUEUE_PREFIX), taken by every process that
 * runs a delivery: per run, a `post` job (its parent, then its thread replies in order) and an `edit` job (its
 * parent as the record is now, and its approval request's close). Deduplication with `keepLastIfActive`
 * keeps at most one of each kind running and one waiting per run, so exactly one process writes a run's
 * messages at a time, and a request made while a job runs is not lost. A job waiting for Slack's limit or for
 * Slack to come back moves itself to delayed (it holds no lock and survives any crash); a process that dies
 * mid-call leaves its job to BullMQ's stalled-job recovery. Priorities put what a person waits for first.
 */
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Config } from '../../config.js';
import { type Log, silentLog } from '../../log.js';
import { createWorkerConnection, type Redis } from '../../queue/redis.js';
import type { RunRecord } from '../../queue/types.js';
import { backoff, persisting } from '../../retry.js';
import type { Reporter } from '../../setup/ports.js';
import { withTimeout } from '../../timeout.js';
import type { SlackMessage } from '../blocks/run-message.js';
import { type DeliveryDeps, editRun, type Next, postNotice, postRun, type RunAccess } from './deliver-run.js';
import { createRunReporter, type DeliveryRequests, Priority } from './run-reporter.js';
import { createSlackCalls, type SlackCallObserver, type SlackCalls } from './slack-calls.js';
import { createSlots } from './slots.js';
import { createThreadOutbox } from './thread-outbox.js';

export const SLACK_QUEUE = 'slack';

type JobKind = 'post' | 'edit' | 'notice';
interface DeliveryJob {
  /** The run whose messages a `post` or `edit` job sends; '' for a notice. */
  runId: string;
  /** A `notice` job's message and channel. */
  notice?: { channel: string; message: SlackMessage };
  /** Attempts Slack did not answer, for the backoff. */
  tries?: number;
}

export interface SlackDeliveryOptions {
  /** A connection for adding jobs and for the outbox (the run service's). */
  redis: Redis;
  /** A new connection for the job worker (BullMQ blocks on it); without it this process only adds jobs. */
  workerConnection?: () => Redis;
  prefix: string;
  calls: SlackCalls;
  runs: RunAccess;
  log?: Log;
  /** @defaultValue 20 */
  concurrency?: number;
  /** Slack's limits (tests shorten them). */
  pace?: { postSpacingMs?: number; editsPerMinute?: number };
  /** How soon a job whose process died is taken up elsewhere. @defaultValue 5 s */
  lockMs?: number;
}

export interface SlackDelivery extends DeliveryRequests {
  /**
   * A decision was recorded on the request a person clicked (as Slack sent it back): it is closed, ahead of
   * every progress edit.
   */
  closeRequest(runId: string, clicked: SlackMessage): Promise<void>;
  /** Posts `message` in `channel` as a message of its own; a second request with the same id is dropped. */
  notice(channel: string, message: SlackMessage, id: string): Promise<void>;
  /** Resolves once no Slack job is waiting, delayed or running (tests, benchmarks). */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** A job that keeps throwing is given up after about five minutes (see the worker's backoffStrategy). */
const RETRIES = { attempts: 60, backoff: { type: 'capped' } };

/** Writes a process must not lose go on through a Redis blip. */
const durably = <T>(work: () => Promise<T>) => persisting(work, 60_000);

/** Takes `slack` jobs: each runs its job kind until nothing is left, or moves itself to delayed. */
function startJobWorker(options: SlackDeliveryOptions, connection: Redis, deps: DeliveryDeps) {
  const { log } = deps;
  async function process(job: Job<DeliveryJob, void, JobKind>, token?: string): Promise<void> {
    const notice = job.data.notice;
    const next: Next =
      notice !== undefined
        ? await postNotice(deps, notice.channel, notice.message)
        : await (job.name === 'post' ? postRun : editRun)(deps, job.data.runId);
    if (next === undefined) return;
    const tries = next === 'backoff' ? (job.data.tries ?? 0) + 1 : 0;
    if (tries !== (job.data.tries ?? 0)) await job.updateData({ ...job.data, tries });
    if (tries === 1 || (tries > 0 && tries % 10 === 0))
      log.warn({ runId: job.data.runId, job: job.name, tries }, 'Slack did not answer; trying again');
    const wait = next === 'backoff' ? backoff(tries, 1000, 30_000) : next;
    await job.moveToDelayed(Date.now() + wait, token);
    throw new DelayedError();
  }
  const lockMs = options.lockMs ?? 5000;
  const worker = new Worker<DeliveryJob, void, JobKind>(SLACK_QUEUE, process, {
    connection,
    prefix: options.prefix,
    concurrency: options.concurrency ?? 20,
    lockDuration: lockMs,
    stalledInterval: lockMs,
    // Every job may be taken up again after its process died: the jobs are written to be.
    maxStalledCount: 1000,
    // A job that threw (mostly Redis away for this process's other connection, which fails fast in the app)
    // is tried again within seconds, not after BullMQ's exponential wait that grows past minutes.
    settings: { backoffStrategy: (attemptsMade: number) => backoff(attemptsMade, 250, 5000) },
  });
  worker.on('error', (error) => log.warn({ err: error.message }, 'Slack delivery: Redis unavailable'));
  worker.on('failed', (job, error) =>
    log.error({ runId: job?.data.runId, job: job?.name, err: error.message }, 'Slack delivery job failed'),
  );
  return worker;
}

export function createSlackDelivery(options: SlackDeliveryOptions): SlackDelivery {
  const log = options.log ?? silentLog;
  const { redis, prefix } = options;
  const queue = new Queue<DeliveryJob, void, JobKind>(SLACK_QUEUE, { connection: redis, prefix });
  queue.on('error', (error) => log.warn({ err: error.message }, 'Slack queue: Redis unavailable'));
  const outbox = createThreadOutbox(redis, prefix);
  let seq = 0;

  async function sync(runId: string, kind: JobKind, priority: Priority = Priority.progress) {
    await queue.add(
      kind,
      { runId },
      {
        priority,
        deduplication: { id: `${kind}-${runId}`, keepLastIfActive: true },
        ...RETRIES,
        removeOnComplete: true,
        removeOnFail: 100,
      },
    );
  }
  const deps: DeliveryDeps = {
    calls: options.calls,
    slots: createSlots(redis, prefix, options.pace),
    outbox,
    runs: options.runs,
    log,
    editSoon: (runId) => sync(runId, 'edit', Priority.news),
  };

  const connection = options.workerConnection?.();
  const worker = connection === undefined ? undefined : startJobWorker(options, connection, deps);

  return {
    sync: (runId, kind, priority) => durably(() => sync(runId, kind, priority)),
    async reply(runId, reply, priority, also) {
      const id = `${Date.now().toString(36)}-${(seq++).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      await durably(() => outbox.push(runId, { ...reply, id, priority }, also));
      await durably(() => sync(runId, 'post', priority));
    },
    async closeRequest(runId, clicked) {
      await durably(() => outbox.keepApproval(runId, clicked));
      await durably(() => sync(runId, 'edit', Priority.urgent));
    },
    async notice(channel, message, id) {
      await durably(() =>
        queue.add(
          'notice',
          { runId: '', notice: { channel, message } },
          {
            jobId: `notice-${id}`,
            priority: Priority.news,
            ...RETRIES,
            // Kept an hour so that the same notice asked for again (a probe taken up again) is dropped.
            removeOnComplete: { age: 3600 },
            removeOnFail: 100,
          },
        ),
      );
    },
    async idle() {
      for (;;) {
        const counts = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
        if (Object.values(counts).every((n) => n === 0)) return;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async close() {
      // BullMQ's close waits for Redis: a process stopping while Redis is away must not wait for ever.
      const bounded = (work: Promise<void> | undefined) =>
        withTimeout(work ?? Promise.resolve(), 5000, () => new Error('Redis is away')).catch(() => undefined);
      await bounded(worker?.close(connection?.status !== 'ready'));
      connection?.disconnect();
      await bounded(queue.close());
    },
  };
}

export interface ProcessDelivery extends SlackDelivery {
  /** The reporter a worker hands the engine for `run`. */
  reporterFor(run: RunRecord): Reporter;
}

/** A process's delivery of runs' Slack messages, as `serve`, `app` and `worker` build it from the configuration. */
export function createProcessDelivery(
  config: Config,
  deps: { redis: Redis; runs: RunAccess; log?: Log | undefined; observer?: SlackCallObserver | undefined },
): ProcessDelivery {
  const log = deps.log ?? silentLog;
  const delivery = createSlackDelivery({
    redis: deps.redis,
    workerConnection: () =>
      createWorkerConnection(config, { onError: (e) => log.debug({ err: e.message }, 'Slack jobs: Redis') }),
    prefix: config.queuePrefix,
    calls: createSlackCalls({
      token: config.slack.botToken,
      apiUrl: config.slack.apiUrl,
      log,
      observer: deps.observer,
    }),
    runs: deps.runs,
    log,
  });
  return { ...delivery, reporterFor: (run) => createRunReporter(delivery, run, config.approvers, log) };
}
