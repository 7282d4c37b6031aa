/** The flags of `docker run` the engine's container specs use (src/setup/container-specs.ts), read back. */
export interface RunSpec {
  name: string;
  image: string;
  network: string;
  restart: string;
  envFile: string | undefined;
  labels: Record<string, string>;
  ports: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  /** [source, destination] per `-v`. */
  mounts: Array<[string, string]>;
  /** `--log-driver` (json-file when not given) and each `--log-opt`. */
  logs: { Type: string; Config: Record<string, string> };
}

const VALUE_FLAGS = new Set([
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
  '--log-driver',
  '--log-opt',
]);
const BOOL_FLAGS = new Set(['-d', '--detach', '--rm']);

/** Flags up to the image, then the image; undefined when a flag is one the engine never sends. */
function readFlags(args: string[]): { flags: Array<[string, string]>; image: string } | undefined {
  const flags: Array<[string, string]> = [];
  let i = 0;
  for (; i < args.length && (args[i] as string).startsWith('-'); i++) {
    const arg = args[i] as string;
    const eq = arg.indexOf('=');
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    if (BOOL_FLAGS.has(flag)) continue;
    if (!VALUE_FLAGS.has(flag)) return undefined;
    flags.push([flag, eq > 0 ? arg.slice(eq + 1) : (args[++i] ?? '')]);
  }
  return { flags, image: args[i] ?? '' };
}

export function parseRun(args: string[]): RunSpec | undefined {
  const read = readFlags(args);
  if (read === undefined) return undefined;
  const all = (...names: string[]) => read.flags.filter(([f]) => names.includes(f)).map(([, v]) => v);
  const labels = Object.fromEntries(
    all('--label', '-l').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const ports: RunSpec['ports'] = {};
  for (const p of all('-p', '--publish')) {
    const [host = '', container = ''] = p.split(':');
    const key = `${container}/tcp`;
    ports[key] = [...(ports[key] ?? []), { HostIp: '', HostPort: host }];
  }
  return {
    name: all('--name')[0] ?? '',
    image: read.image,
    network: all('--network')[0] ?? 'bridge',
    restart: all('--restart')[0] ?? 'no',
    envFile: all('--env-file')[0],
    labels,
    ports,
    mounts: all('-v', '--volume').map((v) => {
      const [source = '', destination = ''] = v.split(':');
      return [source, destination];
    }),
    logs: {
      Type: all('--log-driver')[0] ?? 'json-file',
      Config: Object.fromEntries(
        all('--log-opt').map((o) => [o.slice(0, o.indexOf('=')), o.slice(o.indexOf('=') + 1)]),
      ),
    },
  };
}
