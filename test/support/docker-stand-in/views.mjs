/** What `docker inspect`, `ps`, `network ls` and `info` show, in the Engine API's field names. */

import { allNetworks, attached } from './networks.mjs';
import { GoMap } from './template.mjs';

export const VERSION = '27.3.1';
export const API_VERSION = '1.47';

export function containerView(c) {
  const networks = Object.fromEntries(
    Object.entries(c.networks).map(([name, a]) => [
      name,
      {
        NetworkID: a.id,
        EndpointID: c.status === 'running' ? `${a.id.slice(0, 32)}${c.id.slice(0, 32)}` : '',
        Gateway: c.status === 'running' ? a.ip.replace(/\.\d+$/, '.1') : '',
        IPAddress: c.status === 'running' ? a.ip : '',
        Aliases: null,
        DNSNames: name === 'bridge' ? null : [c.name, c.id.slice(0, 12)],
      },
    ]),
  );
  const ports = Object.fromEntries(Object.entries(c.ports).map(([k, v]) => [k, v]));
  return {
    Id: c.id,
    Created: c.created,
    Path: (c.entrypoint ?? c.cmd ?? [''])[0],
    Args: [...(c.entrypoint ?? []), ...(c.cmd ?? [])].slice(1),
    State: {
      Status: c.status,
      Running: c.status === 'running',
      Paused: false,
      Restarting: c.status === 'restarting',
      OOMKilled: false,
      Dead: false,
      Pid: c.pid,
      ExitCode: c.exitCode,
      Error: '',
      StartedAt: c.startedAt,
      FinishedAt: c.finishedAt,
    },
    Image: c.imageId,
    Name: `/${c.name}`,
    RestartCount: c.restartCount,
    Platform: 'linux',
    HostConfig: {
      Binds: c.binds.length > 0 ? c.binds : null,
      NetworkMode: c.network,
      PortBindings: new GoMap(ports, null),
      RestartPolicy: c.restart,
      AutoRemove: c.autoRemove,
      NanoCpus: c.nanoCpus,
      Memory: c.memory,
      LogConfig: c.logConfig,
    },
    Mounts: c.mounts.map((m) => ({
      Type: m.type,
      ...(m.type === 'volume' ? { Name: m.name } : {}),
      Source: m.source,
      Destination: m.destination,
      Mode: m.mode,
      RW: m.rw,
      Propagation: m.type === 'bind' ? 'rprivate' : '',
    })),
    Config: {
      Hostname: c.hostname,
      Env: c.env,
      Cmd: c.cmd,
      Image: c.image,
      WorkingDir: '',
      Entrypoint: c.entrypoint,
      Labels: new GoMap(c.labels, ''),
      ExposedPorts: new GoMap(Object.fromEntries(Object.keys(c.ports).map((k) => [k, {}])), null),
    },
    NetworkSettings: {
      Ports: new GoMap(c.status === 'running' ? ports : {}, null),
      Networks: new GoMap(networks, null),
    },
  };
}

export function networkView(state, n) {
  const members = Object.fromEntries(
    attached(state, n)
      .filter((c) => c.status === 'running')
      .map((c) => {
        const ip = Object.values(c.networks).find((a) => a.id === n.id)?.ip ?? '';
        return [
          c.id,
          {
            Name: c.name,
            EndpointID: c.id.slice(0, 32),
            MacAddress: '02:42:ac:12:00:02',
            IPv4Address: `${ip}/16`,
            IPv6Address: '',
          },
        ];
      }),
  );
  return {
    Name: n.name,
    Id: n.id,
    Created: n.created,
    Scope: 'local',
    Driver: n.driver,
    EnableIPv6: false,
    IPAM: {
      Driver: 'default',
      Options: null,
      Config: n.subnet ? [{ Subnet: n.subnet, Gateway: n.subnet.replace(/0\/16$/, '1') }] : [],
    },
    Internal: false,
    Attachable: false,
    Containers: new GoMap(members, null),
    Options: new GoMap({}, ''),
    Labels: new GoMap({}, ''),
  };
}

const ago = (iso) => {
  const seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  if (seconds < 1) return 'Less than a second';
  if (seconds < 60) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  return minutes < 60 ? `${minutes} minute${minutes === 1 ? '' : 's'}` : `${Math.round(minutes / 60)} hours`;
};

function statusText(c) {
  if (c.status === 'running') return `Up ${ago(c.startedAt)}`;
  if (c.status === 'restarting') return `Restarting (${c.exitCode}) ${ago(c.finishedAt)} ago`;
  if (c.status === 'exited') return `Exited (${c.exitCode}) ${ago(c.finishedAt)} ago`;
  return 'Created';
}

/** One `docker ps` row, with the placeholders `--format` offers. */
export function psRow(c, noTrunc) {
  const command = [...(c.entrypoint ?? []), ...(c.cmd ?? [])].join(' ');
  return {
    ID: noTrunc ? c.id : c.id.slice(0, 12),
    Image: c.image,
    Command: noTrunc ? `"${command}"` : `"${command.length > 20 ? `${command.slice(0, 19)}…` : command}"`,
    CreatedAt: c.created,
    RunningFor: `${ago(c.created)} ago`,
    Ports:
      c.status === 'running'
        ? Object.entries(c.ports)
            .flatMap(([k, bs]) => bs.map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${k}`))
            .join(', ')
        : '',
    State: c.status,
    Status: statusText(c),
    Names: c.name,
    Labels: Object.entries(c.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
    Networks: Object.keys(c.networks).join(','),
    Mounts: c.mounts.map((m) => m.name ?? m.source).join(','),
  };
}

/**
 * `rootDir`: where this engine says it keeps its data (a test points it at a small filesystem of its own);
 * `memTotal`: the VM's memory in bytes (8 GB unless a test makes the VM smaller).
 */
export function infoView(state, rootDir = '/var/lib/docker', memTotal = 8 * 2 ** 30) {
  const containers = Object.values(state.containers);
  return {
    ID: 'STAND:IN0:0000:0000',
    Containers: containers.length,
    ContainersRunning: containers.filter((c) => c.status === 'running').length,
    ContainersPaused: 0,
    ContainersStopped: containers.filter((c) => c.status !== 'running').length,
    Images: new Set(Object.values(state.images).map((i) => i.id)).size,
    Driver: 'overlay2',
    ServerVersion: VERSION,
    OperatingSystem: 'Debian GNU/Linux 12 (bookworm)',
    OSType: 'linux',
    Architecture: 'x86_64',
    NCPU: 2,
    MemTotal: memTotal,
    DockerRootDir: rootDir,
    Name: 'vm',
    Networks: allNetworks(state).length,
  };
}
