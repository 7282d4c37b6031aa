/**
 * A VM as the engine sees it over SSH, in memory: files, Docker networks and containers, and answers to
 * exactly the commands the engine sends (src/setup/steps), with docker 27.x's output, errors and exit codes
 * for them. Anything else answers `command not found` and is kept in `unknown`, so a benchmark can check
 * that the emulation covered the whole run.
 */
import { createHash, randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { splitWords, unquote, WORD } from './shell-words.js';

export interface ExecOut {
  code: number;
  stdout: string;
  stderr: string;
}

interface Container {
  id: string;
  name: string;
  image: string;
  status: 'running' | 'created' | 'restarting' | 'exited';
  labels: Record<string, string>;
}

const DOCKER_VERSION = '27.3.1';
const HEALTH_BODY = '{"metaData":{},"resource":"healthy","responseMessages":[]}';
const ok = (stdout = ''): ExecOut => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): ExecOut => ({ code, stdout: '', stderr });

const RUN_VALUE_FLAGS = new Set([
  '--name',
  '--network',
  '--hostname',
  '-v',
  '--volume',
  '-p',
  '--publish',
  '--platform',
  '--restart',
  '--env-file',
  '--label',
  '-l',
  '-e',
  '--env',
  '--cpus',
  '--memory',
]);
const RUN_BOOL_FLAGS = new Set(['-d', '--detach', '--rm']);

/** Script shapes the engine sends, besides plain argv commands. */
const SCRIPTS: Array<{ pattern: RegExp; run(vm: FakeVm, m: RegExpExecArray): ExecOut }> = [
  {
    pattern: /^rm -f \/tmp\/gitspaces-delegate\.\*$/,
    run: (vm) => vm.removeMatching('/tmp/gitspaces-delegate.'),
  },
  { pattern: /^\. \/etc\/os-release 2>\/dev\/null && echo "\$ID"$/, run: () => ok('debian\n') },
  { pattern: /^command -v docker$/, run: () => ok('/usr/bin/docker\n') },
  {
    pattern: new RegExp(String.raw`^\(sha256sum ${WORD} 2>/dev/null \|\| echo -\) \| cut -d' ' -f1`),
    run: (vm, m) => vm.hashes(m.input),
  },
  {
    pattern: new RegExp(`^mkdir -p (${WORD}) && install -m 0600 (${WORD}) (${WORD})$`),
    run: (vm, m) => vm.install(unquote(m[2] ?? ''), unquote(m[3] ?? '')),
  },
  {
    // `docker run … --env-file <file>; rc=$?; rm -f <file>; exit $rc` (the delegate).
    pattern: new RegExp(String.raw`^(.*); rc=\$\?; rm -f (${WORD}); exit \$rc$`, 's'),
    run: (vm, m) => {
      const out = vm.run(m[1] ?? '');
      vm.files.delete(unquote(m[2] ?? ''));
      return out;
    },
  },
];

export class FakeVm {
  readonly files = new Map<string, { data: Buffer; mode: number }>();
  readonly networks = new Set<string>();
  readonly containers = new Map<string, Container>();
  readonly unknown: string[] = [];
  commands = 0;

  reset(): void {
    this.files.clear();
    this.networks.clear();
    this.containers.clear();
    this.unknown.length = 0;
    this.commands = 0;
  }

  /** One exec request, as sshd would run it through the user's shell. */
  exec(command: string): ExecOut {
    this.commands += 1;
    return this.run(command);
  }

  run(command: string): ExecOut {
    const line = command.startsWith('sudo -n ') ? command.slice('sudo -n '.length) : command;
    for (const script of SCRIPTS) {
      const match = script.pattern.exec(line);
      if (match) return script.run(this, match);
    }
    const argv = splitWords(line);
    if (argv === undefined) return this.notFound(command);
    return this.argv(argv, command);
  }

  writeFile(path: string, data: Buffer, mode: number): void {
    this.files.set(path, { data, mode });
  }

