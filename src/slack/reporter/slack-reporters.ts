/**
 * `createSlackReporterFactory(...).reporterFor(run)`: what the worker calls for each run it drives. One
 * outbox per run in this process, so a run resumed here (after an approval) keeps its order and coalescing.
 */
import type { AttachedMessages, RunRecord } from '../../queue/types.js';
import type { Reporter, RunResult } from '../../setup/ports.js';
import type { StepId } from '../../setup/steps.js';
import { runMessage } from '../blocks/run-message.js';
import { runViewFromRecord } from '../blocks/run-view.js';
import type { SlackPace } from '../delivery/pace.js';
import {
  createSenderClient,
  createSlackSender,
  type SlackCallObserver,
  type SlackSender,
} from '../delivery/slack-sender.js';
import { type Log, silentLog } from '../log.js';
import { type AdoptedParent, RunOutbox } from './run-outbox.js';
import { markDelivered, type SlackLedger } from './slack-ledger.js';
import { createRunReporter, type RunReporterContext } from './slack-reporter.js';

/** See `startSweeping`. */
const SWEEP_GRACE_MS = 60_000;

/** How long a sweep leaves a run that just ended to its worker, which takes its leases moments after. */
const FINISHED_GRACE_MS = 5_000;

/** How many seconds a worker waits for the app to record a parent message it posted. */
const PARENT_WAITS = 120;

/** The parent message a run's record names, for a process that has not known it. */
function adoptable(run: RunRecord): AdoptedParent | undefined {
  return run.messageTs === undefined ? undefined : { ts: run.messageTs, shows: run.messageShows };
}

/** How a finished run ended, as the engine would have told it, from its record. */
function resultOf(run: RunRecord): RunResult {
  const failed = run.state.startsWith('failed:');
  const state = failed ? 'failed' : (run.state as RunResult['state']);
  return {
    runId: run.id,
    vm: run.target.vm,
    state,
    step: failed ? (run.state.slice('failed:'.length) as StepId) : undefined,
    steps: run.steps,
    error: undefined,
    unchanged: run.steps.length > 0 && run.steps.every((step) => step.state === 'unchanged'),
  };
}

export type AttachMessage = (runId: string, messages: AttachedMessages) => Promise<void>;

export interface SlackReporterFactoryOptions {
  /** A sender, or the token and API URL to build one with. */
  sender?: SlackSender;
  botToken?: string;
  slackApiUrl?: string;
  /** APPROVERS: mentioned in approval requests. */
  approvers: string[];
  /** Records messages on the run (RunService.attachMessage). */
  attach: AttachMessage;
  log?: Log;
  /** Metrics of Web API calls (only when the factory builds its own sender). */
  observer?: SlackCallObserver;
  /** Slack's limits shared with the other processes (only when the factory builds its own sender). */
  pace?: SlackPace;
  /** Least time between two edits of one run's parent message. @defaultValue 1500 */
  updateIntervalMs?: number;
  /** Where owed messages are kept for other workers (worker processes; needs `getRun`). */
  ledger?: SlackLedger;
  /** Reads a run's record (for the sweep). */
  getRun?: (runId: string) => Promise<RunRecord | undefined>;
}

export interface SlackReporters {
  reporterFor(run: RunRecord): Reporter;
  /**
   * Delivers what threads are still owed by processes that died (an approval request never posted, a
   * run's closing summary); runs this process drives itself are left to it. Returns how many it took up.
   */
  sweep(graceMs?: number): Promise<number>;
  /**
   * Sweeps every `intervalMs` until closed. What became owed less than `graceMs` ago, or while Redis has
   * been up for less than that, is left to the process that owes it: its writes may still be on their way.
   */
  startSweeping(intervalMs?: number, graceMs?: number): void;
  /** Resolves once every message asked for so far was delivered (tests, graceful shutdown). */
  idle(): Promise<void>;
  /** Waits up to `timeoutMs` for pending messages, then stops retrying. */
  close(timeoutMs?: number): Promise<void>;
}

