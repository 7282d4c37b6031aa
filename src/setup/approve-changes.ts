import { type Approval, ask } from './approval.js';
import { type ContainerChange, describeChanges } from './change/change-plan.js';

const delegateOf = (a: Approval, changes: ContainerChange[]) =>
  changes.find((c) => c.name === a.runner.settings.delegateName);

/**
 * Before the first step that changes anything: a run that would stop or replace a running container waits
 * here for an approval, having said old → new for each. A run that only repairs (a container gone or
 * stopped) goes on; the delegate's own install is approved later, before `delegate`.
 */
export async function approveChanges(a: Approval): Promise<ContainerChange[]> {
  const { runner, input } = a;
  if (runner.isDone('approval')) return [];
  // Asked already (this is the run resumed by a decision): the decision is what counts now, and each step's
  // own check sees the VM. Working out the plan again only delays the action.
  if (input.mode === 'setup' && runner.journal.approvalRequestedAt !== undefined) {
    await ask(a, []);
    return [];
  }
  const changes = await runner.changes();
  const lines = describeChanges(changes.filter((c) => c.action !== 'none'));
  if (lines.length > 0)
    await a.deps.reporter.stepOutput?.('docker', `what would change: ${lines.join('; ')}`);
  if (!changes.some((c) => c.disruptive)) return changes;
  if (input.mode === 'plan') {
    runner.record({
      id: 'approval',
      state: 'pending',
      durationMs: undefined,
      summary: `would ask the approvers before anything changes: ${describeChanges(changes.filter((c) => c.disruptive)).join('; ')}`,
    });
    return changes;
  }
  await ask(a, changes);
  return changes;
}

/**
 * Before `delegate`, unless approved already: installing a delegate (or changing a stopped one) needs an
 * approval; one in place as wanted, or only stopped, does not.
 */
export async function approveInstall(a: Approval, earlier: ContainerChange[]): Promise<void> {
  const { runner, input } = a;
  if (runner.isDone('approval') || (input.mode === 'plan' && runner.journal.steps.approval)) return;
  // Asked already (this is the run resumed by a decision): whatever happened on the VM since, the
  // `delegate` step's own check sees. Looking again only delays the action.
  const asked = runner.journal.approvalRequestedAt !== undefined;
  const delegate = asked ? undefined : (delegateOf(a, earlier) ?? delegateOf(a, await runner.changes()));
  const needed =
    asked || delegate === undefined || delegate.action === 'create' || delegate.action === 'replace';
  if (input.mode === 'plan') {
    runner.record({
      id: 'approval',
      state: needed ? 'pending' : 'unchanged',
      durationMs: undefined,
      summary: needed ? 'would ask the approvers' : 'the delegate is installed as wanted: nothing to approve',
    });
    return;
  }
  if (!needed) {
    const summary = 'the delegate is already installed as wanted: nothing to approve';
    await runner.finish('approval', 'unchanged', summary, 0);
    return;
  }
  await ask(a, delegate ? [delegate] : []);
}
