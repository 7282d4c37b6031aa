import { GitspacesError } from '../../errors.js';
import { dropPrevious, rollBack } from '../change/replace-container.js';
import { delegateSpec, RUNNER_NAME, runnerSpec } from '../container-specs.js';
import { answersOnVm, delegateHealth } from '../health-probes.js';
import { describeWithFix, readRunnerErrors } from '../runner-errors.js';
import type { StepId } from '../step-ids.js';
import { describeRefusal } from '../token-refusal.js';
import { tail } from '../vm-shell.js';
import { inspectContainer } from './container.js';
import { dropPreviousPoolScript, restorePreviousPool } from './pool-file.js';
import type { Check, StepContext, VmStep } from './step.js';

/**
 * Looks soon after a start (a container that comes up in a second is seen in a second, not two), then every
 * 2 s: each look is a command on the VM.
 */
const POLL_MS = [250, 250, 500, 500, 1000, 2000];
const pollAfter = (looks: number) => POLL_MS[Math.min(looks, POLL_MS.length - 1)] ?? 2000;

interface HealthProbe {
  id: StepId;
  /** The container step whose change means this health check verifies something new. */
  after: StepId;
  container(ctx: StepContext): string;
  state(ctx: StepContext): ReturnType<typeof inspectContainer>;
  timeoutMs(ctx: StepContext): number;
  probe(ctx: StepContext): Promise<boolean>;
  /** Undoes what went with the container's replacement (the runner's pool file) once it is rolled back. */
  undo?(ctx: StepContext): Promise<void>;
  /** Drops what was kept for a rollback once the container is healthy: a script run with the kept container's removal. */
  tidy?(ctx: StepContext): string;
  /** What to add to the summary of a healthy container ("; warning: …"), read once it answers. */
  warning?(ctx: StepContext): Promise<string>;
}

/** The last log lines of a container, redacted: what a person needs to see when it does not come up. */
async function logTail(ctx: StepContext, name: string): Promise<string> {
  const logs = await ctx.vm.run(['docker', 'logs', '--tail', '30', name], { root: true, allowFail: true });
  return ctx.redactor.redact(tail(`${logs.stdout}${logs.stderr}`, 30)) || '(no log output)';
}

function healthStep(p: HealthProbe): VmStep {
  return {
    id: p.id,
    after: p.after,
    async check(ctx): Promise<Check> {
      // A probe that knows waiting cannot help (a refused token) fails in `apply`, where a rollback can follow.
      const healthy = await p.probe(ctx).catch((error: unknown) => {
        if (error instanceof GitspacesError && !error.retryable) return false;
        throw error;
      });
      if (!healthy) return { ok: false, summary: `${p.container(ctx)} is not healthy yet` };
      return { ok: true, summary: `${p.container(ctx)} is healthy${(await p.warning?.(ctx)) ?? ''}` };
    },
    async apply(ctx): Promise<string> {
      try {
        return await waitHealthy(p, ctx);
      } catch (error) {
        // A dropped connection is retried by the step; a worker that lost the run leaves it to the other.
        if (!(error instanceof GitspacesError) || error.retryable || ctx.signal?.aborted) throw error;
        const name = p.container(ctx);
        const rolled = await rollBack(ctx, name, error, {
          healthy: () => p.probe(ctx).catch(() => false),
          timeoutMs: p.timeoutMs(ctx),
        });
        if (rolled !== error) await p.undo?.(ctx);
        throw rolled;
      }
    },
    async settle(ctx): Promise<string | undefined> {
      return dropPrevious(ctx, p.container(ctx), p.tidy?.(ctx));
    },
  };
}

async function waitHealthy(p: HealthProbe, ctx: StepContext): Promise<string> {
  const name = p.container(ctx);
  const started = ctx.clock.now();
  const deadline = started + p.timeoutMs(ctx);
  for (let looks = 0; ; looks++) {
    if (await p.probe(ctx)) {
      const after = Math.round((ctx.clock.now() - started) / 1000);
      return `${name} healthy after ${after}s${(await p.warning?.(ctx)) ?? ''}`;
    }
    const state = await p.state(ctx);
    if (!state || state.status === 'exited' || state.status === 'dead') {
      throw new GitspacesError(
        'HEALTH_TIMEOUT',
        `${name} is ${state?.status ?? 'gone'}: it stopped instead of becoming healthy.`,
        { detail: await logTail(ctx, name) },
      );
    }
    if (ctx.clock.now() >= deadline) {
      throw new GitspacesError(
        'HEALTH_TIMEOUT',
        `${name} was not healthy within ${Math.round(p.timeoutMs(ctx) / 1000)}s (it is ${state.status}). Its last log lines are below.`,
        { detail: await logTail(ctx, name) },
      );
    }
    await ctx.clock.sleep(pollAfter(looks), ctx.signal);
  }
}

/** The runner answers `/healthz` only after its pools are built (FACTS: start order). */
export const runnerHealthStep = healthStep({
  id: 'runner-health',
  after: 'runner',
  container: () => RUNNER_NAME,
  state: (ctx) => inspectContainer(ctx, runnerSpec(ctx.settings, ctx.material.poolHash)),
  timeoutMs: (ctx) => ctx.settings.runnerHealthTimeoutMs,
  probe: (ctx) => answersOnVm(ctx, ctx.settings.runnerHealthPort, '/healthz'),
  undo: restorePreviousPool,
  tidy: dropPreviousPoolScript,
  // A pool whose VMs Google refuses (a permission, a quota, a zone, an image) does not keep the runner from
  // answering: it only logs. Said here, on the day the pool is set up, not first in a failed Gitspace.
  async warning(ctx) {
    const errors = await readRunnerErrors(ctx.vm, ctx.redactor);
    return errors === undefined ? '' : `; warning: ${RUNNER_NAME} ${describeWithFix(errors)}`;
  },
});

export const delegateHealthStep = healthStep({
  id: 'delegate-health',
  after: 'delegate',
  container: (ctx) => ctx.settings.delegateName,
  state: (ctx) => inspectContainer(ctx, delegateSpec(ctx.settings, ctx.material.token, '')),
  timeoutMs: (ctx) => ctx.settings.delegateHealthTimeoutMs,
  async probe(ctx) {
    const name = ctx.settings.delegateName;
    const { health, refusal, log } = await delegateHealth(ctx, name);
    if (refusal !== undefined) {
      // Waiting longer cannot help: Harness refused the token.
      throw new GitspacesError('HEALTH_TIMEOUT', `${name}: ${describeRefusal(refusal)}.`, { detail: log });
    }
    return health === 'healthy';
  },
});
