import { isNameConflict, replaceContainer } from '../change/replace-container.js';
import { type ContainerSpec, LOG_ROTATION, previousName } from '../container-specs.js';
import { type ContainerState, type Observed, observeScript, parseObserved } from '../container-state.js';
import type { Check, StepContext } from './step.js';

type Wanted = Pick<ContainerSpec, 'name' | 'network' | 'image'>;

/** Each container, its network and image as the VM has them now, in one command; `also` runs after. */
export async function observeAll(
  ctx: Pick<StepContext, 'vm'>,
  specs: Wanted[],
  also = '',
): Promise<Observed[]> {
  const scripts = specs.map((spec) => observeScript(spec.name, spec.network, spec.image));
  const result = await ctx.vm.script(
    [...scripts, ...(also === '' ? [] : [`{ ${also}; } >/dev/null 2>&1`])].join('; '),
    { root: true, allowFail: true },
    `docker inspect ${specs.map((spec) => spec.name).join(' ')}`,
  );
  const lines = result.stdout.split('\n');
  return specs.map((_, i) => parseObserved(lines.slice(i * 3, i * 3 + 3).join('\n')));
}

export async function observe(ctx: Pick<StepContext, 'vm'>, spec: Wanted, also = ''): Promise<Observed> {
  const [seen] = await observeAll(ctx, [spec], also);
  return seen as Observed;
}

export async function inspectContainer(
  ctx: Pick<StepContext, 'vm'>,
  spec: Wanted,
): Promise<ContainerState | undefined> {
  return (await observe(ctx, spec)).container;
}

export type Drift =
  | { kind: 'missing' }
  | { kind: 'recreate'; reasons: string[] }
  | { kind: 'stopped'; status: string }
  | { kind: 'none' };

const same = (a: string[], b: string[]) => a.join(',') === b.join(',');

/** Whether the container's logs rotate as the bot wants (options a daemon adds beside them do not matter). */
const rotated = ({ driver, options }: ContainerState['logs']) =>
  driver === LOG_ROTATION.driver &&
  options['max-size'] === LOG_ROTATION['max-size'] &&
  options['max-file'] === LOG_ROTATION['max-file'];

const describeLogs = ({ driver, options }: ContainerState['logs']) =>
  driver === 'json-file' && options['max-size'] === undefined
    ? 'json-file, never rotated'
    : [driver || 'none', ...Object.entries(options).map(([k, v]) => `${k}=${v}`)].join(' ');

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

/** Why the container found is not the wanted one and must be made again; empty when it is. */
export function recreateReasons(found: ContainerState, spec: ContainerSpec, seen: Observed): string[] {
  const reasons: string[] = [];
  if (found.status === 'created') reasons.push('it was created but never started');
  if (found.image !== spec.image) reasons.push(`image ${found.image} → ${spec.image}`);
  else if (seen.imageId !== '' && found.imageId !== seen.imageId)
    reasons.push(
      `${spec.image} on the VM is ${short(seen.imageId)}, the container runs ${short(found.imageId)}`,
    );
  if (spec.poolHash !== undefined && found.poolHash !== spec.poolHash) reasons.push('the pool file changed');
  const network = found.networks[spec.network];
  if (network === undefined) reasons.push(`it is not attached to network ${spec.network}`);
  else if (seen.networkId !== '' && network !== seen.networkId)
    reasons.push(`network ${spec.network} was removed and created again since it was made`);
  if (found.restartPolicy !== spec.restartPolicy)
    reasons.push(`restart policy ${found.restartPolicy || 'none'} → ${spec.restartPolicy}`);
  if (!same(found.ports, spec.ports))
    reasons.push(`published ports ${found.ports.join(' ') || 'none'} → ${spec.ports.join(' ') || 'none'}`);
  if (!same(found.mounts, spec.mounts))
    reasons.push(`mounts ${found.mounts.join(' ') || 'none'} → ${spec.mounts.join(' ') || 'none'}`);
  if (!rotated(found.logs))
    reasons.push(
      `logs ${describeLogs(found.logs)} → rotated at ${LOG_ROTATION['max-size']}, ${LOG_ROTATION['max-file']} files`,
    );
  if (reasons.length === 0 && found.specHash !== spec.specHash) reasons.push('its settings differ');
  return reasons;
}