  removeMatching(prefix: string): ExecOut {
    for (const path of this.files.keys()) if (path.startsWith(prefix)) this.files.delete(path);
    return ok();
  }

  hashes(script: string): ExecOut {
    const paths = [...script.matchAll(new RegExp(`sha256sum (${WORD}) 2>/dev/null`, 'g'))];
    const lines = paths.map((m) => {
      const file = this.files.get(unquote(m[1] ?? ''));
      return file ? createHash('sha256').update(file.data).digest('hex') : '-';
    });
    return ok(`${lines.join('\n')}\n`);
  }

  install(from: string, to: string): ExecOut {
    const file = this.files.get(from);
    if (!file) return fail(1, `install: cannot stat '${from}': No such file or directory\n`);
    this.files.set(to, { data: file.data, mode: 0o600 });
    return ok();
  }

  private notFound(command: string): ExecOut {
    this.unknown.push(command);
    return fail(127, `sh: 1: ${command.split(' ')[0]}: not found\n`);
  }

  private argv(argv: string[], command: string): ExecOut {
    const [program, ...args] = argv;
    switch (program) {
      case 'mktemp': {
        const template = args[0] ?? '/tmp/tmp.XXXXXXXXXX';
        const path = template.replace(/X+$/, (x) =>
          randomBytes(x.length).toString('base64url').slice(0, x.length),
        );
        this.files.set(path, { data: Buffer.alloc(0), mode: 0o600 });
        return ok(`${path}\n`);
      }
      case 'rm':
        for (const path of args.filter((a) => !a.startsWith('-'))) this.files.delete(path);
        return ok();
      case 'curl':
        return this.curl(args.at(-1) ?? '');
      case 'docker':
        return this.docker(args, command);
      default:
        return this.notFound(command);
    }
  }

  private curl(url: string): ExecOut {
    const runner = this.containers.get('vm-runner');
    if (url === 'http://127.0.0.1:3000/healthz' && runner?.status === 'running') return ok('OK');
    return fail(
      7,
      "curl: (7) Failed to connect to 127.0.0.1 port 3000 after 0 ms: Couldn't connect to server\n",
    );
  }

  private docker(args: string[], command: string): ExecOut {
    const [sub, ...rest] = args;
    const key = sub === 'network' ? `network ${rest[0]}` : (sub ?? '');
    switch (key) {
      case 'info':
        return ok(`${DOCKER_VERSION}\n`);
      case 'network inspect': {
        const name = rest[1] ?? '';
        return this.networks.has(name)
          ? ok(`${name}\n`)
          : fail(1, `Error response from daemon: network ${name} not found\n`);
      }
      case 'network create': {
        const name = rest[1] ?? '';
        if (this.networks.has(name))
          return fail(1, `Error response from daemon: network with name ${name} already exists\n`);
        this.networks.add(name);
        return ok(`${randomBytes(32).toString('hex')}\n`);
      }
      case 'inspect':
        return this.inspect(rest, command);
      case 'run':
        return this.runContainer(rest, command);
      case 'start': {
        const container = this.containers.get(rest[0] ?? '');
        if (!container) return fail(1, `Error response from daemon: No such container: ${rest[0]}\n`);
        container.status = 'running';
        return ok(`${container.name}\n`);
      }
      case 'rm': {
        const name = rest.filter((a) => !a.startsWith('-'))[0] ?? '';
        if (!this.containers.delete(name))
          return fail(1, `Error response from daemon: No such container: ${name}\n`);
        return ok(`${name}\n`);
      }
      case 'exec':
        return this.dockerExec(rest);
      case 'logs':
        return this.logs(rest.at(-1) ?? '');
      default:
        return this.notFound(command);
    }
  }

  private inspect(args: string[], command: string): ExecOut {
    const format = args[args.indexOf('--format') + 1] ?? '';
    const name = args.at(-1) ?? '';
    const container = this.containers.get(name);
    if (!container) return fail(1, `Error: No such object: ${name}\n`);
    const out = format
      .replaceAll('{{.State.Status}}', container.status)
      .replaceAll('{{.Config.Image}}', container.image)
      .replace(
        /\{\{index \.Config\.Labels "([^"]+)"\}\}/g,
        (_, label: string) => container.labels[label] ?? '',
      );
    if (out.includes('{{')) return this.notFound(command);
    return ok(`${out}\n`);
  }

