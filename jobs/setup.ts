/**
 * The setup processor: one job per run. It takes the run up (unless it was cancelled while queued), hands
 * the engine the run's gate, journal and reporters, and settles the result. Everything else lives in the
 * engine (src/setup) and the queue adapters (src/queue).
 */
import type { Job } from 'bullmq';
import { createEngineDeps, type EngineAdapters, runInputFor, settingsFor } from '../src/compose.js';
import type { Config } from '../src/config.js';
import { createRunApprovalGate } from '../src/queue/approval-gate.js';
import { createJobJournal } from '../src/queue/job-journal.js';
import { runRecordReporter } from '../src/queue/run-record-reporter.js';
import { resultOfRecord } from '../src/queue/run-states.js';
import type { RunStore } from '../src/queue/run-store.js';
import { settleCrash, settleRun } from '../src/queue/settle-run.js';
import type { RunOutcome } from '../src/queue/setup-queue.js';
import type { RunRecord, SetupJobData } from '../src/queue/types.js';
import type { EngineDeps, RunInput } from '../src/setup/engine.js';
import { imageFor } from '../src/setup/image-ref.js';
import type { Clock, HostKeyStore, Reporter, RunResult } from '../src/setup/ports.js';
import type { SetupSettings } from '../src/setup/settings.js';

/** An upgrade's images as typed, made whole against the configured ones (a bare tag keeps the repository). */
function upgradeImages(config: Config, images: RunRecord['images']) {
  const given = (configured: string, value: string | undefined) =>
    value === undefined ? undefined : imageFor(configured, value);
  return {
    delegate: given(config.delegateImage, images?.delegate),
    runner: given(config.runnerImage, images?.runner),
  };
}

export type RunSetup = (input: RunInput, deps: EngineDeps) => Promise<RunResult>;

/** Adapters for the engine beyond the run's own (tests pass a VM locator for the test sshd, file secrets). */
export type { EngineAdapters };

export interface SetupProcessorContext {
  config: Config;
  store: RunStore;
  hostKeys: HostKeyStore;
  /** What the person watching sees (the Slack thread); the run record is kept current underneath it. */
  reporterFor(run: RunRecord): Reporter | Promise<Reporter>;
  runSetup: RunSetup;
  engine: EngineAdapters;
  clock: Clock;
  /** The run's settings; by default from the configuration and the run's delegate name and tags. */
  settings?: (run: RunRecord) => SetupSettings;
  /** Told of each run that succeeded, with the images it left on the VM (the watch starts watching it). */
  succeeded?: (run: RunRecord, images: { runner: string; delegate: string }) => Promise<void>;
}

/**
 * The lock was lost (this worker stalled) and another worker may own the run now: leave the record and the
 * job to that one. BullMQ cannot fail the job with this worker's stale lock, so the error changes nothing.
 */
const takenOver = (runId: string) => new Error(`run ${runId} was left to the worker that holds its lock`);

function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return work;
  work.catch(() => undefined);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function setupProcessor(ctx: SetupProcessorContext) {
  return async (
    job: Job<SetupJobData, RunOutcome, 'setup'>,
    token?: string,
    signal?: AbortSignal,
  ): Promise<RunOutcome> => {
    const runId = job.data.runId;
    const begun = await ctx.store.begin(
      runId,
      `running:${job.data.journal?.step ?? 'preflight'}`,
      ctx.clock.now(),
    );
    // Cancelled while queued, or the app died before recording the run: nothing to do. Or a worker died
    // between ending the run and telling Slack: told again (the summary is queued once per run).
    if (begun === 'finished') {
      const ended = await ctx.store.get(runId);
      if (ended !== undefined) await (await ctx.reporterFor(ended)).runFinished(resultOfRecord(ended));
    }
    if (begun !== 'ok') return { state: begun };
    const run = await ctx.store.get(runId);
    if (run === undefined) return { state: 'not-found' };

    const inner = await ctx.reporterFor(run);
    const settle = {
      job,
      token,
      store: ctx.store,
      inner,
      approvalTtlMs: ctx.config.approvalTtlMs,
      now: () => ctx.clock.now(),
    };
    const deps = createEngineDeps(ctx.config, {
      ...ctx.engine,
      clock: ctx.clock,
      reporter: runRecordReporter(ctx.store, runId, inner),
      gate: createRunApprovalGate(ctx.store, runId, ctx.clock),
      journal: createJobJournal(job),
      hostKeyStore: ctx.hostKeys,
      ...(signal ? { signal } : {}),
    });
    const settings =
      ctx.settings?.(run) ??
      settingsFor(ctx.config, run.target.vm, { delegateName: run.delegateName, tags: run.tags });
    const target = {
      kind: 'vm' as const,
      ref: { project: run.target.project, zone: run.target.zone, name: run.target.vm },
    };

    const input = runInputFor(ctx.config, runId, 'setup', target, settings);
    if (run.kind === 'upgrade') {
      input.kind = 'upgrade';
      input.upgrade = upgradeImages(ctx.config, run.images);
    }
    let result: RunResult;
    try {
      // Lost to another worker: return at once (the engine stops by itself before its next command), so that
      // this worker is free to take the run up again without an old processing of it still going.
      result = await untilAborted(ctx.runSetup(input, deps), signal);
    } catch (error) {
      if (signal?.aborted) throw takenOver(runId);
      return settleCrash(settle, run, error);
    }
    if (signal?.aborted) throw takenOver(runId);
    const outcome = await settleRun(settle, result);
    if (outcome.state === 'succeeded' && ctx.succeeded) {
      const images = {
        runner: input.upgrade?.runner ?? settings.runnerImage,
        delegate: input.upgrade?.delegate ?? settings.delegateImage,
      };
      // The run is over whatever happens here: a watch that could not start is started by the next run.
      await ctx.succeeded((await ctx.store.get(runId)) ?? run, images).catch(() => undefined);
    }
    return outcome;
  };
}
