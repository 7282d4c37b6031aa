import { describeExits, type Exits, exitsScript, parseExits } from './container-exits.js';
import { RUNNER_NAME } from './container-specs.js';
import type { ContainerState } from './container-state.js';
import type { AgeAdvice } from './delegate-age.js';
import { ENABLE_FIX, NOT_AT_BOOT } from './docker-boot.js';
import { DISK_FULL_PERCENT, type DockerDisk, describeDisk } from './docker-disk.js';
import { readDockerInfo } from './docker-info.js';
import { answersOnVm, delegateHealth } from './health-probes.js';
import type { RemoteHost } from './ports.js';
import type { Redactor } from './redactor.js';
import { describeWithFix, type RunnerErrors, readRunnerErrors } from './runner-errors.js';
import type { SetupSettings } from './settings.js';
import { inspectContainer } from './steps/container.js';
import { describeRefusal, type TokenRefusal } from './token-refusal.js';
import { describeSize, SMALL_VM, tooSmall, type VmSize } from './vm-memory.js';
import { VmShell } from './vm-shell.js';

export interface ContainerStatus {
  name: string;
  state: ContainerState | undefined;
  healthy: boolean;
  /** How Harness refused the delegate's token, as the delegate logged it (the container keeps its token). */
  tokenRefused?: TokenRefusal;
  /** Its exits of the last day, asked only of a container that exited or was restarted by Docker. */
  exits?: Exits;
}

/** What is live on a VM right now, as `status` shows it. Read-only: the same checks the steps use. */
export interface VmStatus {
  docker: string | undefined;
  /** The VM's CPUs and memory, as Docker sees them. */
  size?: VmSize;
  /** false when systemd does not start Docker at boot; absent when it cannot tell (see docker-boot.ts). */
  dockerAtBoot?: boolean;
  /** The filesystem of Docker's data, when `df` could tell. */
  disk?: DockerDisk;
  network: boolean;
  runner: ContainerStatus;
  delegate: ContainerStatus;
  /** How old the running delegate's image is, and what to do when it is past support. */
  delegateAge?: AgeAdvice;
  /** The errors a running runner logged in the last hour, when it logged any. */
  runnerErrors?: RunnerErrors;
}

export async function probeVm(
  remote: RemoteHost,
  settings: SetupSettings,
  redactor: Redactor,
): Promise<VmStatus> {
  const vm = new VmShell(remote, redactor);
  const ctx = { vm, remote, redactor };
  const { version: docker, size, atBoot, disk } = await readDockerInfo(vm);
  if (!docker) {
    const none = (name: string): ContainerStatus => ({ name, state: undefined, healthy: false });
    return { docker, network: false, runner: none(RUNNER_NAME), delegate: none(settings.delegateName) };
  }
  const network = settings.dockerNetwork;
  const runner = await inspectContainer(ctx, { name: RUNNER_NAME, network, image: settings.runnerImage });
  const runnerHealthy = await answersOnVm(ctx, settings.runnerHealthPort, '/healthz').catch(() => false);
  const runnerErrors = runner?.status === 'running' ? await readRunnerErrors(vm, redactor) : undefined;
  const delegate = await inspectContainer(ctx, {
    name: settings.delegateName,
    network,
    image: settings.delegateImage,
  });
  const { health, refusal } =
    delegate?.status === 'running'
      ? await delegateHealth(ctx, settings.delegateName)
      : { health: undefined, refusal: undefined };
  const networkFound = await vm.run(['docker', 'network', 'inspect', network, '--format', '{{.Name}}'], {
    root: true,
    allowFail: true,
  });
  const exits = await exitsOf(vm, [runner, delegate]);
  const withExits = (state: ContainerState | undefined) => {
    const found = state?.id === undefined ? undefined : exits[state.id];
    return found ? { exits: found } : {};
  };
  return {
    docker,
    ...(size === undefined ? {} : { size }),
    ...(atBoot === undefined ? {} : { dockerAtBoot: atBoot }),
    ...(disk === undefined ? {} : { disk }),
    ...(runnerErrors === undefined ? {} : { runnerErrors }),
    network: networkFound.code === 0,
    runner: { name: RUNNER_NAME, state: runner, healthy: runnerHealthy, ...withExits(runner) },
    delegate: {
      name: settings.delegateName,
      state: delegate,
      healthy: health === 'healthy',
      ...(refusal === undefined ? {} : { tokenRefused: refusal }),
      ...withExits(delegate),
    },
  };
}

/** The last day's exits of the containers that exited or were restarted by Docker; none asked of the others. */
async function exitsOf(
  vm: VmShell,
  states: Array<ContainerState | undefined>,
): Promise<Record<string, Exits>> {
  const troubled = states.flatMap((state) =>
    state?.id !== undefined && ((state.restarts ?? 0) > 0 || state.status !== 'running') ? [state.id] : [],
  );
  if (troubled.length === 0) return {};
  const events = await vm.script(exitsScript(troubled), { root: true, allowFail: true }, 'docker events');
  return events.code === 0 ? parseExits(events.stdout) : {};
}

/**
 * ", restarted 3 times after exiting by itself; exited 3 times in the last 24 h, killed for lack of memory
 * twice; last exit code 137": what Docker's restart count and events tell, when there is something to tell.
 */
export function troubleOf(c: ContainerStatus): string {
  const n = c.state?.restarts ?? 0;
  const restarts = n === 0 ? '' : `, restarted ${n === 1 ? 'once' : `${n} times`} after exiting by itself`;
  return `${restarts}${c.exits ? `; ${describeExits(c.exits)}` : ''}`;
}

/** "healthy", "not healthy", or how Harness refused the delegate's token (a frozen delegate still answers). */
export const healthOf = (c: ContainerStatus): string =>
  c.tokenRefused ? describeRefusal(c.tokenRefused) : c.healthy ? 'healthy' : 'not healthy';

/** One line per component, for the terminal and Slack. */
export function describeStatus(s: VmStatus): string[] {
  const container = (c: ContainerStatus) =>
    c.state
      ? `${c.name}: ${c.state.status} (${c.state.image}), ${healthOf(c)}${troubleOf(c)}`
      : `${c.name}: absent`;
  return [
    `docker: ${s.docker ? `Docker ${s.docker}` : 'not answering'}${s.size ? ` (${describeSize(s.size)})` : ''}`,
    ...(s.size && tooSmall(s.size) ? [`warning: the VM has ${describeSize(s.size)}, ${SMALL_VM}`] : []),
    ...(s.dockerAtBoot === false ? [`warning: ${NOT_AT_BOOT}. ${ENABLE_FIX}`] : []),
    ...(s.disk
      ? [`${s.disk.usedPercent >= DISK_FULL_PERCENT ? 'warning: ' : ''}disk: ${describeDisk(s.disk)}`]
      : []),
    `network: ${s.network ? 'present' : 'absent'}`,
    `runner: ${container(s.runner)}`,
    ...(s.runnerErrors ? [`warning: ${RUNNER_NAME} ${describeWithFix(s.runnerErrors)}`] : []),
    `delegate: ${container(s.delegate)}`,
    ...(s.delegateAge ? [`${s.delegateAge.stale ? 'warning: ' : ''}${s.delegateAge.text}`] : []),
  ];
}