export function createSlackReporterFactory(options: SlackReporterFactoryOptions): SlackReporters {
  const log = options.log ?? silentLog;
  const sender =
    options.sender ??
    createSlackSender({
      client: createSenderClient(options.botToken, options.slackApiUrl ?? 'https://slack.com/api/', log),
      log,
      observer: options.observer,
      pace: options.pace,
    });
  const runs = new Map<string, RunReporterContext>();

  function contextFor(run: RunRecord): RunReporterContext {
    const known = runs.get(run.id);
    if (known !== undefined) {
      known.record = run;
      known.outbox.adoptParent(adoptable(run));
      return known;
    }
    const view = runViewFromRecord(run);
    const ctx: RunReporterContext = {
      record: run,
      view,
      approvers: options.approvers,
      approval: { request: undefined, ts: run.approvalTs },
      ledger: options.ledger,
      log,
      approvalPosted: (ts) => options.attach(run.id, { approvalTs: ts }),
      finished: () => {
        options.ledger?.release(run.id, 'parent');
        void ctx.outbox.idle().then(() => {
          if (runs.get(run.id) === ctx) runs.delete(run.id);
        });
      },
      outbox: new RunOutbox({
        runId: run.id,
        sender,
        channel: run.channel,
        since: run.createdAt,
        parentTs: run.messageTs,
        render: () => runMessage(view),
        parentPosted: (ts, shows) =>
          options
            .attach(run.id, { messageTs: ts, messageShows: shows })
            .finally(() => options.ledger?.release(run.id, 'parent')),
        claimParent: () => claimParent(run.id),
        settled: () => view.state === 'awaiting-approval' || view.finishedAt !== undefined,
        // The parent now shows how the run ended: no other worker needs to edit it.
        edited: () => {
          if (view.finishedAt === undefined || options.ledger === undefined) return;
          void markDelivered(options.ledger, run.id, 'final').catch((error: unknown) =>
            log.warn({ runId: run.id, err: String(error) }, 'could not record the final edit as delivered'),
          );
        },
        // A run parked here and resumed by another worker after the click.
        superseded: async () =>
          view.state === 'awaiting-approval' &&
          options.getRun !== undefined &&
          (await options.getRun(run.id))?.state !== 'awaiting-approval',
        updateIntervalMs: options.updateIntervalMs ?? 1500,
        log,
      }),
    };
    runs.set(run.id, ctx);
    return ctx;
  }

  async function idle(): Promise<void> {
    for (;;) {
      const busy = [...runs.values()].filter((ctx) => ctx.outbox.busy);
      if (busy.length === 0) return;
      await Promise.all(busy.map((ctx) => ctx.outbox.idle()));
    }
  }

  /**
   * Waits while the app holds the run's parent (posted, not yet recorded): its message is adopted once
   * recorded. Undefined when this process may post (it holds the right), or has waited long enough.
   */
  async function claimParent(runId: string): Promise<AdoptedParent | undefined> {
    const { ledger, getRun } = options;
    if (ledger === undefined || getRun === undefined) return undefined;
    const recorded = async () => {
      const run = await getRun(runId).catch(() => undefined);
      return run === undefined ? undefined : adoptable(run);
    };
    for (let attempt = 0; attempt < PARENT_WAITS; attempt += 1) {
      const posted = await recorded();
      if (posted !== undefined) return posted;
      if (await ledger.hold(runId, 'parent')) {
        // The app records its parent before it lets go of it: one recorded since the look above is adopted.
        const meanwhile = await recorded();
        if (meanwhile !== undefined) ledger.release(runId, 'parent');
        return meanwhile;
      }
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    log.warn({ runId }, 'the parent message was not recorded in time; posting one');
    return undefined;
  }

  async function sweep(graceMs = SWEEP_GRACE_MS): Promise<number> {
    const { ledger, getRun } = options;
    if (ledger === undefined || getRun === undefined) return 0;
    if ((await ledger.redisUptimeMs()) < graceMs) return 0;
    let taken = 0;
    for (const { runId, kind, since } of await ledger.owed()) {
      if (since > Date.now() - graceMs) continue;
      // A run this process drives is its own to report, unless it was resumed here after its request was
      // asked for elsewhere (the engine does not ask twice).
      const local = runs.get(runId);
      if (local !== undefined && (kind !== 'approval' || local.approval.request !== undefined)) continue;
      const run = await getRun(runId);
      if (kind === 'approval') {
        if (run?.state !== 'awaiting-approval' || run.approvalTs !== undefined) {
          await ledger.delivered(runId, kind);
          continue;
        }
        const request = await ledger.request(runId);
        if (request === undefined) {
          await ledger.delivered(runId, kind);
          continue;
        }
        if (!(await ledger.hold(runId, kind))) continue;
        log.warn({ runId }, 'posting an approval request a stopped worker did not deliver');
        await createRunReporter(contextFor(run)).approvalRequested(request);
        taken += 1;
        continue;
      }
      if (run === undefined) {
        await ledger.delivered(runId, kind);
        continue;
      }
      if (kind === 'final' && run.messageTs === undefined) {
        await ledger.delivered(runId, kind);
        continue;
      }
      // The worker that finished the run holds its summary and final edit moments later: a run that
      // ended just now is left to it.
      if (run.finishedAt === undefined || run.finishedAt > Date.now() - Math.min(graceMs, FINISHED_GRACE_MS))
        continue;
      if (!(await ledger.hold(runId, kind))) continue;
      if (kind === 'final') {
        log.warn(
          { runId },
          'editing a parent message to how its run ended: its worker stopped before it could',
        );
        contextFor(run).outbox.changed();
        taken += 1;
        continue;
      }
      log.warn({ runId }, 'telling the thread how a run ended: its worker stopped before it could');
      await createRunReporter(contextFor(run)).runFinished(resultOf(run));
      taken += 1;
    }
    return taken;
  }

  let sweeping: NodeJS.Timeout | undefined;

  return {
    reporterFor: (run) => createRunReporter(contextFor(run)),
    idle,
    sweep,
    startSweeping(intervalMs = 10_000, graceMs = SWEEP_GRACE_MS) {
      if (sweeping !== undefined) return;
      let busy = false;
      sweeping = setInterval(() => {
        if (busy) return;
        busy = true;
        sweep(graceMs)
          .catch((error: unknown) => log.warn({ err: String(error) }, 'could not sweep owed Slack messages'))
          .finally(() => {
            busy = false;
          });
      }, intervalMs);
      sweeping.unref();
    },
    async close(timeoutMs = 10_000) {
      clearInterval(sweeping);
      options.ledger?.close();
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      sender.close();
    },
  };
}
