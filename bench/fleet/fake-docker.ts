/**
 * Docker 27.x in memory, as far as the engine uses it: networks and images with ids, containers with the
 * state, config and host config that `docker inspect` templates read, and the argv commands the steps and
 * the watch send (info, inspect, network inspect/create, image inspect, pull, run, start, stop, rm, rename,
 * exec, logs) with Docker's own output, errors and exit codes for them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { type ExecOut, fail, ok } from './exec-out.js';
import { parseRun } from './run-flags.js';

export interface Container {
  id: string;
  name: string;
  image: string;
  imageId: string;
  status: 'running' | 'created' | 'restarting' | 'exited';
  startedAt: string;
  finishedAt: string;
  exitCode: number;
  labels: Record<string, string>;
  /** Network name → network id, as it was when the container was made. */
  networks: Record<string, string>;
  restart: string;
  ports: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  mounts: Array<{ Type: string; Source: string; Destination: string }>;
  logs: { Type: string; Config: Record<string, string> };
}

const VERSION = '27.3.1';
const ZERO_TIME = '0001-01-01T00:00:00Z';
const HEALTH_BODY = '{"metaData":{},"resource":"healthy","responseMessages":[]}';
const noSuch = (name: string) => fail(1, `Error response from daemon: No such container: ${name}\n`);
const imageId = (ref: string) => `sha256:${createHash('sha256').update(ref).digest('hex')}`;

/** `{{.A.B}}` and `{{json .A.B}}` over `view`; undefined when the template holds anything else. */
export function renderTemplate(format: string, view: unknown): string | undefined {
  const out = format.replace(/\{\{\s*(json\s+)?((?:\.[A-Za-z]+)+)\s*\}\}/g, (_, json, path: string) => {
    let value: unknown = view;
    for (const key of path.slice(1).split('.')) value = (value as Record<string, unknown>)?.[key];
    if (json) return JSON.stringify(value ?? null);
    return value === undefined || value === null ? '<no value>' : String(value);
  });
  return out.includes('{{') ? undefined : out;
}

function containerView(c: Container): unknown {
  const networks = Object.fromEntries(Object.entries(c.networks).map(([n, id]) => [n, { NetworkID: id }]));
  return {
    Id: c.id,
    Name: `/${c.name}`,
    Image: c.imageId,
    State: { Status: c.status, StartedAt: c.startedAt, FinishedAt: c.finishedAt, ExitCode: c.exitCode },
    Config: { Image: c.image, Labels: c.labels },
    NetworkSettings: { Networks: networks },
    HostConfig: { RestartPolicy: { Name: c.restart }, PortBindings: c.ports, LogConfig: c.logs },
    Mounts: c.mounts,
    RestartCount: 0,
  };
}

/** `--format <f>` taken out of argv; the rest are the positional arguments. */
function formatOf(args: string[]): { format: string | undefined; rest: string[] } {
  const rest: string[] = [];
  let format: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--format' || arg === '-f') format = args[++i];
    else if (arg === '--type') i++;
    else rest.push(arg);
  }
  return { format, rest };
}

export class FakeDocker {
  readonly networks = new Map<string, string>();
  readonly images = new Map<string, string>();
  readonly containers = new Map<string, Container>();

  constructor(
    /** Whether a file exists on the VM (the runner's pool file, the delegate's env file). */
    private readonly hasFile: (path: string) => boolean,
  ) {}

  reset(): void {
    this.networks.clear();
    this.images.clear();
    this.containers.clear();
  }

  /** One `docker …` argv (without `docker`); undefined for a command the emulation does not know. */
  run(args: string[]): ExecOut | undefined {
    const [sub, ...rest] = args;
    const key = sub === 'network' || sub === 'image' ? `${sub} ${rest.shift()}` : (sub ?? '');
    switch (key) {
      case 'info':
        // What `docker info --format` asks of it: version, CPUs, memory, data root (src/setup/docker-info.ts).
        return ok(`${VERSION} 2 8341520384 /var/lib/docker\n`);
      case 'inspect':
        return this.inspect(rest);
      case 'network inspect':
        return this.networkInspect(rest);
      case 'network create':
        return this.networkCreate(rest.at(-1) ?? '');
      case 'image inspect':
        return this.imageInspect(rest);
      case 'image rm':
        return this.imageRemove(rest.at(-1) ?? '');
      case 'pull':
        return this.pull(rest.at(-1) ?? '');
      case 'run':
        return this.create(rest);
      case 'start':
      case 'stop':
      case 'rm':
      case 'rename':
        return this.lifecycle(key, rest);
      case 'exec':
        return this.exec(rest);
      case 'logs':
        return this.logs(rest.at(-1) ?? '');
      default:
        return undefined;
    }
  }

