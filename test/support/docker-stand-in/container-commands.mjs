/** `docker run|start|stop|restart|rm|rename|logs|exec`. */
import {
  createContainer,
  exitContainer,
  findContainer,
  mustFind,
  nameConflict,
  settle,
  startContainer,
} from './containers.mjs';
import { CliError, DaemonError } from './errors.mjs';
import { execIn } from './exec.mjs';
import { parseBytes, parseFlags } from './flags.mjs';
import { localImage, normalize, pull } from './images.mjs';
import { parseTime, withState } from './state.mjs';

const RUN_FLAGS = {
  '--detach': 'bool',
  '--name': 'value',
  '--network': 'value',
  '--hostname': 'value',
  '--volume': 'list',
  '--publish': 'list',
  '--platform': 'value',
  '--restart': 'value',
  '--label': 'list',
  '--env-file': 'list',
  '--env': 'list',
  '--cpus': 'value',
  '--memory': 'value',
  '--rm': 'bool',
  '--workdir': 'value',
  '--entrypoint': 'value',
  '--interactive': 'bool',
  '--tty': 'bool',
  '--init': 'bool',
  '--pull': 'value',
  '--user': 'value',
  '--log-driver': 'value',
  '--log-opt': 'list',
};
const RUN_ALIASES = {
  '-d': '--detach',
  '-v': '--volume',
  '-p': '--publish',
  '-l': '--label',
  '-e': '--env',
  '-m': '--memory',
  '-h': '--hostname',
  '-w': '--workdir',
  '-i': '--interactive',
  '-t': '--tty',
  '-u': '--user',
  '--net': '--network',
};

/** `docker run`: daemon errors print as `docker: <error>.` with exit 125, as the real CLI does. */
export function run(env, args, answer) {
  const { flags, positional } = parseFlags(args, RUN_FLAGS, RUN_ALIASES, 'run', false);
  const [ref, ...command] = positional;
  if (!ref)
    throw new CliError(`docker: 'docker run' requires at least 1 argument.\nSee 'docker run --help'.`, 125);
  if (flags['--memory']) flags.memory = parseBytes(flags['--memory']);
  flags.imageRef = ref;
  withState(env, (state) => {
    settle(env, state);
    if (flags['--name']) nameConflict(state, flags['--name']);
    let image = flags['--pull'] === 'always' ? undefined : localImage(state, ref);
    if (!image) {
      if (flags['--pull'] === 'never') throw new DaemonError(`No such image: ${normalize(ref)}`, 125);
      if (flags['--pull'] !== 'always') answer.err(`Unable to find image '${normalize(ref)}' locally`);
      const lines = pull(env, state, ref);
      answer.err(lines.slice(0, -1).join('\n'));
      image = localImage(state, ref);
    }
    const c = createContainer(env, state, image, flags, command);
    if (flags['--detach']) answer.out(c.id);
    startContainer(env, state, c);
    if (c.autoRemove && c.status === 'exited') delete state.containers[c.id];
  });
}

const forEachName = (names, answer, what, act) => {
  const failed = [];
  for (const name of names) {
    try {
      act(name);
      answer.out(name);
    } catch (error) {
      if (!(error instanceof DaemonError)) throw error;
      answer.err(`Error response from daemon: ${error.message}`);
      failed.push(name);
    }
  }
  if (failed.length > 0) {
    if (what) answer.err(`Error: failed to ${what} containers: ${failed.join(', ')}`);
    answer.code = 1;
  }
};

const required = (list, command, n = 1) => {
  if (list.length < n)
    throw new CliError(
      `docker: 'docker ${command}' requires at least ${n} argument${n > 1 ? 's' : ''}.\nSee 'docker ${command} --help'.`,
    );
};

/** A start by hand: Docker counts the restart policy's restarts afresh from it (RestartCount 0). */
function startByHand(env, state, c) {
  if (c.status !== 'running') c.restartCount = 0;
  startContainer(env, state, c);
}

export function start(env, args, answer) {
  const { positional } = parseFlags(
    args,
    { '--attach': 'bool', '--interactive': 'bool' },
    { '-a': '--attach', '-i': '--interactive' },
    'start',
  );
  required(positional, 'start');
  withState(env, (state) => {
    settle(env, state);
    forEachName(positional, answer, 'start', (name) => startByHand(env, state, mustFind(state, name)));
  });
}

const STOP_FLAGS = { '--time': 'value', '--signal': 'value' };
const STOP_ALIASES = { '-t': '--time', '-s': '--signal' };

function stopOne(state, c) {
  if (c.status === 'running' || c.status === 'restarting')
    exitContainer(state, c, c.status === 'running' ? 0 : c.exitCode);
}

