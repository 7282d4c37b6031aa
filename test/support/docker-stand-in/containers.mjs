/**
 * Containers: created from `docker run` flags, started and stopped, with the log lines the runner and the
 * delegate print. A container records the network *id* it was attached to, as Docker does, so a network
 * removed and created again under the same name leaves it unstartable.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { startChatter } from './chatter.mjs';
import { DaemonError } from './errors.mjs';
import { recordEvent } from './events.mjs';
import { imageKind } from './images.mjs';
import { findNetwork } from './networks.mjs';
import { hexId, nextTime } from './state.mjs';

export const ZERO_TIME = '0001-01-01T00:00:00Z';

export const noSuchContainer = (ref) => new DaemonError(`No such container: ${ref}`);

export function findContainer(state, ref) {
  const all = Object.values(state.containers);
  const byName = all.find((c) => c.name === ref.replace(/^\//, ''));
  if (byName) return byName;
  const byId = all.filter((c) => c.id.startsWith(ref));
  return ref.length > 0 && byId.length === 1 ? byId[0] : undefined;
}

export function mustFind(state, ref) {
  const found = findContainer(state, ref);
  if (!found) throw noSuchContainer(ref);
  return found;
}

export function nameConflict(state, name) {
  const holder = findContainer(state, name);
  if (holder && holder.name === name)
    throw new DaemonError(
      `Conflict. The container name "/${name}" is already in use by container "${holder.id}". You have to remove (or rename) that container to be able to reuse that name.`,
      125,
    );
}

// By container name or by image: an image that never gets healthy leaves a rolled-back old one healthy.
const named = (list, c) => (list ?? '').split(',').some((entry) => entry === c.name || entry === c.image);
const unhealthy = (env, c) => named(env.FAKE_DOCKER_UNHEALTHY, c);
/** A runner that cannot create Gitspace VMs: the project's quota is used up; its /healthz still says OK. */
const overQuota = (env, c) => named(env.FAKE_DOCKER_QUOTA, c);
/** A delegate Harness froze: it registered, and answers its health check, but takes no tasks. */
const revoked = (env, c) => named(env.FAKE_DOCKER_REVOKED, c);
/** Still coming up: started, but not answering and nothing conclusive logged yet. */
const starting = (env, c) => named(env.FAKE_DOCKER_STARTING, c);
/** Whether the container's service answers now (FAKE_DOCKER_UNHEALTHY / FAKE_DOCKER_STARTING say no). */
export const answering = (env, c) => c.status === 'running' && !unhealthy(env, c) && !starting(env, c);

function log(state, c, stream, line) {
  c.logs.push({ time: nextTime(state), stream, line });
}

/** Where a path inside the container is on the host, through its bind mounts (longest match wins). */
export function hostPath(c, inside) {
  const mounts = c.mounts
    .filter((m) => m.type === 'bind' && (inside === m.destination || inside.startsWith(`${m.destination}/`)))
    .sort((a, b) => b.destination.length - a.destination.length);
  const mount = mounts[0];
  return mount ? posix.join(mount.source, posix.relative(mount.destination, inside)) : undefined;
}

const logfmt = (level, msg, extra = '') =>
  `time="${new Date().toISOString().slice(0, 19)}Z" level=${level} msg="${msg}"${extra}`;

/** drone-runner-aws `delegate --pool <file>`: it exits at once when it cannot read its pool file. */
function startRunner(env, state, c) {
  const args = c.cmd ?? [];
  const pool = args[args.indexOf('--pool') + 1] ?? '/runner/.drone_pool.yml';
  log(state, c, 'stderr', logfmt('info', 'delegate: starting in standard mode'));
  const file = hostPath(c, pool);
  if (!file || !existsSync(file)) {
    log(
      state,
      c,
      'stderr',
      logfmt('fatal', 'Unable to load pool file', ` error="open ${pool}: no such file or directory"`),
    );
    return false;
  }
  let pools = [];
  try {
    pools = [...readFileSync(file, 'utf8').matchAll(/^\s*-?\s*name:\s*(\S+)/gm)].map((m) => m[1]);
  } catch (error) {
    log(state, c, 'stderr', logfmt('fatal', 'Unable to load pool file', ` error="${error.message}"`));
    return false;
  }
  log(state, c, 'stderr', logfmt('info', `Parsing pool file ${pool}`));
  if (starting(env, c)) return true;
  if (unhealthy(env, c)) {
    log(
      state,
      c,
      'stderr',
      logfmt('error', 'unable to ping driver', ' error="googleapi: Error 403: Permission denied"'),
    );
    return true;
  }
  for (const name of pools.length > 0 ? pools : ['default'])
    log(state, c, 'stderr', logfmt('info', 'pool created', ` pool=${name}`));
  log(state, c, 'stderr', logfmt('info', 'starting the server', ' addr=":3000"'));
  if (overQuota(env, c))
    log(
      state,
      c,
      'stderr',
      logfmt(
        'error',
        'google: failed to provision VM',
        ` error="googleapi: Error 403: Quota 'CPUS' exceeded.  Limit: 24.0 in region us-central1., quotaExceeded" cloud=google pool=${pools[0] ?? 'default'}`,
      ),
    );
  return true;
}