  private runContainer(args: string[], command: string): ExecOut {
    const flags: Array<[string, string]> = [];
    let i = 0;
    for (; i < args.length && (args[i] as string).startsWith('-'); i++) {
      const arg = args[i] as string;
      const eq = arg.indexOf('=');
      const flag = eq > 0 ? arg.slice(0, eq) : arg;
      if (RUN_BOOL_FLAGS.has(flag)) continue;
      if (!RUN_VALUE_FLAGS.has(flag)) return this.notFound(command);
      flags.push([flag, eq > 0 ? arg.slice(eq + 1) : (args[++i] ?? '')]);
    }
    const image = args[i] ?? '';
    const value = (name: string) => flags.find(([f]) => f === name)?.[1];
    const name = value('--name') ?? randomBytes(4).toString('hex');
    const existing = this.containers.get(name);
    if (existing) {
      return fail(
        125,
        `docker: Error response from daemon: Conflict. The container name "/${name}" is already in use by container "${existing.id}". You have to remove (or rename) that container to be able to reuse that name.\n`,
      );
    }
    const envFile = value('--env-file');
    if (envFile !== undefined && !this.files.has(envFile))
      return fail(125, `docker: open ${envFile}: no such file or directory.\n`);
    const labels = Object.fromEntries(
      flags
        .filter(([f]) => f === '--label' || f === '-l')
        .map(([, l]) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]),
    );
    const container: Container = {
      id: randomBytes(32).toString('hex'),
      name,
      image,
      status: 'running',
      labels,
    };
    this.containers.set(name, container);
    const network = value('--network');
    if (network !== undefined && !this.networks.has(network)) {
      container.status = 'created';
      return {
        code: 125,
        stdout: `${container.id}\n`,
        stderr: `docker: Error response from daemon: network ${network} not found.\n`,
      };
    }
    // The runner reads its pool file through the bind mount; without it, it restarts over and over.
    const mount = value('-v') ?? value('--volume');
    if (image.includes('drone-runner-aws') && mount !== undefined) {
      const pool = posix.join(mount.split(':')[0] ?? '', 'pool.yml');
      if (!this.files.has(pool)) container.status = 'restarting';
    }
    return ok(`${container.id}\n`);
  }

  private dockerExec(args: string[]): ExecOut {
    const [name, program, ...rest] = args;
    const container = this.containers.get(name ?? '');
    if (!container) return fail(1, `Error response from daemon: No such container: ${name}\n`);
    if (container.status !== 'running')
      return fail(1, `Error response from daemon: container ${container.id} is not running\n`);
    if (program !== 'curl') return ok();
    if (container.image.includes('drone-runner-aws'))
      return fail(
        126,
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in $PATH: unknown\n',
      );
    return rest.some((a) => a.includes(':3460/api/health'))
      ? ok(HEALTH_BODY)
      : fail(7, 'curl: (7) Failed to connect\n');
  }

  private logs(name: string): ExecOut {
    const container = this.containers.get(name);
    if (!container) return fail(1, `Error response from daemon: No such container: ${name}\n`);
    if (container.image.includes('drone-runner-aws')) {
      return ok(
        [
          'time="2025-01-01T00:00:00Z" level=info msg="delegate: starting in standard mode"',
          `time="2025-01-01T00:00:00Z" level=info msg="Parsing pool 'linux-amd64', of type 'google'"`,
          'time="2025-01-01T00:00:01Z" level=info msg="pools cleaned"',
          'time="2025-01-01T00:00:02Z" level=info msg="pool created"',
          'time="2025-01-01T00:00:02Z" level=info msg="starting the server" addr=":3000"',
          '',
        ].join('\n'),
      );
    }
    return ok(`Delegate process started\nDelegate registered with id ${container.id.slice(0, 22)}\n`);
  }
}