  private inspect(args: string[]): ExecOut | undefined {
    const { format, rest } = formatOf(args);
    const lines: string[] = [];
    const errors: string[] = [];
    for (const name of rest) {
      const c = this.containers.get(name);
      if (!c) {
        errors.push(`Error: No such container: ${name}\n`);
        continue;
      }
      const view = containerView(c);
      const line = format === undefined ? JSON.stringify([view]) : renderTemplate(format, view);
      if (line === undefined) return undefined;
      lines.push(line);
    }
    const stdout = lines.map((l) => `${l}\n`).join('');
    return { code: errors.length > 0 ? 1 : 0, stdout, stderr: errors.join('') };
  }

  private networkInspect(args: string[]): ExecOut | undefined {
    const { format, rest } = formatOf(args);
    const name = rest[0] ?? '';
    const id = this.networks.get(name);
    if (id === undefined) return fail(1, `Error response from daemon: network ${name} not found\n`);
    const out = renderTemplate(format ?? '{{json .}}', { Name: name, Id: id });
    return out === undefined ? undefined : ok(`${out}\n`);
  }

  private networkCreate(name: string): ExecOut {
    if (this.networks.has(name))
      return fail(1, `Error response from daemon: network with name ${name} already exists\n`);
    const id = randomBytes(32).toString('hex');
    this.networks.set(name, id);
    return ok(`${id}\n`);
  }

  private imageInspect(args: string[]): ExecOut | undefined {
    const { format, rest } = formatOf(args);
    const ref = rest[0] ?? '';
    const id = this.images.get(ref) ?? [...this.images.values()].find((imageId) => imageId === ref);
    if (id === undefined) return fail(1, `Error response from daemon: No such image: ${ref}\n`);
    const out = renderTemplate(format ?? '{{json .}}', { Id: id, Size: 412_000_000 });
    return out === undefined ? undefined : ok(`${out}\n`);
  }

  /** `docker image rm <id>`: refused while a container uses it or it has more than one name, as Docker does. */
  private imageRemove(id: string): ExecOut {
    const refs = [...this.images].filter(([, imageId]) => imageId === id).map(([ref]) => ref);
    if (refs.length === 0) return fail(1, `Error response from daemon: No such image: ${id}\n`);
    if (refs.length > 1 || [...this.containers.values()].some((c) => c.imageId === id))
      return fail(1, `Error response from daemon: conflict: unable to delete ${id.slice(7, 19)}\n`);
    this.images.delete(refs[0] as string);
    return ok(`Untagged: ${refs[0]}\nDeleted: ${id}\n`);
  }

  pull(ref: string): ExecOut {
    const id = imageId(ref);
    this.images.set(ref, id);
    const layers = [0, 1, 2].map((i) => id.slice(7 + i * 12, 19 + i * 12));
    const lines = [
      `${ref.includes(':') ? ref.split(':').pop() : 'latest'}: Pulling from ${ref.split(':')[0]}`,
      ...layers.map((l) => `${l}: Pull complete`),
      `Digest: ${id}`,
      `Status: Downloaded newer image for ${ref}`,
      ref,
    ];
    return ok(`${lines.join('\n')}\n`);
  }

