/**
 * Slack calls as durable BullMQ jobs on the `slack` queue (under QUEUE_PREFIX), taken by every process that
 * runs a delivery: per run, a `post` job (its parent, then its thread replies in order) and an `edit` job (its
 * parent as the record is now, and its approval request's close). Deduplication with `keepLastIfActive`
 * keeps at most one of each kind running and one waiting per run, so exactly one process writes a run's
 * messages at a time, and a request made while a job runs is not lost. A job waiting for Slack's limit moves
 * itself to delayed (it holds no lock and survives any crash); one that Slack did not answer throws and BullMQ
 * tries it again later; a process that dies mid-call leaves its job to BullMQ's stalled-job recovery.
 * Priorities put what a person waits for first.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Config } from '../../config.js';
import { egressProxy } from '../../egress-proxy.js';
import { type Log, silentLog } from '../../log.js';
import { createWorkerConnection, type Redis } from '../../queue/redis.js';
import type { RunRecord } from '../../queue/types.js';
import { backoff, persisting } from '../../retry.js';
import type { Reporter } from '../../setup/ports.js';
import { withTimeout } from '../../timeout.js';
import type { SlackMessage } from '../blocks/run-message.js';
import { createSlackCalls, type SlackCallObserver, SlackUnavailableError } from '../web-api.js';
import { type DeliveryDeps, editRun, postNotice, postRun, type RunAccess } from './deliver-run.js';
import { createRunReporter, type DeliveryRequests, Priority } from './run-reporter.js';
import { createSlots } from './slots.js';
import { createThreadOutbox } from './thread-outbox.js';

export const SLACK_QUEUE = 'slack';

type JobKind = 'post' | 'edit' | 'notice';
interface DeliveryJob {
  /** The run whose messages a `post` or `edit` job sends; '' for a notice. */
  runId: string;
  /** A `notice` job's message and channel. */
  notice?: { channel: string; message: SlackMessage };
}

/** What a process's delivery is built from beside the configuration. */
export interface DeliveryParts {
  /** A connection for adding jobs and for the outbox (the run service's); the job worker gets its own. */
  redis: Redis;
  runs: RunAccess;
  log?: Log | undefined;
  observer?: SlackCallObserver | undefined;
  /** Slack's limits (tests shorten them). */
  pace?: { postSpacingMs?: number; editsPerMinute?: number };
}

export interface SlackDelivery extends DeliveryRequests {
  /** Posts `message` in `channel` as a message of its own; a second request with the same id is dropped. */
  notice(channel: string, message: SlackMessage, id: string): Promise<void>;
  /** The reporter a worker hands the engine for `run`. */
  reporterFor(run: RunRecord): Reporter;
  close(): Promise<void>;
}

/**
 * A job that throws is tried again (see the worker's backoffStrategy): while Slack does not answer for about
 * a day, else (Redis away for this process's other connection) for about four hours.
 */
const RETRIES = { attempts: 3000, backoff: { type: 'capped' }, removeOnFail: 100 };

/** Slack away: 1 s doubling to 30 s. Anything else (mostly Redis, for the app's fail-fast connection): within seconds. */
const retryIn = (attemptsMade: number, _type?: string, error?: Error) =>
  error instanceof SlackUnavailableError
    ? backoff(attemptsMade, 1000, 30_000)
    : backoff(attemptsMade, 250, 5000);

/** Writes a process must not lose go on through a Redis blip. */
const durably = <T>(work: () => Promise<T>) => persisting(work, 60_000);

/** A process's delivery of runs' Slack messages, as `serve`, `app` and `worker` build it from the configuration. */
export function createSlackDelivery(config: Config, parts: DeliveryParts): SlackDelivery {
  const log = parts.log ?? silentLog;
  const { redis, runs } = parts;
  const prefix = config.queuePrefix;
  const queue = new Queue<DeliveryJob, void, JobKind>(SLACK_QUEUE, { connection: redis, prefix });
  queue.on('error', (error) => log.warn({ err: error.message }, 'Slack queue: Redis unavailable'));
  const outbox = createThreadOutbox(redis, prefix);
  const sync = async (runId: string, kind: JobKind, priority: number = Priority.progress) => {
    const deduplication = { id: `${kind}-${runId}`, keepLastIfActive: true };
    await queue.add(kind, { runId }, { priority, deduplication, ...RETRIES, removeOnComplete: true });
  };
  const { botToken: token, apiUrl } = config.slack;
  const { observer } = parts;
  const calls = createSlackCalls({ token, apiUrl, log, observer, fetch: egressProxy(config.env)?.fetch });
  const slots = createSlots(redis, prefix, parts.pace);
  const editSoon = (runId: string) => sync(runId, 'edit', Priority.news);
  const deps: DeliveryDeps = { calls, slots, outbox, runs, log, editSoon };

  /** Runs its job kind until nothing is left, or moves itself to delayed. */
  async function process(job: Job<DeliveryJob, void, JobKind>, token?: string): Promise<void> {
    const { notice, runId } = job.data;
    const wait =
      notice !== undefined
        ? await postNotice(deps, notice.channel, notice.message)
        : await (job.name === 'post' ? postRun : editRun)(deps, runId);
    if (wait === undefined) return;
    await job.moveToDelayed(Date.now() + wait, token);
    throw new DelayedError();
  }
  const connection = createWorkerConnection(config, {
    onError: (e) => log.debug({ err: e.message }, 'Slack jobs: Redis'),
  });
  const worker = new Worker<DeliveryJob, void, JobKind>(SLACK_QUEUE, process, {
    connection,
    prefix,
    concurrency: 20,
    // A job whose process died is taken up elsewhere within seconds, however often: jobs are written to be.
    lockDuration: 5000,
    stalledInterval: 5000,
    maxStalledCount: 1000,
    settings: { backoffStrategy: retryIn },
  });
  worker.on('error', (error) => log.warn({ err: error.message }, 'Slack delivery: Redis unavailable'));
  worker.on('failed', (job, error) => {
    const attempts = job?.attemptsMade ?? 0;
    // A long outage is said when it starts and every 20 attempts, not at every one.
    if (attempts === 1 || attempts % 20 === 0 || attempts >= RETRIES.attempts)
      log.warn({ runId: job?.data.runId, attempts, err: error.message }, `Slack ${job?.name} job failed`);
  });

  const delivery: SlackDelivery = {
    sync: (runId, kind, priority) => durably(() => sync(runId, kind, priority)),
    async reply(runId, reply) {
      const queued = { ...reply, id: randomUUID() };
      await durably(() => outbox.push(runId, queued));
      await durably(() => sync(runId, 'post', reply.priority));
    },
    async notice(channel, message, id) {
      // Kept an hour so that the same notice asked for again (a probe taken up again) is dropped.
      const kept = { jobId: `notice-${id}`, removeOnComplete: { age: 3600 } };
      const job = { runId: '', notice: { channel, message } };
      await durably(() => queue.add('notice', job, { ...kept, priority: Priority.news, ...RETRIES }));
    },
    reporterFor: (run) => createRunReporter(delivery, run, config.approvers, log),
    async close() {
      // BullMQ's close waits for Redis: a process stopping while Redis is away must not wait for ever.
      const bounded = (work: Promise<void>) =>
        withTimeout(work, 5000, () => new Error('Redis is away')).catch(() => undefined);
      await bounded(worker.close(connection.status !== 'ready'));
      connection.disconnect();
      await bounded(queue.close());
    },
  };
  return delivery;
}