function startDelegate(env, state, c) {
  log(state, c, 'stdout', 'Delegate process started');
  if (starting(env, c)) return true;
  if (unhealthy(env, c)) {
    log(state, c, 'stdout', 'Delegate used invalid token. Self destruct procedure will be initiated.');
    return true;
  }
  log(state, c, 'stdout', `Delegate registered with id ${hexId().slice(0, 22)}`);
  if (revoked(env, c)) log(state, c, 'stdout', 'Delegate used revoked token. It will be frozen and drained.');
  return true;
}

function checkStartable(state, c) {
  for (const [name, attached] of Object.entries(c.networks)) {
    if (!findNetwork(state, attached.id)) throw new DaemonError(`network ${attached.id} not found`);
    if (!findNetwork(state, name)) throw new DaemonError(`network ${name} not found`);
  }
  for (const [port, bindings] of Object.entries(c.ports)) {
    for (const binding of bindings) {
      const taken = Object.values(state.containers).find(
        (o) =>
          o.id !== c.id &&
          o.status === 'running' &&
          (o.ports[port] ?? []).some((b) => b.HostPort === binding.HostPort),
      );
      if (taken && binding.HostPort)
        throw new DaemonError(
          `driver failed programming external connectivity on endpoint ${c.name} (${c.id}): Bind for 0.0.0.0:${binding.HostPort} failed: port is already allocated`,
        );
    }
  }
}

/** Starts `c` (a no-op when it runs). A process that dies at once leaves it exited, or restarting. */
export function startContainer(env, state, c) {
  if (c.status === 'running') return;
  checkStartable(state, c);
  c.startedAt = nextTime(state);
  c.status = 'running';
  c.exitCode = 0;
  c.pid = 1000 + Math.floor(Math.random() * 30000);
  const kind = imageKind(c.image);
  const alive =
    kind === 'runner'
      ? startRunner(env, state, c)
      : kind === 'delegate'
        ? startDelegate(env, state, c)
        : true;
  const inside = (path) => {
    const file = hostPath(c, path);
    return file && existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  };
  for (const { stream, line } of startChatter(env, c, inside)) log(state, c, stream, line);
  if (!alive) exitContainer(state, c, 1, c.restart.Name !== 'no');
  else if (kind === 'other' && !c.detached) exitContainer(state, c, 0, false);
}

export function exitContainer(state, c, code, restarting = false) {
  recordEvent(state, c, 'die', { exitCode: String(code) });
  c.status = restarting ? 'restarting' : 'exited';
  c.exitCode = code;
  c.pid = 0;
  c.finishedAt = nextTime(state);
}

/**
 * What the daemon did meanwhile: a runner that keeps restarting comes up once its pool file is there,
 * as the restart policy retries it.
 */
export function settle(env, state) {
  for (const c of Object.values(state.containers)) {
    if (c.status !== 'restarting') continue;
    const pool = (c.cmd ?? [])[(c.cmd ?? []).indexOf('--pool') + 1];
    const file = pool && hostPath(c, pool);
    if (file && existsSync(file)) {
      c.status = 'exited';
      c.restartCount += 1;
      try {
        startContainer(env, state, c);
      } catch {
        c.status = 'restarting';
      }
    }
  }
}

