/** `docker info|version|pull|image|inspect|network`. */

import { findContainer, mustFind, settle } from './containers.mjs';
import { CliError, DaemonError } from './errors.mjs';
import { parseFlags } from './flags.mjs';
import { imageView, localImage, normalize, pull as pullImage } from './images.mjs';
import {
  allNetworks,
  attached,
  connect,
  createNetwork,
  disconnect,
  findNetwork,
  removeNetwork,
} from './networks.mjs';
import { withState } from './state.mjs';
import { render } from './template.mjs';
import { API_VERSION, containerView, infoView, networkView, VERSION } from './views.mjs';

export const CLIENT_VERSION = `Docker version ${VERSION}, build ce12230`;

const FORMAT = { '--format': 'value' };
const FORMAT_ALIAS = { '-f': '--format' };

const plain = (value) => JSON.parse(JSON.stringify(value));

/** `--format` output, or docker's indented JSON array when there is none. */
function show(answer, format, views) {
  if (format === undefined || format === '') {
    answer.out(JSON.stringify(plain(views), null, 4));
    return;
  }
  // Docker ends each object's output with a newline, whatever the template printed.
  for (const view of views)
    answer.raw('stdout', `${render(format === 'json' ? '{{json .}}' : format, view)}\n`);
}

/** The daemon's answer for `info`; its error goes to stderr by the caller. */
export function info(env, args, answer) {
  const { flags } = parseFlags(args, FORMAT, FORMAT_ALIAS, 'info');
  const memTotal = env.FAKE_DOCKER_MEM_TOTAL === undefined ? undefined : Number(env.FAKE_DOCKER_MEM_TOTAL);
  const view = withState(env, (state) => infoView(state, env.FAKE_DOCKER_ROOT_DIR, memTotal));
  if (flags['--format'] !== undefined) answer.out(render(flags['--format'], view));
  else
    answer.out(
      `Client:\n Version:    ${VERSION}\n Context:    default\n\nServer:\n Containers: ${view.Containers}\n  Running: ${view.ContainersRunning}\n Images: ${view.Images}\n Server Version: ${VERSION}\n Storage Driver: overlay2`,
    );
}

export const clientVersion = () =>
  `Client:\n Version:           ${VERSION}\n API version:       ${API_VERSION}\n Go version:        go1.22.7\n Git commit:        ce12230\n OS/Arch:           linux/amd64\n Context:           default\n`;

export function version(_env, args, answer) {
  parseFlags(args, FORMAT, FORMAT_ALIAS, 'version');
  answer.out(
    `${clientVersion()}\nServer: Docker Engine - Community\n Engine:\n  Version:          ${VERSION}\n  API version:      ${API_VERSION} (minimum version 1.24)`,
  );
}

export function pull(env, args, answer, { tty }) {
  const { flags, positional } = parseFlags(
    args,
    { '--quiet': 'bool', '--platform': 'value', '--all-tags': 'bool' },
    { '-q': '--quiet', '-a': '--all-tags' },
    'pull',
  );
  if (positional.length !== 1)
    throw new CliError(`docker: 'docker pull' requires 1 argument.\nSee 'docker pull --help'.`);
  const lines = withState(env, (state) => pullImage(env, state, positional[0], { tty }));
  answer.out(flags['--quiet'] ? lines.at(-1) : lines.join('\n'));
}

export function imageInspect(env, args, answer) {
  const { flags, positional } = parseFlags(args, FORMAT, FORMAT_ALIAS, 'image inspect');
  const found = withState(env, (state) =>
    positional.map((ref) => [ref, localImage(state, ref) && imageView(state, localImage(state, ref))]),
  );
  show(
    answer,
    flags['--format'],
    found.filter(([, v]) => v).map(([, v]) => v),
  );
  const missing = found.filter(([, v]) => !v);
  if (missing.length > 0)
    throw new CliError(`Error response from daemon: No such image: ${normalize(missing[0][0])}`);
}

export function rmi(env, args, answer) {
  const { flags, positional } = parseFlags(
    args,
    { '--force': 'bool', '--no-prune': 'bool' },
    { '-f': '--force' },
    'rmi',
  );
  withState(env, (state) => {
    for (const ref of positional) {
      const image = localImage(state, ref);
      if (!image) throw new DaemonError(`No such image: ${ref}`);
      const byId = localImage(state, ref) !== state.images[normalize(ref)];
      const names = Object.values(state.images).filter((img) => img.id === image.id);
      if (byId && names.length > 1 && !flags['--force'])
        throw new DaemonError(
          `conflict: unable to delete ${image.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`,
        );
      const user = Object.values(state.containers).find((c) => c.imageId === image.id);
      const running = user?.status === 'running';
      if (user && byId && (running || !flags['--force']))
        throw new DaemonError(
          `conflict: unable to delete ${image.id.slice(7, 19)} (${running ? 'cannot' : 'must'} be forced) - image is being used by ${running ? 'running' : 'stopped'} container ${user.id.slice(0, 12)}`,
        );
      if (user && !flags['--force'])
        throw new DaemonError(
          `conflict: unable to remove repository reference "${ref}" (must force) - container ${user.id.slice(0, 12)} is using its referenced image ${image.id.slice(7, 19)}`,
        );
      delete state.images[image.ref];
      answer.out(`Untagged: ${image.ref}`);
    }
  });
}

const NO_SUCH = { container: 'container', image: 'image', network: 'network' };

