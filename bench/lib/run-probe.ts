/**
 * Timestamps of what happens inside a worker, taken through the hooks the worker already offers: the
 * `runSetup` it calls (one call per time a job is taken up) and the reporter it hands the engine. Nothing
 * in the product is patched; the probe wraps what it passes in.
 */
import type { RunSetup } from '../../jobs/setup.js';
import type { RunRecord } from '../../src/queue/types.js';
import { runSetup } from '../../src/setup/engine.js';
import type { Reporter } from '../../src/setup/ports.js';
import { now } from './clock.js';

export interface ProbeEvent {
  runId: string;
  vm: string;
  /** `job`, `result:<state>`, `runStarted`, `started:<step>`, `finished:<step>`, `failed:<step>`, `approvalRequested`, `runFinished` */
  event: string;
  at: number;
}

export type ProbeSink = (event: ProbeEvent) => void;

export interface RunProbe {
  /** Engine calls in progress right now (runs a worker drives at this moment). */
  active(): number;
  runSetup: RunSetup;
  wrapReporter(run: RunRecord, inner: Reporter): Reporter;
}

export function createRunProbe(sink: ProbeSink): RunProbe {
  let active = 0;
  const emit = (runId: string, vm: string, event: string) => sink({ runId, vm, event, at: now() });
  return {
    active: () => active,
    async runSetup(input, deps) {
      active += 1;
      emit(input.runId, input.settings.vm, 'job');
      try {
        const result = await runSetup(input, deps);
        emit(input.runId, input.settings.vm, `result:${result.state}`);
        return result;
      } finally {
        active -= 1;
      }
    },
    wrapReporter(run, inner) {
      const e = (event: string) => emit(run.id, run.target.vm, event);
      return {
        runStarted(info) {
          e('runStarted');
          return inner.runStarted(info);
        },
        stepStarted(id) {
          e(`started:${id}`);
          return inner.stepStarted(id);
        },
        stepOutput(id, text) {
          return inner.stepOutput?.(id, text);
        },
        stepFinished(record) {
          e(`finished:${record.id}`);
          return inner.stepFinished(record);
        },
        stepFailed(record, error) {
          e(`failed:${record.id}`);
          return inner.stepFailed(record, error);
        },
        approvalRequested(request) {
          e('approvalRequested');
          return inner.approvalRequested(request);
        },
        runFinished(result) {
          e('runFinished');
          return inner.runFinished(result);
        },
      };
    },
  };
}

/** Collects probe events (from this process or forwarded by worker processes) and waits for them. */
export class ProbeLog {
  readonly events: ProbeEvent[] = [];
  private readonly waiters: Array<{ test: (e: ProbeEvent) => boolean; resolve: (e: ProbeEvent) => void }> =
    [];

  readonly sink: ProbeSink = (event) => {
    this.events.push(event);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(event)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  };

  find(runId: string, event: string, after = 0): ProbeEvent | undefined {
    return this.events.find((e) => e.runId === runId && e.event === event && e.at >= after);
  }

  wait(runId: string, event: string, timeoutMs: number, after = 0): Promise<ProbeEvent> {
    const found = this.find(runId, event, after);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${event} of ${runId}`));
      }, timeoutMs);
      const waiter = {
        test: (e: ProbeEvent) => e.runId === runId && e.event === event && e.at >= after,
        resolve: (e: ProbeEvent) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      this.waiters.push(waiter);
    });
  }
}
