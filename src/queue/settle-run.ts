/**
 * What the worker does with the engine's result: park the job until a decision (no lock held, so it
 * survives restarts), let BullMQ retry a passing failure, or end the run record and then tell the person
 * watching. The record is final before the thread says so, so `/gitspaces status` never contradicts it.
 */
import { DelayedError, UnrecoverableError } from 'bullmq';
import { asGitspacesError } from '../errors.js';
import { persisting } from '../retry.js';
import type { Reporter, RunResult } from '../setup/ports.js';
import { finalStateOf } from './run-states.js';
import type { RunStore } from './run-store.js';
import type { FinalRunState, RunRecord, SetupJobData } from './types.js';
import { WAKE_FOR_MS, type WakeableJob, wakeFirst } from './wake-first.js';

/** The part of a BullMQ job settling needs. */
export interface SettleJob extends WakeableJob {
  id?: string | undefined;
  data: SetupJobData;
  attemptsMade: number;
  opts: { attempts?: number };
  moveToDelayed(timestamp: number, token?: string): Promise<void>;
}

export interface SettleContext {
  job: SettleJob;
  token: string | undefined;
  store: RunStore;
  /** The reporter of the person watching (the record reporter holds back `runFinished` for this). */
  inner: Reporter;
  approvalTtlMs: number;
  now: () => number;
}

/** Another attempt can help (the engine marks such errors) and BullMQ has one left. */
function willRetry(result: RunResult, job: SettleJob): boolean {
  return (
    result.state === 'failed' &&
    result.error?.retryable === true &&
    job.attemptsMade + 1 < (job.opts.attempts ?? 1)
  );
}

export async function settleRun(ctx: SettleContext, result: RunResult): Promise<{ state: string }> {
  const { job, store } = ctx;
  const runId = job.data.runId;
  if (result.state === 'awaiting-approval') return park(ctx);
  if (willRetry(result, job)) {
    const attempt = job.attemptsMade + 2;
    await store.update(
      runId,
      {},
      {
        at: ctx.now(),
        by: 'system',
        event: 'retry',
        ...(result.step ? { step: result.step } : {}),
        detail: `attempt ${attempt} of ${job.opts.attempts} after ${result.error?.code}: ${result.error?.message}`,
      },
    );
    throw new Error(`${result.error?.code}: ${result.error?.message}`);
  }
  const state = finalStateOf(result);
  const detail = result.error ? `${state}: ${result.error.code}: ${result.error.message}` : state;
  await store.finish(runId, state, { at: ctx.now(), by: 'system', detail });
  await ctx.inner.runFinished(result);
  // A failed run is a failed job too (metrics, `failed` events); it is recorded, so BullMQ must not retry it.
  if (state.startsWith('failed:')) throw new UnrecoverableError(detail);
  return { state };
}

/**
 * Parks the job until the request runs out. A decision that landed while this worker still held the job
 * could not wake it (only a delayed job can be promoted), so the record is read again once parked.
 */
async function park(ctx: SettleContext): Promise<never> {
  const { job, store } = ctx;
  const runId = job.data.runId;
  const run = await store.get(runId);
  const askedAt = job.data.journal?.approvalRequestedAt ?? ctx.now();
  const expiresAt = run?.approvalExpiresAt ?? askedAt + ctx.approvalTtlMs;
  await store.update(runId, { state: 'awaiting-approval', approvalExpiresAt: expiresAt });
  await job.moveToDelayed(expiresAt, ctx.token);
  // Parked is parked: a wake Redis keeps refusing is left to the workers' sweep (wake-decided.ts).
  const decided = async () => (await store.get(runId))?.decision !== undefined;
  await persisting(async () => ((await decided()) ? wakeFirst(job) : undefined), WAKE_FOR_MS).catch(
    () => undefined,
  );
  throw new DelayedError();
}

/**
 * The engine threw instead of returning a result (Redis lost mid-run, a bug). With attempts left BullMQ
 * retries and the run resumes at its step; on the last attempt the run ends as failed at that step.
 */
export async function settleCrash(ctx: SettleContext, run: RunRecord, error: unknown): Promise<never> {
  const { job, store } = ctx;
  if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) throw error;
  const failure = asGitspacesError(error);
  const step = job.data.journal?.step ?? 'preflight';
  const result: RunResult = {
    runId: run.id,
    vm: run.target.vm,
    state: 'failed',
    step,
    steps: run.steps,
    error: { code: failure.code, message: failure.message, detail: undefined, retryable: false },
    unchanged: false,
  };
  const state: FinalRunState = `failed:${step}`;
  await store.finish(run.id, state, {
    at: ctx.now(),
    by: 'system',
    detail: `${state}: ${failure.code}: ${failure.message}`,
  });
  await ctx.inner.runFinished(result);
  throw new UnrecoverableError(failure.message);
}
