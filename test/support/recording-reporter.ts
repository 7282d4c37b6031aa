/**
 * A Reporter standing in for the Slack thread in queue tests: it keeps every event (optionally also as
 * JSON lines in a file, for a worker running in a child process) and lets a test wait for one.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type {
  ApprovalRequest,
  ReportedError,
  Reporter,
  RunResult,
  StepRecord,
} from '../../src/setup/ports.js';
import type { StepId } from '../../src/setup/step-ids.js';

export type ReportedEvent =
  | { kind: 'runStarted'; runId: string; resumed: boolean }
  | { kind: 'stepStarted'; runId: string; step: StepId }
  | { kind: 'stepFinished'; runId: string; record: StepRecord }
  | { kind: 'stepFailed'; runId: string; record: StepRecord; error: ReportedError }
  | { kind: 'approvalRequested'; runId: string; request: ApprovalRequest }
  | { kind: 'runFinished'; runId: string; result: RunResult };

export class RecordingReporter {
  readonly events: ReportedEvent[] = [];
  private readonly waiters = new Set<() => void>();

  constructor(private readonly file?: string) {}

  /** The reporter for one run (what `reporterFor(run)` returns). */
  forRun(runId: string): Reporter {
    return {
      runStarted: (info) => this.push({ kind: 'runStarted', runId, resumed: info.resumed }),
      stepStarted: (step) => this.push({ kind: 'stepStarted', runId, step }),
      stepFinished: (record) => this.push({ kind: 'stepFinished', runId, record }),
      stepFailed: (record, error) => this.push({ kind: 'stepFailed', runId, record, error }),
      approvalRequested: (request) => this.push({ kind: 'approvalRequested', runId, request }),
      runFinished: (result) => this.push({ kind: 'runFinished', runId, result }),
    };
  }

  of<K extends ReportedEvent['kind']>(kind: K, runId?: string): Extract<ReportedEvent, { kind: K }>[] {
    return this.events.filter(
      (e): e is Extract<ReportedEvent, { kind: K }> =>
        e.kind === kind && (runId === undefined || e.runId === runId),
    );
  }

  /** Resolves with the first event of that kind (already seen or yet to come). */
  async waitFor<K extends ReportedEvent['kind']>(
    kind: K,
    runId: string,
    timeoutMs = 30_000,
  ): Promise<Extract<ReportedEvent, { kind: K }>> {
    return waitUntil(
      () => this.of(kind, runId)[0],
      `${kind} of ${runId}`,
      timeoutMs,
      (wake) => {
        this.waiters.add(wake);
        return () => this.waiters.delete(wake);
      },
    );
  }

  private push(event: ReportedEvent): void {
    this.events.push(event);
    if (this.file !== undefined) appendFileSync(this.file, `${JSON.stringify(event)}\n`);
    for (const wake of this.waiters) wake();
  }
}

/** Events a worker in a child process wrote with `new RecordingReporter(file)`. */
export function readReportedEvents(file: string): ReportedEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ReportedEvent);
}

/**
 * Polls `probe` (and re-checks whenever `subscribe`'s wake is called) until it gives a value. The timeout
 * only turns a hang into a readable failure; no test asserts on how long anything took.
 */
export async function waitUntil<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 30_000,
  subscribe?: (wake: () => void) => () => void,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, 50);
      const unsubscribe = subscribe?.(done);
      function done() {
        clearTimeout(timer);
        unsubscribe?.();
        resolve();
      }
    });
  }
}