export function stop(env, args, answer) {
  const { positional } = parseFlags(args, STOP_FLAGS, STOP_ALIASES, 'stop');
  required(positional, 'stop');
  withState(env, (state) =>
    forEachName(positional, answer, undefined, (name) => stopOne(state, mustFind(state, name))),
  );
}

export function restart(env, args, answer) {
  const { positional } = parseFlags(args, STOP_FLAGS, STOP_ALIASES, 'restart');
  required(positional, 'restart');
  withState(env, (state) =>
    forEachName(positional, answer, undefined, (name) => {
      const c = mustFind(state, name);
      stopOne(state, c);
      startByHand(env, state, c);
    }),
  );
}

export function rm(env, args, answer) {
  const { flags, positional } = parseFlags(
    args,
    { '--force': 'bool', '--volumes': 'bool', '--link': 'bool' },
    { '-f': '--force', '-v': '--volumes', '-l': '--link' },
    'rm',
  );
  required(positional, 'rm');
  withState(env, (state) => {
    for (const name of positional) {
      const c = findContainer(state, name);
      if (!c) {
        // `rm -f` of a missing container says so but does not fail (docker/cli since 20.10).
        answer.err(`Error response from daemon: No such container: ${name}`);
        if (!flags['--force']) answer.code = 1;
        continue;
      }
      if ((c.status === 'running' || c.status === 'restarting') && !flags['--force']) {
        answer.err(
          `Error response from daemon: cannot remove container "/${c.name}": container is ${c.status}: stop the container before removing or force remove`,
        );
        answer.code = 1;
        continue;
      }
      delete state.containers[c.id];
      answer.out(name);
    }
  });
}

export function rename(env, args) {
  const { positional } = parseFlags(args, {}, {}, 'rename');
  if (positional.length !== 2)
    throw new CliError(`docker: 'docker rename' requires exactly 2 arguments.\nSee 'docker rename --help'.`);
  const [from, to] = positional;
  withState(env, (state) => {
    const c = mustFind(state, from);
    if (c.name === to) throw new DaemonError(`Renaming a container with the same name as its current name`);
    nameConflict(state, to);
    c.name = to;
  });
}

export function logs(env, args, answer) {
  const { flags, positional } = parseFlags(
    args,
    {
      '--tail': 'value',
      '--since': 'value',
      '--until': 'value',
      '--timestamps': 'bool',
      '--follow': 'bool',
      '--details': 'bool',
    },
    { '-n': '--tail', '-t': '--timestamps', '-f': '--follow' },
    'logs',
  );
  if (positional.length !== 1)
    throw new CliError(`docker: 'docker logs' requires exactly 1 argument.\nSee 'docker logs --help'.`);
  const bound = (name) => {
    if (flags[name] === undefined) return undefined;
    const ns = parseTime(flags[name]);
    if (ns === undefined)
      throw new CliError(
        `invalid value for "${name.slice(2)}": failed to parse value as time or duration: "${flags[name]}"`,
      );
    return ns;
  };
  const since = bound('--since');
  const until = bound('--until');
  withState(env, (state) => {
    settle(env, state);
    const c = mustFind(state, positional[0]);
    let lines = c.logs.filter(
      (l) =>
        (since === undefined || parseTime(l.time) >= since) &&
        (until === undefined || parseTime(l.time) <= until),
    );
    const tail = flags['--tail'];
    if (tail !== undefined && tail !== 'all' && Number(tail) >= 0)
      lines = Number(tail) === 0 ? [] : lines.slice(-Number(tail));
    for (const l of lines) answer.raw(l.stream, `${flags['--timestamps'] ? `${l.time} ` : ''}${l.line}\n`);
  });
}

export function exec(env, args, answer) {
  const { positional } = parseFlags(
    args,
    {
      '--interactive': 'bool',
      '--tty': 'bool',
      '--user': 'value',
      '--env': 'list',
      '--workdir': 'value',
      '--detach': 'bool',
      '--privileged': 'bool',
    },
    {
      '-i': '--interactive',
      '-t': '--tty',
      '-u': '--user',
      '-e': '--env',
      '-w': '--workdir',
      '-d': '--detach',
    },
    'exec',
    false,
  );
  required(positional, 'exec', 2);
  const [name, ...argv] = positional;
  const result = withState(env, (state) => {
    settle(env, state);
    return execIn(env, state, mustFind(state, name), argv);
  });
  answer.raw('stdout', result.stdout ?? '');
  answer.raw('stderr', result.stderr ?? '');
  answer.code = result.code;
}