/** How a container differs from the wanted one. */
export function driftOf(seen: Observed, spec: ContainerSpec): Drift {
  const found = seen.container;
  if (!found) return { kind: 'missing' };
  const reasons = recreateReasons(found, spec, seen);
  if (reasons.length > 0) return { kind: 'recreate', reasons };
  if (found.status !== 'running') return { kind: 'stopped', status: found.status };
  return { kind: 'none' };
}

export function describeDrift(spec: ContainerSpec, drift: Drift, found: ContainerState | undefined): string {
  switch (drift.kind) {
    case 'missing':
      return `${spec.name} does not exist`;
    case 'recreate':
      return `${spec.name} will be recreated: ${drift.reasons.join('; ')}`;
    case 'stopped':
      return `${spec.name} is ${drift.status}`;
    case 'none':
      return `${spec.name} is running ${found?.image ?? ''}`.trim();
  }
}

/** The check of a container step; what it saw goes with it, for the step's apply right after. */
export async function checkContainer(ctx: StepContext, spec: ContainerSpec, also = ''): Promise<Check> {
  const seen = await observe(ctx, spec, also);
  const drift = driftOf(seen, spec);
  return { ok: drift.kind === 'none', summary: describeDrift(spec, drift, seen.container), seen };
}

/**
 * Brings a container to the wanted spec: starts a stopped one, replaces one that differs or cannot start
 * as it is. Names are unique in Docker, so however often this runs (or resumes after a crash) there is
 * never a second one.
 */
export async function ensureContainer(
  ctx: StepContext,
  spec: ContainerSpec,
  create: () => Promise<void>,
  /** What the step's check saw just before (looking again would cost a round trip and three docker calls). */
  checked?: Observed,
): Promise<string> {
  const seen = checked ?? (await observe(ctx, spec));
  const drift = driftOf(seen, spec);
  // A retried apply (after a dropped connection) may find the work already done.
  if (drift.kind === 'none') return `${spec.name} is running with the wanted settings`;
  let why = drift.kind === 'recreate' ? drift.reasons.join('; ') : '';
  if (drift.kind === 'stopped') {
    const started = await ctx.vm.run(['docker', 'start', spec.name], { root: true, allowFail: true });
    if (started.code === 0) return `started ${spec.name} (it was ${drift.status})`;
    // Docker keeps a container's network by id, its mounts and image as made: when one is gone, only a
    // new container helps.
    why = `it could not start as it was (${firstLine(started.stderr) || `exit ${started.code}`})`;
  }
  try {
    if (seen.container) await replaceContainer(ctx, spec, create, seen.imageId !== '');
    else {
      await ctx.pulls.ensure(spec.image, seen.imageId !== '');
      await create();
    }
  } catch (error) {
    // Another attempt of this run (a worker that lost its lock, say) created it meanwhile: the name is
    // taken. If what holds it is exactly the wanted container, the step is done; anything else fails.
    if (!isNameConflict(error) || driftOf(await observe(ctx, spec), spec).kind !== 'none') throw error;
    return `${spec.name} was created meanwhile with the wanted settings`;
  }
  const kept = seen.container
    ? `; the old one waits as ${previousName(spec.name)} until the new one is healthy`
    : '';
  return seen.container ? `recreated ${spec.name}: ${why}${kept}` : `created ${spec.name}`;
}

const firstLine = (text: string) =>
  text
    .trim()
    .split('\n')[0]
    ?.replace(/^Error response from daemon: /, '') ?? '';
