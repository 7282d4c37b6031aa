import { asGitspacesError } from '../errors.js';
import { throwIfAbandoned } from './abandon.js';
import { type ContainerChange, describeChanges } from './change/change-plan.js';
import { delegateAdvice } from './delegate-age.js';
import { fingerprint } from './fingerprint.js';
import type { ApprovalDecision, ApprovalRequest, RunResult } from './ports.js';
import type { Preflight } from './preflight.js';
import type { EngineDeps, RunInput } from './run-input.js';
import type { StepRunner } from './step-runner.js';

/** Slack user ids become mentions; anyone else (a terminal user) is named as is. */
const who = (by: string) => (/^[UW][A-Z0-9]{2,}$/.test(by) ? `<@${by}>` : by);

export class RunEnded extends Error {
  constructor(readonly result: Omit<RunResult, 'runId' | 'vm' | 'steps' | 'unchanged'>) {
    super(result.state);
  }
}

export interface Approval {
  runner: StepRunner;
  input: RunInput;
  deps: EngineDeps;
  pre: Preflight;
}

/**
 * The delegate image is pulled while the approvers read the request, so that approving costs no pull. A
 * click that lands during the pull is seen when it ends; a pull that fails is said, and the delegate step
 * tries again (and fails with Docker's message) after approval.
 */
async function decideWhilePulling(a: Approval, request: ApprovalRequest): Promise<ApprovalDecision> {
  const { runner, deps } = a;
  const pulled = runner.pulls.ensure(runner.settings.delegateImage).then(
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

/** "delegate 25.03.85504 is 21 months old: …", with Harness's latest supported tag when it can be asked. */
export async function delegateAgeLine(a: Pick<Approval, 'runner' | 'deps' | 'input'>): Promise<string> {
  const latest = await a.deps.delegateVersions?.latestSupported().catch(() => undefined);
  const image = a.runner.settings.delegateImage;
  return delegateAdvice(image, a.deps.clock.now(), a.input.settings.vm, latest).text;
}

async function buildRequest(
  a: Approval,
  changes: ContainerChange[],
  askedAt: number,
): Promise<ApprovalRequest> {
  const { runner, input, pre } = a;
  const lines = describeChanges(changes.filter((c) => c.action !== 'none'));
  return {
    runId: input.runId,
    vm: input.settings.vm,
    hostKeyFingerprint: runner.hostKey ? fingerprint(runner.hostKey) : (pre.pin.expected()[0] ?? 'unknown'),
    delegateName: runner.settings.delegateName,
    delegateImage: runner.settings.delegateImage,
    accountId: runner.settings.accountId,
    tags: runner.settings.delegateTags,
    expiresAt: askedAt + input.settings.approvalTtlMs,
    ...(lines.length > 0 ? { changes: lines } : {}),
    delegateAge: await delegateAgeLine(a),
  };
}

/** Asks (once; a resumed run looks the decision up) and ends the run unless the answer is yes. */
export async function ask(a: Approval, changes: ContainerChange[]): Promise<void> {
  const { runner, deps } = a;
  await runner.start('approval');
  const journal = runner.journal;
  const firstAsk = journal.approvalRequestedAt === undefined;
  const askedAt = journal.approvalRequestedAt ?? deps.clock.now();
  const request = await buildRequest(a, changes, askedAt);
  if (firstAsk) {
    // Ask before recording that we asked: a crash in between asks twice rather than never.
    throwIfAbandoned(deps.signal);
    await deps.reporter.approvalRequested(request);
    journal.approvalRequestedAt = askedAt;
    journal.step = 'approval';
    await deps.journal.save(journal);
  }
  const decision = await decideWhilePulling(a, request);
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
