import { GitspacesError } from '../../errors.js';
import { type ContainerSpec, type ContainerState, INSPECT_FORMAT, parseInspect } from '../container-specs.js';
import type { Check, StepContext } from './step.js';

export async function inspectContainer(
  ctx: Pick<StepContext, 'vm'>,
  name: string,
): Promise<ContainerState | undefined> {
  const result = await ctx.vm.run(
    ['docker', 'inspect', '--type', 'container', '--format', INSPECT_FORMAT, name],
    {
      root: true,
      allowFail: true,
    },
  );
  return result.code === 0 ? parseInspect(result.stdout) : undefined;
}

export type Drift = 'missing' | 'settings' | 'stopped' | 'none';

/** How a container differs from the wanted one. A container left `created` by a failed start counts as drift. */
export function driftOf(found: ContainerState | undefined, spec: ContainerSpec): Drift {
  if (!found) return 'missing';
  if (found.image !== spec.image || found.specHash !== spec.specHash || found.status === 'created')
    return 'settings';
  if (found.status !== 'running') return 'stopped';
  return 'none';
}

export function describeDrift(name: string, drift: Drift, found: ContainerState | undefined): string {
  switch (drift) {
    case 'missing':
      return `${name} does not exist`;
    case 'settings':
      return `${name} has other settings (${found?.image ?? '?'}, ${found?.status ?? '?'})`;
    case 'stopped':
      return `${name} is ${found?.status ?? 'stopped'}`;
    case 'none':
      return `${name} is running ${found?.image ?? ''}`.trim();
  }
}

export async function checkContainer(ctx: StepContext, spec: ContainerSpec): Promise<Check> {
  const found = await inspectContainer(ctx, spec.name);
  const drift = driftOf(found, spec);
  return { ok: drift === 'none', summary: describeDrift(spec.name, drift, found) };
}

/**
 * Brings a container to the wanted spec: starts a stopped one, replaces one with other settings. Names are
 * unique in Docker, so however often this runs (or resumes after a crash) there is never a second one.
 */
export async function ensureContainer(
  ctx: StepContext,
  spec: ContainerSpec,
  create: () => Promise<void>,
): Promise<string> {
  const found = await inspectContainer(ctx, spec.name);
  const drift = driftOf(found, spec);
  // A retried apply (after a dropped connection) may find the work already done.
  if (drift === 'none') return `${spec.name} is running with the wanted settings`;
  if (drift === 'stopped') {
    await ctx.vm.run(['docker', 'start', spec.name], { root: true });
    return `started ${spec.name}`;
  }
  if (found) await ctx.vm.run(['docker', 'rm', '-f', spec.name], { root: true });
  try {
    await create();
  } catch (error) {
    // Another attempt of this run (a worker that lost its lock, say) created it meanwhile: the name is
    // taken. If what holds it is exactly the wanted container, the step is done; anything else fails.
    if (!isNameConflict(error) || driftOf(await inspectContainer(ctx, spec.name), spec) !== 'none')
      throw error;
    return `${spec.name} was created meanwhile with the wanted settings`;
  }
  return found ? `recreated ${spec.name} with the wanted settings` : `created ${spec.name}`;
}

const isNameConflict = (error: unknown) =>
  error instanceof GitspacesError && /is already in use by container/.test(error.detail ?? '');