function parsePort(spec) {
  const parts = spec.split(':');
  const [containerPort, proto = 'tcp'] = parts.at(-1).split('/');
  const hostPort = parts.length >= 2 ? parts.at(-2) : '';
  const hostIp = parts.length === 3 ? parts[0] : '';
  return [`${containerPort}/${proto}`, { HostIp: hostIp, HostPort: hostPort }];
}

function parseVolume(spec) {
  const [source, destination, mode = ''] = spec.split(':');
  if (!destination)
    return { type: 'volume', name: hexId(), source: '', destination: source, mode: '', rw: true };
  if (!source.startsWith('/'))
    return {
      type: 'volume',
      name: source,
      source: `/var/lib/docker/volumes/${source}/_data`,
      destination,
      mode: mode || 'z',
      rw: !mode.includes('ro'),
    };
  // `-v` creates a missing host directory (unlike `--mount`), as root.
  if (!existsSync(source)) mkdirSync(source, { recursive: true });
  return { type: 'bind', source, destination, mode, rw: !mode.includes('ro') };
}

function readEnvFile(file, env) {
  if (!existsSync(file)) throw new DaemonError(`open ${file}: no such file or directory`, 125);
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/^\s+/, ''))
    .filter((line) => line !== '' && !line.startsWith('#'))
    .flatMap((line) =>
      line.includes('=') ? [line] : env[line] !== undefined ? [`${line}=${env[line]}`] : [],
    );
}

/** A container in `created` state from parsed `docker run` flags. */
export function createContainer(env, state, image, flags, command) {
  const name = flags['--name'] ?? `stand_in_${Object.keys(state.containers).length + 1}`;
  nameConflict(state, name);
  const networkName = flags['--network'] ?? 'bridge';
  const network = findNetwork(state, networkName);
  if (!network) throw new DaemonError(`network ${networkName} not found`, 125);
  const labels = Object.fromEntries(
    (flags['--label'] ?? []).map((l) => [l.split('=')[0], l.slice(l.indexOf('=') + 1)]),
  );
  const envList = [
    ...(flags['--env-file'] ?? []).flatMap((file) => readEnvFile(file, env)),
    ...(flags['--env'] ?? []).flatMap((e) =>
      e.includes('=') ? [e] : env[e] !== undefined ? [`${e}=${env[e]}`] : [],
    ),
  ];
  const ports = {};
  for (const spec of flags['--publish'] ?? []) {
    const [key, binding] = parsePort(spec);
    ports[key] = [...(ports[key] ?? []), binding];
  }
  const [restartName, retries = '0'] = (flags['--restart'] ?? 'no').split(':');
  const id = hexId();
  const kind = imageKind(image.ref);
  const container = {
    id,
    name,
    image: flags.imageRef,
    imageId: image.id,
    created: nextTime(state),
    status: 'created',
    exitCode: 0,
    pid: 0,
    startedAt: ZERO_TIME,
    finishedAt: ZERO_TIME,
    restartCount: 0,
    detached: Boolean(flags['--detach']),
    env: [...envList, 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    labels,
    network: networkName,
    networks: {
      [network.name]: { id: network.id, ip: `172.18.0.${Object.keys(state.containers).length + 2}` },
    },
    binds: (flags['--volume'] ?? []).filter((v) => v.startsWith('/')),
    mounts: (flags['--volume'] ?? []).map(parseVolume),
    hostname: flags['--hostname'] ?? id.slice(0, 12),
    entrypoint: flags['--entrypoint']
      ? [flags['--entrypoint']]
      : kind === 'runner'
        ? ['/bin/drone-runner-aws']
        : null,
    cmd: command.length > 0 ? command : kind === 'runner' ? null : ['/bin/sh', '-c', './start.sh'],
    restart: { Name: restartName, MaximumRetryCount: Number(retries) },
    ports,
    platform: flags['--platform'] ?? '',
    nanoCpus: flags['--cpus'] ? Math.round(Number(flags['--cpus']) * 1e9) : 0,
    memory: flags.memory ?? 0,
    autoRemove: Boolean(flags['--rm']),
    // Docker's default driver, its options as given (none: never rotated).
    logConfig: {
      Type: flags['--log-driver'] ?? 'json-file',
      Config: Object.fromEntries(
        (flags['--log-opt'] ?? []).map((o) => [o.split('=')[0], o.slice(o.indexOf('=') + 1)]),
      ),
    },
    logs: [],
  };
  state.containers[id] = container;
  return container;
}