  private create(args: string[]): ExecOut | undefined {
    const spec = parseRun(args);
    if (spec === undefined) return undefined;
    const existing = this.containers.get(spec.name);
    if (existing)
      return fail(
        125,
        `docker: Error response from daemon: Conflict. The container name "/${spec.name}" is already in use by container "${existing.id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
      );
    if (spec.envFile !== undefined && !this.hasFile(spec.envFile))
      return fail(125, `docker: open ${spec.envFile}: no such file or directory.\n`);
    if (!this.images.has(spec.image)) this.pull(spec.image);
    const networkId = this.networks.get(spec.network);
    const c: Container = {
      id: randomBytes(32).toString('hex'),
      name: spec.name,
      image: spec.image,
      imageId: this.images.get(spec.image) ?? '',
      status: networkId === undefined ? 'created' : 'running',
      startedAt: networkId === undefined ? ZERO_TIME : new Date().toISOString(),
      finishedAt: ZERO_TIME,
      exitCode: 0,
      labels: spec.labels,
      networks: networkId === undefined ? {} : { [spec.network]: networkId },
      restart: spec.restart,
      ports: spec.ports,
      mounts: spec.mounts.map(([Source, Destination]) => ({ Type: 'bind', Source, Destination })),
      logs: spec.logs,
    };
    this.containers.set(c.name, c);
    if (networkId === undefined)
      return {
        code: 125,
        stdout: `${c.id}\n`,
        stderr: `docker: Error response from daemon: network ${spec.network} not found.\n`,
      };
    // The runner reads its pool file through the bind mount; without it, it restarts over and over.
    const pool = c.mounts[0] && posix.join(c.mounts[0].Source, 'pool.yml');
    if (c.image.includes('drone-runner-aws') && pool !== undefined && !this.hasFile(pool))
      c.status = 'restarting';
    return ok(`${c.id}\n`);
  }

  private lifecycle(verb: string, args: string[]): ExecOut {
    const names = args.filter((a) => !a.startsWith('-') && !/^\d+$/.test(a));
    const c = this.containers.get(names[0] ?? '');
    if (!c) return noSuch(names[0] ?? '');
    if (verb === 'rm') {
      if (c.status === 'running' && !args.includes('-f'))
        return fail(
          1,
          `Error response from daemon: cannot remove container "/${c.name}": container is running\n`,
        );
      this.containers.delete(c.name);
    } else if (verb === 'rename') {
      const to = names[1] ?? '';
      if (this.containers.has(to)) return fail(1, `Error response from daemon: name "${to}" is in use\n`);
      this.containers.delete(c.name);
      c.name = to;
      this.containers.set(to, c);
      return ok();
    } else if (verb === 'start' && c.status !== 'running') {
      c.status = 'running';
      c.startedAt = new Date().toISOString();
    } else if (verb === 'stop' && c.status === 'running') {
      c.status = 'exited';
      c.finishedAt = new Date().toISOString();
    }
    return ok(`${names[0]}\n`);
  }

  private exec(args: string[]): ExecOut {
    const [name, program, ...rest] = args;
    const c = this.containers.get(name ?? '');
    if (!c) return noSuch(name ?? '');
    if (c.status !== 'running')
      return fail(1, `Error response from daemon: container ${c.id} is not running\n`);
    if (program !== 'curl') return ok();
    if (c.image.includes('drone-runner-aws'))
      return fail(
        126,
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in $PATH: unknown\n',
      );
    return rest.some((a) => a.includes(':3460/api/health'))
      ? ok(HEALTH_BODY)
      : fail(7, 'curl: (7) Failed to connect\n');
  }

  private logs(name: string): ExecOut {
    const c = this.containers.get(name);
    if (!c) return noSuch(name);
    if (c.image.includes('drone-runner-aws')) {
      return ok(
        [
          'time="2025-01-01T00:00:00Z" level=info msg="delegate: starting in standard mode"',
          `time="2025-01-01T00:00:00Z" level=info msg="Parsing pool 'linux-amd64', of type 'google'"`,
          'time="2025-01-01T00:00:02Z" level=info msg="starting the server" addr=":3000"',
          '',
        ].join('\n'),
      );
    }
    return ok(`Delegate process started\nDelegate registered with id ${c.id.slice(0, 22)}\n`);
  }

  /** Whether the runner answers on :3000 (published), as its /healthz does once its pools are built. */
  runnerAnswers(): boolean {
    return this.containers.get('vm-runner')?.status === 'running';
  }
}
