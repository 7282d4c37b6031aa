/**
 * What the Slack surfaces do with runs: start one (one active run per VM), attach the parent message,
 * decide on an approval (the first click wins), cancel, and read records for `/gitspaces status`.
 * Authorisation is the caller's job; this layer enforces what the run's state allows.
 */

import type { Redis } from 'ioredis';
import type { Config } from '../config.js';
import { GitspacesError } from '../errors.js';
import { persisting } from '../retry.js';
import { isVmName } from '../setup/vm-ref.js';
import { queuedRun } from './queued-run.js';
import { redisUnavailable } from './redis.js';
import { isRunId, newRunId } from './run-id.js';
import { createRunStore, type RunStore } from './run-store.js';
import type { SetupQueue } from './setup-queue.js';
import type {
  AttachedMessages,
  FinalDecision,
  RunImages,
  RunKind,
  RunRecord,
  RunTarget,
  SetupJobData,
} from './types.js';
import { WAKE_FOR_MS, wakeFirst } from './wake-first.js';

export interface StartInput {
  target: RunTarget;
  /** Slack user id. */
  requester: string;
  channel: string;
  delegateName?: string;
  tags?: string;
  kind?: RunKind;
  images?: RunImages;
}

export type StartOutcome = { ok: true; run: RunRecord } | { ok: false; reason: 'active'; active: RunRecord };
export type DecideOutcome =
  | { ok: true; run: RunRecord }
  | { ok: false; reason: 'already-decided' | 'expired' | 'not-waiting'; run: RunRecord }
  | { ok: false; reason: 'not-found' };
export type CancelOutcome =
  | { ok: true; run: RunRecord }
  | { ok: false; reason: 'running' | 'already-decided' | 'expired'; run: RunRecord }
  | { ok: false; reason: 'not-found' };

export interface RunService {
  /**
   * Reserves the VM, records the run and enqueues it. The job waits `startGraceMs` for
   * `attachMessage` (which starts it at once); if the parent message never comes (Slack down, the app
   * restarted) the run starts anyway and its reporter posts the parent message itself.
   */
  start(input: StartInput): Promise<StartOutcome>;
  /** Records the parent message (and wakes a queued run) or the approval message of a run. */
  attachMessage(runId: string, messages: AttachedMessages): Promise<void>;
  decide(input: { runId: string; userId: string; decision: 'approve' | 'reject' }): Promise<DecideOutcome>;
  /** Ends a queued run, or a run waiting for approval. A run in a step is not interrupted. */
  cancel(input: { vm: string; userId: string }): Promise<CancelOutcome>;
  get(runId: string): Promise<RunRecord | undefined>;
  activeForVm(vm: string): Promise<RunRecord | undefined>;
  lastForVm(vm: string): Promise<RunRecord | undefined>;
  /** Newest first. */
  recent(options: { channel?: string; limit: number }): Promise<RunRecord[]>;
  /** Runs waiting for an approver's decision, oldest first. */
  awaiting(): Promise<RunRecord[]>;
}

export interface RunServiceOptions {
  config: Pick<Config, 'redisUrl' | 'queuePrefix' | 'secrets'>;
  redis: Redis;
  queue: SetupQueue;
  store?: RunStore;
  now?: () => number;
  /** How long a new run waits for its parent message before starting anyway. @defaultValue 10 s */
  startGraceMs?: number;
}

interface ServiceParts {
  store: RunStore;
  queue: SetupQueue;
  now: () => number;
}

/**
 * Wakes a parked job. Not delayed (a worker holds it) is fine: the worker re-reads the record. Tried again
 * through a Redis blip: the decision is recorded already. A wake lost all the same (Redis away longer, this
 * process gone) is made by the workers' sweep (wake-decided.ts).
 */
async function wake(queue: SetupQueue, runId: string): Promise<void> {
  await persisting(async () => {
    const job = await queue.getJob(runId);
    if (job !== undefined) await wakeFirst(job);
  }, WAKE_FOR_MS);
}

async function requiredRun(store: RunStore, runId: string): Promise<RunRecord> {
  const run = await store.get(runId);
  if (run === undefined) throw new GitspacesError('INTERNAL', `Run ${runId} has no record.`);
  return run;
}

