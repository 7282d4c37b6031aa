import { GitspacesError } from '../../errors.js';
import { type ContainerSpec, previousName, RUNNER_NAME } from '../container-specs.js';
import { type ContainerState, parseContainer } from '../container-state.js';
import { megabytes } from '../image-pull.js';
import { command } from '../shell.js';
import type { StepContext } from '../steps/step.js';

const DEFAULT_STOP_MS = { delegate: 10 * 60_000, runner: 60_000 };
/** Docker's own margin beyond the grace period: the stop ends with SIGKILL, then the command returns. */
const STOP_MARGIN_MS = 60_000;

type Ctx = Pick<StepContext, 'vm' | 'settings' | 'clock' | 'signal' | 'redactor'>;

export function stopTimeoutMs(ctx: Pick<StepContext, 'settings'>, name: string): number {
  return name === RUNNER_NAME
    ? (ctx.settings.runnerStopTimeoutMs ?? DEFAULT_STOP_MS.runner)
    : (ctx.settings.delegateStopTimeoutMs ?? DEFAULT_STOP_MS.delegate);
}

const PREVIOUS_FORMAT = '{"status":{{json .State.Status}},"image":{{json .Config.Image}}}';

/** The container kept as `<name>-previous`, if any: its image and status. */
export async function previousOf(ctx: Pick<Ctx, 'vm'>, name: string): Promise<ContainerState | undefined> {
  const result = await ctx.vm.script(
    `${command('docker', 'inspect', '--type', 'container', '--format', PREVIOUS_FORMAT, previousName(name))} 2>/dev/null || true`,
    { root: true, allowFail: true },
    `docker inspect ${previousName(name)}`,
  );
  return result.stdout.trim() === '' ? undefined : parseContainer(result.stdout.trim());
}

/**
 * Stops the old container gracefully (`docker stop -t`: the delegate finishes its tasks) and renames it
 * `<name>-previous`, where it waits until its replacement is healthy. A `<name>-previous` already there is
 * the one an interrupted earlier attempt kept, the last known good: it stays, and what holds the name goes.
 */
export async function setAside(ctx: Ctx, name: string): Promise<void> {
  const timeout = stopTimeoutMs(ctx, name);
  const kept = previousName(name);
  // One command: while it runs the VM has no delegate, and each command is a round trip and a `sudo`.
  const script = [
    'set -e',
    `${command('docker', 'stop', '-t', String(Math.ceil(timeout / 1000)), name)} >/dev/null`,
    `if ${command('docker', 'inspect', '--type', 'container', kept)} >/dev/null 2>&1; then`,
    `  ${command('docker', 'rm', '-f', name)} >/dev/null`,
    `else ${command('docker', 'rename', name, kept)}; fi`,
  ].join('\n');
  await ctx.vm.script(script, { root: true, timeoutMs: timeout + STOP_MARGIN_MS }, `docker stop ${name}`);
}

/**
 * Once the new container is healthy the kept one has served its purpose, and so has its image: otherwise
 * every upgrade would leave its old images on the VM's disk. Docker itself keeps an image that a container
 * still uses or that has another name (removed by id, not forced). Looked for and removed in one command (a
 * round trip and a `sudo` each); `also` (more tidying) runs in it too.
 */
export async function dropPrevious(
  ctx: Pick<Ctx, 'vm'>,
  name: string,
  also = '',
): Promise<string | undefined> {
  const kept = previousName(name);
  const inspect = (format: string) =>
    command('docker', 'inspect', '--type', 'container', '--format', format, kept);
  const script = [
    ...(also === '' ? [] : [also]),
    `c=$(${inspect(PREVIOUS_FORMAT)} 2>/dev/null) || exit 0`,
    `i=$(${inspect('{{.Image}}')})`,
    `${command('docker', 'rm', '-f', kept)} >/dev/null`,
    `printf '%s\\n' "$c"`,
    `s=$(docker image inspect --format '{{.Size}}' "$i" 2>/dev/null) && docker image rm "$i" >/dev/null 2>&1 && printf '%s\\n' "$s"`,
    'exit 0',
  ].join('\n');
  const result = await ctx.vm.script(script, { root: true }, `docker rm -f ${kept}`);
  const [container = '', freed = ''] = result.stdout.trim().split('\n');
  const found = container === '' ? undefined : parseContainer(container);
  if (!found) return undefined;
  const image = freed === '' ? '' : `; removed its image (${megabytes(Number(freed))} freed)`;
  return `removed ${kept} (${found.image})${image}`;
}

/**
 * Puts the kept container back under its name and starts it: whatever holds the name now (the new one that
 * could not start or did not get healthy) is removed first. Resolves with the old image, or undefined when
 * nothing was kept (a first install has nothing to go back to).
 */
export async function restorePrevious(ctx: Ctx, name: string): Promise<string | undefined> {
  const kept = await previousOf(ctx, name);
  if (!kept) return undefined;
  await ctx.vm.run(['docker', 'rm', '-f', name], { root: true });
  await ctx.vm.run(['docker', 'rename', previousName(name), name], { root: true });
  await ctx.vm.run(['docker', 'start', name], { root: true });
  return kept.image;
}

/**
 * Rolls back after `failure`, waits for the restored container to be healthy again and returns the error
 * the run ends with: the original one, saying what was rolled back to. Without a kept container, the
 * original error as it was.
 */
export async function rollBack(
  ctx: Ctx,
  name: string,
  failure: GitspacesError,
  health?: { healthy: () => Promise<boolean>; timeoutMs: number },
): Promise<GitspacesError> {
  const image = await restorePrevious(ctx, name);
  if (image === undefined) return failure;
  if (!health) return withNote(failure, `${name} was rolled back to ${image} and runs again.`);
  const { healthy, timeoutMs } = health;
  const deadline = ctx.clock.now() + timeoutMs;
  let ok = await healthy().catch(() => false);
  while (!ok && ctx.clock.now() < deadline) {
    await ctx.clock.sleep(2000, ctx.signal);
    ok = await healthy().catch(() => false);
  }
  const after = ok
    ? `${name} was rolled back to ${image} and is healthy again.`
    : `${name} was rolled back to ${image}, but it is not healthy either: look at \`docker logs ${name}\` on the VM.`;
  return withNote(failure, after);
}

const withNote = (failure: GitspacesError, note: string) =>
  new GitspacesError(failure.code, `${failure.message} ${note}`, {
    ...(failure.detail === undefined ? {} : { detail: failure.detail }),
    retryable: false,
  });

/** Replaces a container that exists: the new image first, then aside with the old, then the new one. */
export async function replaceContainer(
  ctx: Ctx & Pick<StepContext, 'pulls'>,
  spec: ContainerSpec,
  create: () => Promise<void>,
  /** Whether the wanted image was seen on the VM just before. */
  local?: boolean,
): Promise<void> {
  await ctx.pulls.ensure(spec.image, local);
  await setAside(ctx, spec.name);
  try {
    await create();
  } catch (error) {
    if (!(error instanceof GitspacesError) || error.retryable || isNameConflict(error)) throw error;
    // It did not even start: nothing to wait for, the old one goes back at once.
    throw await rollBack(ctx, spec.name, error);
  }
}

/** Docker refused the name: another attempt of this run holds it (see ensureContainer). */
export const isNameConflict = (error: unknown) =>
  error instanceof GitspacesError && /is already in use by container/.test(error.detail ?? '');
