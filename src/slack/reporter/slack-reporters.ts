/**
 * `createSlackReporterFactory(...).reporterFor(run)`: what the worker calls for each run it drives. One
 * outbox per run in this process, so a run resumed here (after an approval) keeps its order and coalescing.
 */
import type { RunRecord } from '../../queue/types.js';
import type { Reporter } from '../../setup/ports.js';
import { runMessage } from '../blocks/run-message.js';
import { runViewFromRecord } from '../blocks/run-view.js';
import {
  createSenderClient,
  createSlackSender,
  type SlackCallObserver,
  type SlackSender,
} from '../delivery/slack-sender.js';
import type { SlackPace } from '../delivery/pace.js';
import { type Log, silentLog } from '../log.js';
import { RunOutbox } from './run-outbox.js';
import { createRunReporter, type RunReporterContext } from './slack-reporter.js';

export type AttachMessage = (
  runId: string,
  messages: { messageTs?: string; approvalTs?: string },
) => Promise<void>;

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
}

export interface SlackReporters {
  reporterFor(run: RunRecord): Reporter;
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
      known.outbox.adoptParent(run.messageTs);
      return known;
    }
    const view = runViewFromRecord(run);
    const ctx: RunReporterContext = {
      record: run,
      view,
      approvers: options.approvers,
      approval: { request: undefined, ts: run.approvalTs },
      approvalPosted: (ts) => options.attach(run.id, { approvalTs: ts }),
      finished: () => {
        void ctx.outbox.idle().then(() => {
          if (runs.get(run.id) === ctx) runs.delete(run.id);
        });
      },
      outbox: new RunOutbox({
        runId: run.id,
        sender,
        channel: run.channel,
        parentTs: run.messageTs,
        render: () => runMessage(view),
        parentPosted: (ts) => options.attach(run.id, { messageTs: ts }),
        settled: () => view.state === 'awaiting-approval' || view.finishedAt !== undefined,
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

  return {
    reporterFor: (run) => createRunReporter(contextFor(run)),
    idle,
    async close(timeoutMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([idle(), new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
      clearTimeout(timer);
      sender.close();
    },
  };
}
