import { delegateEnv, delegateSpec, envFileContent } from '../container-specs.js';
import { command, privileged, quote } from '../shell.js';
import { checkContainer, ensureContainer } from './container.js';
import type { Check, StepContext, VmStep } from './step.js';

const RUN_TIMEOUT_MS = 15 * 60_000;
/** The run's own env files: `<prefix>XXXXXXXX` (mktemp), so clean-up never touches another run's. */
const envFilePrefix = (ctx: StepContext) =>
  `/tmp/gitspaces-delegate.${ctx.runId.replace(/[^A-Za-z0-9_-]/g, '')}.`;

/** Env files of this run's interrupted earlier attempts hold the token too: none may outlive the step. */
async function removeStaleEnvFiles(ctx: StepContext): Promise<void> {
  await ctx.vm.script(`rm -f ${quote(envFilePrefix(ctx))}*`, { allowFail: true }, 'rm env files');
}

/**
 * The token travels only in a fresh mktemp file (0600, outside RUNNER_DIR which the runner mounts) that
 * `docker run --env-file` reads; the file is removed right after, whatever `docker run` returned.
 */
async function runDelegate(ctx: StepContext): Promise<void> {
  const envFile = (await ctx.vm.run(['mktemp', `${envFilePrefix(ctx)}XXXXXXXX`])).stdout.trim();
  const spec = delegateSpec(ctx.settings, ctx.material.token, envFile);
  try {
    await ctx.remote.putFile(envFile, envFileContent(delegateEnv(ctx.settings, ctx.material.token)), 0o600);
    const run = privileged(ctx.vm.user, command('docker', 'run', ...spec.args));
    const result = await ctx.vm.script(`${run}; rc=$?; rm -f ${quote(envFile)}; exit $rc`, {
      allowFail: true,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    if (result.code !== 0) throw ctx.vm.failure('docker run', result);
  } finally {
    await removeStaleEnvFiles(ctx);
  }
}

export const delegateStep: VmStep = {
  id: 'delegate',
  async check(ctx): Promise<Check> {
    return checkContainer(ctx, delegateSpec(ctx.settings, ctx.material.token, ''));
  },
  apply(ctx): Promise<string> {
    return ensureContainer(ctx, delegateSpec(ctx.settings, ctx.material.token, ''), () => runDelegate(ctx));
  },
};
