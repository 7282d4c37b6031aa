import { type ContainerState, RUNNER_NAME } from './container-specs.js';
import type { RemoteHost } from './ports.js';
import type { Redactor } from './redactor.js';
import type { SetupSettings } from './settings.js';
import { inspectContainer } from './steps/container.js';
import { VmShell } from './vm-shell.js';

export interface ContainerStatus {
  name: string;
  state: ContainerState | undefined;
  healthy: boolean;
}

/** What is live on a VM right now, as `status` shows it. Read-only. */
export interface VmStatus {
  docker: string | undefined;
  network: boolean;
  runner: ContainerStatus;
  delegate: ContainerStatus;
}

export async function probeVm(
  remote: RemoteHost,
  settings: SetupSettings,
  redactor: Redactor,
): Promise<VmStatus> {
  const vm = new VmShell(remote, redactor);
  const ctx = { vm };
  const info = await vm.run(['docker', 'info', '--format', '{{.ServerVersion}}'], {
    root: true,
    allowFail: true,
  });
  const docker = info.code === 0 && info.stdout.trim() !== '' ? info.stdout.trim() : undefined;
  if (!docker) {
    const none = (name: string): ContainerStatus => ({ name, state: undefined, healthy: false });
    return { docker, network: false, runner: none(RUNNER_NAME), delegate: none(settings.delegateName) };
  }
  const network = await vm.run(
    ['docker', 'network', 'inspect', settings.dockerNetwork, '--format', '{{.Name}}'],
    {
      root: true,
      allowFail: true,
    },
  );
  const runnerState = await inspectContainer(ctx, RUNNER_NAME);
  const runnerHealth = await vm.run(
    ['curl', '-fsS', '--max-time', '5', `http://127.0.0.1:${settings.runnerHealthPort}/healthz`],
    {
      allowFail: true,
    },
  );
  const delegateState = await inspectContainer(ctx, settings.delegateName);
  const delegateHealth =
    delegateState?.status === 'running'
      ? await vm.run(['docker', 'exec', settings.delegateName, 'curl', '-fs', 'localhost:3460/api/health'], {
          root: true,
          allowFail: true,
        })
      : undefined;
  return {
    docker,
    network: network.code === 0,
    runner: { name: RUNNER_NAME, state: runnerState, healthy: runnerHealth.code === 0 },
    delegate: { name: settings.delegateName, state: delegateState, healthy: delegateHealth?.code === 0 },
  };
}

/** One line per component, for the terminal and Slack. */
export function describeStatus(s: VmStatus): string[] {
  const container = (c: ContainerStatus) =>
    c.state
      ? `${c.name}: ${c.state.status} (${c.state.image})${c.healthy ? ', healthy' : ', not healthy'}`
      : `${c.name}: absent`;
  return [
    `docker: ${s.docker ? `Docker ${s.docker}` : 'not answering'}`,
    `network: ${s.network ? 'present' : 'absent'}`,
    `runner: ${container(s.runner)}`,
    `delegate: ${container(s.delegate)}`,
  ];
}
