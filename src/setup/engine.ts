import { asGitspacesError } from '../errors.js';
import { RunAbandoned, throwIfAbandoned } from './abandon.js';
import { fingerprint } from './fingerprint.js';
import type { ApprovalDecision, ApprovalRequest, JournalState, RunResult } from './ports.js';
import { type Preflight, preflight } from './preflight.js';
import { Redactor } from './redactor.js';
import type { EngineDeps, RunInput } from './run-input.js';
import { assertValidSettings } from './settings.js';
import { StepRunner } from './step-runner.js';
import { AFTER_APPROVAL, BEFORE_APPROVAL } from './steps/index.js';

export { RunAbandoned } from './abandon.js';
export type { SetupTarget } from './preflight.js';
export type { EngineDeps, RunInput };

/** Slack user ids become mentions; anyone else (a terminal user) is named as is. */
const who = (by: string) => (/^[UW][A-Z0-9]{2,}$/.test(by) ? `<@${by}>` : by);

class RunEnded extends Error {
  constructor(readonly result: Omit<RunResult, 'runId' | 'vm' | 'steps' | 'unchanged'>) {
    super(result.state);
  }
}

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
    for (const step of BEFORE_APPROVAL) {
      await runner.vmStep(step);
      // Pulled while the pool file and the network are seen to, the runner image costs its step no wait;
      // the delegate image follows, so that approving costs no pull either.
      if (step.id === 'docker' && input.mode === 'setup')
        runner.pulls.ahead(input.settings.runnerImage, input.settings.delegateImage);
    }
    await approve(runner, input, deps, pre);
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

/**
 * The delegate image is pulled while the approvers read the request, so that approving costs no pull. A
 * click that lands during the pull is seen when it ends; a pull that fails is said, and the delegate step
 * tries again (and fails with Docker's message) after approval.
 */
async function decideWhilePulling(
  runner: StepRunner,
  input: RunInput,
  deps: EngineDeps,
  request: ApprovalRequest,
): Promise<ApprovalDecision> {
  const pulled = runner.pulls.ensure(input.settings.delegateImage).then(
    () => undefined,
    (error: unknown) => asGitspacesError(error).message,
  );
  const decision = await deps.gate.decide(request);
  if (decision.kind !== 'pending' && decision.kind !== 'approved') return decision;
  const failed = await pulled;
  if (failed !== undefined)
    await deps.reporter.stepOutput?.('approval', `${failed} The delegate step tries again after approval.`);
  return decision.kind === 'pending' ? deps.gate.decide(request) : decision;
}

async function approve(runner: StepRunner, input: RunInput, deps: EngineDeps, pre: Preflight): Promise<void> {
  if (runner.isDone('approval')) return;
  if (input.mode === 'plan') {
    const installed = await runner.alreadyInstalled();
    runner.record({
      id: 'approval',
      state: installed ? 'unchanged' : 'pending',
      durationMs: undefined,
      summary: installed
        ? 'the delegate is installed as wanted: nothing to approve'
        : 'would ask the approvers',
    });
    return;
  }
  // Asked already (this is the run resumed by a decision): the delegate was not in place then, and whatever
  // happened on the VM since, the `delegate` step's own check sees. Looking again only delays the action.
  if (runner.journal.approvalRequestedAt === undefined && (await runner.alreadyInstalled())) {
    await runner.finish(
      'approval',
      'unchanged',
      'the delegate is already installed as wanted: nothing to approve',
      0,
    );
    return;
  }
  await runner.start('approval');
  const journal = runner.journal;
  const firstAsk = journal.approvalRequestedAt === undefined;
  const askedAt = journal.approvalRequestedAt ?? deps.clock.now();
  const request: ApprovalRequest = {
    runId: input.runId,
    vm: input.settings.vm,
    hostKeyFingerprint: runner.hostKey ? fingerprint(runner.hostKey) : (pre.pin.expected()[0] ?? 'unknown'),
    delegateName: input.settings.delegateName,
    delegateImage: input.settings.delegateImage,
    accountId: input.settings.accountId,
    tags: input.settings.delegateTags,
    expiresAt: askedAt + input.settings.approvalTtlMs,
  };
  if (firstAsk) {
    // Ask before recording that we asked: a crash in between asks twice rather than never.
    throwIfAbandoned(deps.signal);
    await deps.reporter.approvalRequested(request);
    journal.approvalRequestedAt = askedAt;
    journal.step = 'approval';
    await deps.journal.save(journal);
  }
  const decision = await decideWhilePulling(runner, input, deps, request);
  const waited = deps.clock.now() - askedAt;
  switch (decision.kind) {
    case 'approved':
      await runner.finish('approval', 'done', `approved by ${who(decision.by)}`, waited);
      return;
    case 'pending':
      await runner.finish('approval', 'waiting', 'waiting for an approver', undefined);
      throw new RunEnded({ state: 'awaiting-approval', step: 'approval', error: undefined });
    case 'rejected':
      await runner.finish('approval', 'failed', `rejected by ${who(decision.by)}`, waited);
      throw new RunEnded({ state: 'rejected', step: 'approval', error: undefined });
    case 'expired':
      await runner.finish('approval', 'failed', 'no approver decided in time', waited);
      throw new RunEnded({ state: 'expired', step: 'approval', error: undefined });
    case 'cancelled':
      await runner.finish('approval', 'cancelled', `cancelled by ${who(decision.by)}`, waited);
      throw new RunEnded({ state: 'cancelled', step: 'approval', error: undefined });
  }
}
