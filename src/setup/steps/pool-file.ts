import { posix } from 'node:path';
import { sha256 } from '../container-specs.js';
import { SA_KEY_FILE } from '../pool-file.js';
import { quote } from '../shell.js';
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
 * Writes a file the runner reads: over SFTP to a fresh private temp file, then moved into place with mode
 * 0600 (through sudo when the SSH user is not root), so no reader ever sees a partial or world-readable file.
 */
export async function placeFile(ctx: StepContext, dest: string, content: string | Buffer): Promise<void> {
  const tmp = (await ctx.vm.run(['mktemp', '/tmp/gitspaces-file.XXXXXXXX'])).stdout.trim();
  try {
    await ctx.remote.putFile(tmp, content, 0o600);
    await ctx.vm.script(
      `mkdir -p ${quote(posix.dirname(dest))} && install -m 0600 ${quote(tmp)} ${quote(dest)}`,
      { root: true },
      `install ${dest}`,
    );
  } finally {
    await ctx.vm.run(['rm', '-f', tmp], { allowFail: true });
  }
}

const previousPool = (ctx: StepContext) => `${poolPath(ctx)}.previous`;

/** The pool file a replaced runner was started with, kept until the new runner is healthy. */
async function keepPreviousPool(ctx: StepContext): Promise<void> {
  const [from, to] = [quote(poolPath(ctx)), quote(previousPool(ctx))];
  await ctx.vm.script(
    `if [ -f ${from} ] && [ ! -f ${to} ]; then cp -p ${from} ${to}; fi`,
    { root: true },
    'keep pool.yml',
  );
}

/** A runner rolled back reads the pool file it ran with. */
export async function restorePreviousPool(ctx: StepContext): Promise<void> {
  const [from, to] = [quote(previousPool(ctx)), quote(poolPath(ctx))];
  await ctx.vm.script(`if [ -f ${from} ]; then mv -f ${from} ${to}; fi`, { root: true }, 'restore pool.yml');
}

export async function dropPreviousPool(ctx: StepContext): Promise<void> {
  await ctx.vm.run(['rm', '-f', previousPool(ctx)], { root: true, allowFail: true });
}

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
    await keepPreviousPool(ctx);
    if (ctx.material.saKey) await placeFile(ctx, keyPath(ctx), ctx.material.saKey);
    await placeFile(ctx, poolPath(ctx), ctx.material.pool.content);
    const extra = ctx.material.pool.rewroteKeyPath ? ', json_path pointed at the key in /runner' : '';
    return `wrote ${poolPath(ctx)} (0600)${ctx.material.saKey ? ` and ${SA_KEY_FILE}` : ''}${extra}`;
  },
};