/** Ends a queued run, or a run waiting for approval, as `input.userId` asked. */
async function cancelRun(parts: ServiceParts, input: { vm: string; userId: string }): Promise<CancelOutcome> {
  const { store, queue, now } = parts;
  const run = await store.active(input.vm);
  if (run === undefined) return { ok: false, reason: 'not-found' };
  const at = now();
  if (run.state === 'queued') {
    const code = await store.finish(run.id, 'cancelled', {
      at,
      by: input.userId,
      detail: 'cancelled before it started',
      onlyFrom: 'queued',
      also: { at, by: input.userId, event: 'cancelled' },
    });
    if (code === 'ok') {
      // A worker that took the job up meanwhile finds the run finished and stops before any step.
      await queue.remove(run.id).catch(() => undefined);
      return { ok: true, run: await requiredRun(store, run.id) };
    }
    if (code === 'finished') return { ok: false, reason: 'not-found' };
    return cancelRun(parts, input);
  }
  // Waiting: the approval request is out and undecided (the state may show a woken run re-checking).
  if (run.approvalExpiresAt === undefined || run.decision !== undefined)
    return { ok: false, reason: 'running', run };
  const code = await store.decide(run.id, { kind: 'cancelled', by: input.userId, at }, at);
  if (code === 'ok' || code === 'expired') await wake(queue, run.id);
  const fresh = await requiredRun(store, run.id);
  if (code === 'ok') return { ok: true, run: fresh };
  if (code === 'already-decided' || code === 'expired') return { ok: false, reason: code, run: fresh };
  return { ok: false, reason: 'running', run: fresh };
}

export function createRunService(options: RunServiceOptions): RunService {
  const { config, queue } = options;
  const store = options.store ?? createRunStore(options.redis, config.queuePrefix);
  const now = options.now ?? Date.now;
  const grace = options.startGraceMs ?? 10_000;

  /** Every Redis failure reaches the Slack layer as REDIS_UNAVAILABLE, which it can explain. */
  const guarded =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        return await fn(...args);
      } catch (error) {
        if (error instanceof GitspacesError) throw error;
        throw redisUnavailable(error, config.redisUrl);
      }
    };

  const parts: ServiceParts = { store, queue, now };
  const required = (runId: string) => requiredRun(store, runId);

  async function start(input: StartInput): Promise<StartOutcome> {
    if (!isVmName(input.target.vm)) {
      throw new GitspacesError(
        'VM_NAME_INVALID',
        `"${input.target.vm.slice(0, 64)}" is not a valid VM name.`,
      );
    }
    const at = now();
    const run = queuedRun(newRunId(at), at, input);
    // The job goes in first: if this process dies before the record exists, the worker finds no record and
    // drops the job, while a record without a job would hold the VM for ever.
    const job = await queue.add('setup', jobDataFor(run, config.secrets), { jobId: run.id, delay: grace });
    const created = await store.create(run);
    if (!created.ok) await job.remove().catch(() => undefined);
    return created.ok ? created : { ok: false, reason: 'active', active: created.active };
  }

  async function attachMessage(runId: string, messages: AttachedMessages) {
    await store.attach(runId, messages);
    if (messages.messageTs === undefined) return;
    const job = await queue.getJob(runId);
    if (job === undefined || !(await job.isDelayed())) return;
    const run = await store.get(runId);
    if (run?.state !== 'queued') return;
    await job.updateData({ ...job.data, messageTs: messages.messageTs });
    await job.promote().catch(() => undefined);
  }

  async function decide(input: { runId: string; userId: string; decision: 'approve' | 'reject' }) {
    if (!isRunId(input.runId)) return { ok: false, reason: 'not-found' } as const;
    const at = now();
    const decision: FinalDecision =
      input.decision === 'approve'
        ? { kind: 'approved', by: input.userId, at }
        : { kind: 'rejected', by: input.userId, at };
    const code = await store.decide(input.runId, decision, at);
    if (code === 'not-found') return { ok: false, reason: code } as const;
    // Recorded: what follows goes on through a Redis blip (see `wake`).
    if (code === 'ok' || code === 'expired') await wake(queue, input.runId);
    const run = await persisting(() => required(input.runId), WAKE_FOR_MS);
    return code === 'ok' ? ({ ok: true, run } as const) : ({ ok: false, reason: code, run } as const);
  }

  return {
    start: guarded(start),
    attachMessage: guarded(attachMessage),
    decide: guarded(decide),
    cancel: guarded((input: { vm: string; userId: string }) => cancelRun(parts, input)),
    get: guarded(async (runId: string) => (isRunId(runId) ? store.get(runId) : undefined)),
    activeForVm: guarded((vm: string) => store.active(vm)),
    lastForVm: guarded((vm: string) => store.last(vm)),
    recent: guarded((o: { channel?: string; limit: number }) => store.recent(o)),
    awaiting: guarded(() => store.awaiting()),
  };
}

export function jobDataFor(run: RunRecord, secrets: Config['secrets']): SetupJobData {
  return {
    runId: run.id,
    target: run.target,
    requester: run.requester,
    channel: run.channel,
    messageTs: run.messageTs,
    delegateName: run.delegateName,
    tags: run.tags,
    kind: run.kind ?? 'setup',
    ...(run.images ? { images: run.images } : {}),
    secretRefs: { ...secrets },
  };
}
