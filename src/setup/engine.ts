import { asGitspacesError } from '../errors.js';
import { RunAbandoned, throwIfAbandoned } from './abandon.js';
import { RunEnded } from './approval.js';
import { approveChanges, approveInstall } from './approve-changes.js';
import type { ContainerChange } from './change/change-plan.js';
import { chooseImages } from './change/choose-images.js';
import type { JournalState, RunResult } from './ports.js';
import { preflight } from './preflight.js';
import { Redactor } from './redactor.js';
import type { EngineDeps, RunInput } from './run-input.js';
import { assertValidSettings } from './settings.js';
import { StepRunner } from './step-runner.js';
import { AFTER_APPROVAL, BEFORE_APPROVAL } from './steps/index.js';

export { RunAbandoned } from './abandon.js';
export type { SetupTarget } from './preflight.js';
export type { EngineDeps, RunInput };

/**
 * Takes a VM from bare to "runner and delegate up": preflight, connect, then each step as check → apply →
 * verify. Resumes at the journal's step; returns `awaiting-approval` when the run must wait for a person.
 * Throws `RunAbandoned`, having stopped before its next step or command, once `deps.signal` fires.
 */
export async function runSetup(input: RunInput, deps: EngineDeps): Promise<RunResult> {
  const redactor = deps.redactor ?? new Redactor();
  const saved = await deps.journal.load();
  const journal: JournalState = saved ?? { step: undefined, steps: {}, approvalRequestedAt: undefined };
  const runner = new StepRunner(input, deps, redactor, journal);
  await deps.reporter.runStarted({
    runId: input.runId,
    vm: input.settings.vm,
    mode: input.mode,
    resumed: saved !== undefined,
  });
  await runner.replayDone();
  let ended: RunEnded['result'];
  try {
    assertValidSettings(input.settings);
    const pre = await runner.once('preflight', async () => {
      const found = await preflight(input.target, input.settings, input.sshPort, input.address, {
        ...deps,
        redactor,
      });
      return { found, summary: found.summary };
    });
    await runner.connect(pre);
    const approval = { runner, input, deps, pre };
    let changes: ContainerChange[] = [];
    for (const step of BEFORE_APPROVAL) {
      await runner.vmStep(step);
      if (step.id !== 'docker') continue;
      const upgrade = input.kind === 'upgrade' ? (input.upgrade ?? {}) : undefined;
      await runner.chooseImages((ctx) => chooseImages(ctx, upgrade));
      assertValidSettings(runner.settings);
      // The runner image is pulled by its step, the delegate image while the approvers read the request:
      // pulls in the background beside the steps' own commands made runs stall now and then.
      changes = await approveChanges(approval);
    }
    await approveInstall(approval, changes);
    for (const step of AFTER_APPROVAL) await runner.vmStep(step);
    ended = { state: 'succeeded', step: undefined, error: undefined };
  } catch (error) {
    // Lost to another worker: no failure to record or report, that worker goes on with the run.
    if (deps.signal?.aborted)
      throw error instanceof RunAbandoned ? error : new RunAbandoned(deps.signal.reason);
    ended = error instanceof RunEnded ? error.result : await runner.failed(asGitspacesError(error));
  } finally {
    await runner.close();
  }
  const result = runner.result(ended);
  throwIfAbandoned(deps.signal);
  if (result.state !== 'awaiting-approval') await deps.reporter.runFinished(result);
  return result;
}
