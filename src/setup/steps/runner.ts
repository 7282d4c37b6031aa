import { runnerSpec } from '../container-specs.js';
import { checkContainer, ensureContainer } from './container.js';
import type { Check, VmStep } from './step.js';

/** Pulling the runner image can take minutes on a fresh VM. */
const RUN_TIMEOUT_MS = 15 * 60_000;

export const runnerStep: VmStep = {
  id: 'runner',
  check(ctx): Promise<Check> {
    return checkContainer(ctx, runnerSpec(ctx.settings, ctx.material.poolHash));
  },
  apply(ctx, found): Promise<string> {
    const spec = runnerSpec(ctx.settings, ctx.material.poolHash);
    const create = async () => {
      await ctx.vm.run(['docker', 'run', ...spec.args], { root: true, timeoutMs: RUN_TIMEOUT_MS });
    };
    return ensureContainer(ctx, spec, create, found.seen);
  },
};
