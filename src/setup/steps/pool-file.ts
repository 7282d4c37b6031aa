import { posix } from 'node:path';
import { GitspacesError, isGitspacesError } from '../../errors.js';
import { sha256 } from '../container-specs.js';
import { SA_KEY_FILE } from '../pool-file.js';
import { quote, stdinFile } from '../shell.js';
import type { Check, StepContext, VmStep } from './step.js';

const poolPath = (ctx: StepContext) => posix.join(ctx.settings.runnerDir, 'pool.yml');
const keyPath = (ctx: StepContext) => posix.join(ctx.settings.runnerDir, SA_KEY_FILE);

/** sha256 of each path, or '' when missing. */
async function hashes(ctx: StepContext, paths: string[]): Promise<string[]> {
  const script = paths.map((p) => `(sha256sum ${quote(p)} 2>/dev/null || echo -) | cut -d' ' -f1`).join('; ');
  const result = await ctx.vm.script(script, { root: true, allowFail: true }, 'sha256sum');
  const lines = result.stdout.trim().split('\n');
  return paths.map((_, i) => (lines[i] === '-' ? '' : (lines[i] ?? '')));
}

/**
 * Writes a file the runner reads, in one privileged command: the content arrives on stdin (never in an
 * argv) into a fresh private temp file, then is moved into place with mode 0600, so no reader ever sees a
 * partial or world-readable file. `before` runs first in the same command (keeping the previous pool file).
 * One command instead of mktemp, SFTP, install and rm: each is a round trip and a `sudo`.
 */
async function placeFile(
  ctx: StepContext,
  dest: string,
  content: string | Buffer,
  before = '',
): Promise<void> {
  const script = [
    'set -e',
    `mkdir -p ${quote(posix.dirname(dest))}`,
    ...(before === '' ? [] : [before]),
    't=$(mktemp /tmp/gitspaces-file.XXXXXXXX)',
    `trap 'rm -f "$t"' EXIT`,
    'base64 -d >"$t"',
    `install -m 0600 "$t" ${quote(dest)}`,
  ].join('\n');
  await ctx.vm
    .script(script, { root: true, stdin: stdinFile(content) }, `install ${dest}`)
    .catch((error: unknown) => {
      throw readOnlyRunnerDir(ctx, error) ?? error;
    });
}

/** Container-Optimized OS keeps `/` read-only, so the default RUNNER_DIR cannot be made there. */
function readOnlyRunnerDir(ctx: StepContext, error: unknown): GitspacesError | undefined {
  if (!isGitspacesError(error) || !/read-only file system/i.test(error.detail ?? '')) return undefined;
  return new GitspacesError(
    'CONFIG_INVALID',
    `RUNNER_DIR (${ctx.settings.runnerDir}) is on a read-only filesystem on the VM, as / is on Container-Optimized OS: set RUNNER_DIR to a path under /var or /home (for example /var/lib/gitspaces/runner) and run setup again.`,
    { detail: error.detail },
  );
}

const previousPool = (ctx: StepContext) => `${poolPath(ctx)}.previous`;

/** The pool file a replaced runner was started with, kept until the new runner is healthy. */
function keepPreviousPool(ctx: StepContext): string {
  const [from, to] = [quote(poolPath(ctx)), quote(previousPool(ctx))];
  return `if [ -f ${from} ] && [ ! -f ${to} ]; then cp -p ${from} ${to}; fi`;
}

/** A runner rolled back reads the pool file it ran with. */
export async function restorePreviousPool(ctx: StepContext): Promise<void> {
  const [from, to] = [quote(previousPool(ctx)), quote(poolPath(ctx))];
  await ctx.vm.script(`if [ -f ${from} ]; then mv -f ${from} ${to}; fi`, { root: true }, 'restore pool.yml');
}

/** The pool file kept for a rollback, once the runner is healthy (run as root by the health step). */
export const dropPreviousPoolScript = (ctx: StepContext): string => `rm -f ${quote(previousPool(ctx))}`;

export const poolFileStep: VmStep = {
  id: 'pool-file',
  async check(ctx): Promise<Check> {
    const { material } = ctx;
    const paths = material.saKey ? [poolPath(ctx), keyPath(ctx)] : [poolPath(ctx)];
    const [pool, key] = await hashes(ctx, paths);
    if (pool === '') return { ok: false, summary: `${poolPath(ctx)} is missing` };
    if (pool !== material.poolHash)
      return { ok: false, summary: `${poolPath(ctx)} differs from POOL_SECRET` };
    if (material.saKey && key !== sha256(material.saKey)) {
      return { ok: false, summary: `${keyPath(ctx)} is missing or differs from RUNNER_SA_KEY_SECRET` };
    }
    return { ok: true, summary: `${poolPath(ctx)} is current (${material.pool.pools.join(', ')})` };
  },
  async apply(ctx): Promise<string> {
    if (ctx.material.saKey) await placeFile(ctx, keyPath(ctx), ctx.material.saKey, keepPreviousPool(ctx));
    await placeFile(ctx, poolPath(ctx), ctx.material.pool.content, keepPreviousPool(ctx));
    const extra = ctx.material.pool.rewroteKeyPath ? ', json_path pointed at the key in /runner' : '';
    return `wrote ${poolPath(ctx)} (0600)${ctx.material.saKey ? ` and ${SA_KEY_FILE}` : ''}${extra}`;
  },
};
