import { POOL_LABEL, SPEC_LABEL } from './container-specs.js';
import { command } from './shell.js';

/** What `docker inspect` tells about a container the bot manages. */
export interface ContainerState {
  /** Docker's id for it: a container created again under the same name has another. */
  id?: string;
  status: string;
  /** When the current start began (RFC 3339), as Docker records it. */
  startedAt: string;
  /** When it last stopped (RFC 3339; Docker's zero time while it never did) and with what exit code. */
  finishedAt?: string;
  exitCode?: number;
  /** The image reference the container was created from. */
  image: string;
  /** The id (`sha256:…`) of the image it runs. */
  imageId: string;
  specHash: string;
  poolHash: string;
  /** Every label, for the labels the change plan reads (settings, token mark, chosen image). */
  labels?: Record<string, string>;
  /** Network name → network id, for every network it is attached to. */
  networks: Record<string, string>;
  restartPolicy: string;
  /** `3000/tcp=3000` per published port. */
  ports: string[];
  /** `<source>:<destination>` per mount. */
  mounts: string[];
  /** The log driver and its options (`max-size`…), as Docker merged them with the daemon's defaults. */
  logs: { driver: string; options: Record<string, string> };
  /**
   * How many times its restart policy started it again after it exited by itself, since it was created or
   * last started by hand (Docker's RestartCount).
   */
  restarts?: number;
}

/** The container, the network and the image as the VM has them now, read in one command. */
export interface Observed {
  container: ContainerState | undefined;
  /** Id of the wanted network, '' when it does not exist (or the container does not: then it is not asked). */
  networkId: string;
  /** Id of the local image of the wanted reference, '' when it is not on the VM. */
  imageId: string;
}

// Only these fields: the container's environment (which holds the delegate token) never leaves the VM.
const FORMAT = `{"id":{{json .Id}},"status":{{json .State.Status}},"startedAt":{{json .State.StartedAt}},"finishedAt":{{json .State.FinishedAt}},"exitCode":{{json .State.ExitCode}},"image":{{json .Config.Image}},"imageId":{{json .Image}},"labels":{{json .Config.Labels}},"networks":{{json .NetworkSettings.Networks}},"restart":{{json .HostConfig.RestartPolicy.Name}},"ports":{{json .HostConfig.PortBindings}},"mounts":{{json .Mounts}},"logs":{{json .HostConfig.LogConfig}},"restarts":{{json .RestartCount}}}`;

/**
 * A script printing three lines: the container as JSON (or nothing), the network's id, the image's id.
 * Exactly one line each: Docker prints an empty line of its own for a name it does not find (20.10). The
 * network matters only to a container that exists (is it still on that network?): for a missing one it is
 * not asked, a docker call fewer (each is a process start on the VM, 0.1 s or more on a busy one).
 */
export function observeScript(name: string, network: string, image: string): string {
  const line = (argv: string[]) => `"$(${command(...argv)} 2>/dev/null)"`;
  return [
    `c=${line(['docker', 'inspect', '--type', 'container', '--format', FORMAT, name])}`,
    `printf '%s\\n' "$c"`,
    `if [ -n "$c" ]; then printf '%s\\n' ${line(['docker', 'network', 'inspect', '--format', '{{.Id}}', network])}; else echo; fi`,
    `printf '%s\\n' ${line(['docker', 'image', 'inspect', '--format', '{{.Id}}', image])}`,
  ].join('; ');
}

interface Inspected {
  id?: string;
  status?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  image?: string;
  imageId?: string;
  labels?: Record<string, string> | null;
  networks?: Record<string, { NetworkID?: string }> | null;
  restart?: string;
  ports?: Record<string, { HostIp?: string; HostPort?: string }[] | null> | null;
  mounts?: { Source?: string; Destination?: string }[] | null;
  logs?: { Type?: string; Config?: Record<string, string> | null } | null;
  restarts?: number | null;
}

export function parseContainer(line: string): ContainerState | undefined {
  let found: Inspected;
  try {
    found = JSON.parse(line) as Inspected;
  } catch {
    return undefined;
  }
  if (typeof found.status !== 'string') return undefined;
  const labels = found.labels ?? {};
  return {
    ...(found.id ? { id: found.id } : {}),
    status: found.status,
    startedAt: found.startedAt ?? '',
    ...(found.finishedAt ? { finishedAt: found.finishedAt } : {}),
    ...(typeof found.exitCode === 'number' ? { exitCode: found.exitCode } : {}),
    image: found.image ?? '',
    imageId: found.imageId ?? '',
    specHash: labels[SPEC_LABEL] ?? '',
    poolHash: labels[POOL_LABEL] ?? '',
    labels,
    networks: Object.fromEntries(
      Object.entries(found.networks ?? {}).map(([net, info]) => [net, info.NetworkID ?? '']),
    ),
    restartPolicy: found.restart ?? '',
    ports: Object.entries(found.ports ?? {})
      .flatMap(([port, bindings]) => (bindings ?? []).map((b) => `${port}=${b.HostPort ?? ''}`))
      .sort(),
    mounts: (found.mounts ?? []).map((m) => `${m.Source ?? ''}:${m.Destination ?? ''}`).sort(),
    logs: { driver: found.logs?.Type ?? '', options: found.logs?.Config ?? {} },
    ...(found.restarts ? { restarts: found.restarts } : {}),
  };
}

export function parseObserved(stdout: string): Observed {
  const [container = '', networkId = '', imageId = ''] = stdout.split('\n');
  return {
    container: container.trim() === '' ? undefined : parseContainer(container.trim()),
    networkId: networkId.trim(),
    imageId: imageId.trim(),
  };
}
