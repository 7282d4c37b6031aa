import { delegateEnv, delegateSpec, envFileContent } from '../container-specs.js';
import { command, quote, stdinFile } from '../shell.js';
import { checkContainer, ensureContainer } from './container.js';
import type { Check, StepContext, VmStep } from './step.js';

const RUN_TIMEOUT_MS = 15 * 60_000;
/** The run's own env files: `<prefix>XXXXXXXX` (mktemp), so clean-up never touches another run's. */
const envFilePrefix = (ctx: StepContext) =>
  `/tmp/gitspaces-delegate.${ctx.runId.replace(/[^A-Za-z0-9_-]/g, '')}.`;
/** Stands for the env file's path in the `docker run` arguments until the script has made the file. */
const ENV_FILE = '@env-file@';

/** Env files of this run's interrupted earlier attempts hold the token too: none may outlive the step. */
const removeStale = (ctx: StepContext) => `rm -f ${quote(envFilePrefix(ctx))}*`;

/**
 * The token travels only in a fresh mktemp file (0600 root, outside RUNNER_DIR which the runner mounts)
 * that `docker run --env-file` reads; the file is removed right after, whatever `docker run` returned. Its
 * content arrives on the command's stdin, never in an argv, and the whole is one privileged command: one
 * round trip and one `sudo` where mktemp, SFTP, docker run and rm took four.
 */
async function runDelegate(ctx: StepContext): Promise<void> {
  const spec = delegateSpec(ctx.settings, ctx.material.token, ENV_FILE);
  const run = command('docker', 'run', ...spec.args).replace(quote(ENV_FILE), '"$f"');
  const script = [
    removeStale(ctx),
    `f=$(mktemp ${quote(`${envFilePrefix(ctx)}XXXXXXXX`)}) || exit 1`,
    'base64 -d >"$f" || { rm -f "$f"; exit 1; }',
    `${run}; rc=$?`,
    'rm -f "$f"; exit $rc',
  ].join('\n');
  const env = stdinFile(envFileContent(delegateEnv(ctx.settings, ctx.material.token)));
  try {
    const result = await ctx.vm.script(
      script,
      { root: true, allowFail: true, timeoutMs: RUN_TIMEOUT_MS, stdin: env },
      'docker run',
    );
    if (result.code !== 0) throw ctx.vm.failure('docker run', result);
  } catch (error) {
    // A command cut off (a dropped connection) may have left its file: look again over a fresh session.
    await ctx.vm.script(removeStale(ctx), { root: true, allowFail: true }, 'rm env files').catch(() => {});
    throw error;
  }
}

export const delegateStep: VmStep = {
  id: 'delegate',
  async check(ctx): Promise<Check> {
    // Also clears env files an attempt cut off between `docker run` and its `rm` may have left, in case
    // the retry finds the delegate in place and never applies.
    return checkContainer(ctx, delegateSpec(ctx.settings, ctx.material.token, ''), removeStale(ctx));
  },
  apply(ctx, found): Promise<string> {
    const spec = delegateSpec(ctx.settings, ctx.material.token, '');
    return ensureContainer(ctx, spec, () => runDelegate(ctx), found.seen);
  },
};