/** `docker inspect [--type T]`: containers first, then images, then networks, as the CLI looks them up. */
export function inspect(env, args, answer, type) {
  const { flags, positional } = parseFlags(
    args,
    { ...FORMAT, '--type': 'value', '--size': 'bool' },
    { ...FORMAT_ALIAS, '-s': '--size' },
    'inspect',
  );
  const kind = type ?? flags['--type'];
  if (kind && !NO_SUCH[kind]) throw new CliError(`"${kind}" is not a valid value for --type`);
  if (positional.length === 0)
    throw new CliError(
      `docker: 'docker inspect' requires at least 1 argument.\nSee 'docker inspect --help'.`,
    );
  const views = [];
  const missing = [];
  withState(env, (state) => {
    settle(env, state);
    for (const ref of positional) {
      const c = (!kind || kind === 'container') && findContainer(state, ref);
      const image = !c && (!kind || kind === 'image') && localImage(state, ref);
      const network = !c && !image && (!kind || kind === 'network') && findNetwork(state, ref);
      const view = c
        ? containerView(c)
        : image
          ? imageView(state, image)
          : network
            ? networkView(state, network)
            : undefined;
      if (view) views.push(view);
      else missing.push(ref);
    }
  });
  show(answer, flags['--format'], views);
  if (missing.length > 0) {
    answer.code = 1;
    for (const ref of missing) answer.err(`Error: No such ${kind ? NO_SUCH[kind] : 'object'}: ${ref}`);
  }
}

function networkLs(env, args, answer) {
  const { flags } = parseFlags(
    args,
    { ...FORMAT, '--quiet': 'bool', '--filter': 'list', '--no-trunc': 'bool' },
    { '-q': '--quiet', '-f': '--filter' },
    'network ls',
  );
  const rows = withState(env, (state) =>
    allNetworks(state)
      .filter((n) =>
        (flags['--filter'] ?? []).every((f) => (f.startsWith('name=') ? n.name.includes(f.slice(5)) : true)),
      )
      .map((n) => ({
        ID: flags['--no-trunc'] ? n.id : n.id.slice(0, 12),
        Name: n.name,
        Driver: n.driver,
        Scope: 'local',
        CreatedAt: n.created,
        Labels: '',
      })),
  );
  if (flags['--quiet']) answer.lines(rows.map((r) => r.ID));
  else if (flags['--format']) answer.lines(rows.map((r) => render(flags['--format'], r)));
  else
    answer.lines(
      rows.map((r) => `${r.ID}   ${r.Name}   ${r.Driver}   ${r.Scope}`),
      'NETWORK ID     NAME      DRIVER    SCOPE',
    );
}

export function network(env, args, answer) {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create': {
      const { positional, flags } = parseFlags(
        rest,
        {
          '--driver': 'value',
          '--label': 'list',
          '--subnet': 'list',
          '--attachable': 'bool',
          '--internal': 'bool',
        },
        { '-d': '--driver' },
        'network create',
      );
      if (positional.length !== 1)
        throw new CliError(
          `docker: 'docker network create' requires 1 argument.\nSee 'docker network create --help'.`,
        );
      answer.out(withState(env, (state) => createNetwork(state, positional[0], flags['--driver']).id));
      return;
    }
    case 'inspect': {
      const { flags, positional } = parseFlags(
        rest,
        { ...FORMAT, '--verbose': 'bool' },
        { ...FORMAT_ALIAS, '-v': '--verbose' },
        'network inspect',
      );
      const found = withState(env, (state) =>
        positional.map((ref) => [
          ref,
          findNetwork(state, ref) && networkView(state, findNetwork(state, ref)),
        ]),
      );
      show(
        answer,
        flags['--format'],
        found.filter(([, v]) => v).map(([, v]) => v),
      );
      for (const [ref] of found.filter(([, v]) => !v)) {
        answer.err(`Error response from daemon: network ${ref} not found`);
        answer.code = 1;
      }
      return;
    }
    case 'ls':
    case 'list':
      return networkLs(env, rest, answer);
    case 'rm':
    case 'remove': {
      const { positional } = parseFlags(rest, { '--force': 'bool' }, { '-f': '--force' }, 'network rm');
      withState(env, (state) => {
        for (const ref of positional) {
          try {
            removeNetwork(state, ref);
            answer.out(ref);
          } catch (error) {
            if (!(error instanceof DaemonError)) throw error;
            answer.err(`Error response from daemon: ${error.message}`);
            answer.code = 1;
          }
        }
      });
      return;
    }
    case 'prune': {
      parseFlags(rest, { '--force': 'bool', '--filter': 'list' }, { '-f': '--force' }, 'network prune');
      // Prune removes every network without a running container: stopped ones keep only a stale id.
      const removed = withState(env, (state) =>
        Object.values(state.networks)
          .filter((n) => !attached(state, n).some((c) => c.status === 'running' || c.status === 'restarting'))
          .map((n) => {
            delete state.networks[n.name];
            return n.name;
          }),
      );
      if (removed.length > 0) answer.out(`Deleted Networks:\n${removed.join('\n')}\n`);
      return;
    }
    case 'connect':
    case 'disconnect': {
      const { positional } = parseFlags(
        rest,
        { '--force': 'bool', '--alias': 'list' },
        { '-f': '--force' },
        `network ${sub}`,
      );
      if (positional.length !== 2)
        throw new CliError(
          `docker: 'docker network ${sub}' requires exactly 2 arguments.\nSee 'docker network ${sub} --help'.`,
        );
      withState(env, (state) => {
        const net = findNetwork(state, positional[0]);
        if (!net) throw new DaemonError(`network ${positional[0]} not found`);
        const c = mustFind(state, positional[1]);
        if (sub === 'connect') connect(state, net, c);
        else disconnect(net, c);
      });
      return;
    }
    default:
      throw new CliError(
        `docker: 'network ${sub ?? ''}' is not a docker command.\nSee 'docker network --help'`,
      );
  }
}
