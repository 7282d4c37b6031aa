/**
 * The approval gate of a queued run: the decision is whatever the run record holds (written atomically by
 * `RunService.decide` or `cancel`). No decision yet means pending, and the worker parks the job; once the
 * request has run out, the gate records the expiry through the same atomic step, so a click landing at
 * that instant either wins before it or is told the request expired.
 */
import { GitspacesError } from '../errors.js';
import type { ApprovalDecision, ApprovalGate, Clock } from '../setup/ports.js';
import type { RunStore } from './run-store.js';

export function createRunApprovalGate(
  store: RunStore,
  runId: string,
  clock: Pick<Clock, 'now'>,
): ApprovalGate {
  async function recorded(): Promise<ApprovalDecision | undefined> {
    const run = await store.get(runId);
    if (run === undefined)
      throw new GitspacesError('INTERNAL', `Run ${runId} has no record; it cannot be approved.`);
    return run.decision;
  }

  return {
    async decide(request) {
      const decision = await recorded();
      if (decision !== undefined) return decision;
      const now = clock.now();
      if (now < request.expiresAt) {
        // A resumed run may not have said so yet: clicks are accepted only while the record shows it waiting.
        await store.update(runId, { state: 'awaiting-approval', approvalExpiresAt: request.expiresAt });
        return (await recorded()) ?? { kind: 'pending' };
      }
      await store.decide(runId, { kind: 'expired' }, now);
      return (await recorded()) ?? { kind: 'expired' };
    },
  };
}
