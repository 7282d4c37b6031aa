/**
 * The Docker CLI stand-in: answers like the docker 27.x CLI (stdout, stderr, exit codes) for the commands
 * the bot runs, keeping state in FAKE_DOCKER_STATE instead of running containers. Knobs (environment):
 * FAKE_DOCKER_FAIL, FAKE_DOCKER_DELAY_MS, FAKE_DOCKER_NO_DAEMON, FAKE_DOCKER_UNHEALTHY, FAKE_DOCKER_REVOKED,
 * FAKE_DOCKER_QUOTA, FAKE_DOCKER_STARTING, FAKE_DOCKER_USERS, FAKE_DOCKER_ROOT_DIR, FAKE_DOCKER_MEM_TOTAL,
 * FAKE_DOCKER_AT_BOOT (service.mjs), or the JSON file named by FAKE_DOCKER_KNOBS, read at each call (it wins over
 * the environment).
 * A daemon down under FAKE_DOCKER_NO_DAEMON answers once `systemctl start docker` (service.mjs) started it.
 * See README.md beside this file.
 */
import { writeSync } from 'node:fs';
import * as containers from './container-commands.mjs';
import { CliError, DaemonError } from './errors.mjs';
import { events } from './events.mjs';
import { Answer } from './io.mjs';
import { knobs } from './knobs.mjs';
import * as other from './other-commands.mjs';
import { ps } from './ps.mjs';
import { serviceStarted } from './service.mjs';
import { recordCall } from './state.mjs';
import { TemplateError } from './template.mjs';

const COMMANDS = {
  info: other.info,
  version: other.version,
  pull: other.pull,
  inspect: (env, args, answer) => other.inspect(env, args, answer),
  network: other.network,
  rmi: other.rmi,
  run: containers.run,
  start: containers.start,
  stop: containers.stop,
  restart: containers.restart,
  rm: containers.rm,
  rename: containers.rename,
  logs: containers.logs,
  exec: containers.exec,
  ps,
  events,
};

/** `docker container ls` → `ps`, `docker image inspect` → the image inspector, and so on. */
function resolve(argv) {
  const [first, second, ...rest] = argv;
  if (first === 'container') {
    if (second === 'ls' || second === 'list') return ['ps', rest];
    if (second === 'inspect') return ['container inspect', rest];
    return [second, rest];
  }
  if (first === 'image') {
    if (second === 'inspect') return ['image inspect', rest];
    if (second === 'pull') return ['pull', rest];
    if (second === 'rm') return ['rmi', rest];
  }
  return [first, argv.slice(1)];
}

const HANDLERS = {
  ...COMMANDS,
  'container inspect': (env, args, answer) => other.inspect(env, args, answer, 'container'),
  'image inspect': other.imageInspect,
};

function failKnob(env, argv) {
  for (const entry of (env.FAKE_DOCKER_FAIL ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [key, code = '1'] = entry.split(':');
    const words = key.split(/\s+/);
    if (words.every((w, i) => argv[i] === w)) return { key, code: Number(code) };
  }
  return undefined;
}

/** Why the daemon socket cannot be reached, if it cannot: stopped, or a caller outside the docker group. */
function unreachable(env, command) {
  if (env.FAKE_DOCKER_NO_DAEMON === '1' && !serviceStarted(env))
    return 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?';
  const uid = process.getuid();
  const allowed = (env.FAKE_DOCKER_USERS ?? '').split(',').filter(Boolean).map(Number);
  if (uid === 0 || allowed.includes(uid)) return undefined;
  const path =
    { info: 'info', version: 'version', ps: 'containers/json', pull: 'images/create', network: 'networks' }[
      command
    ] ?? 'containers/json';
  return `permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v${'1.47'}/${path}": dial unix /var/run/docker.sock: connect: permission denied`;
}

function report(answer, command, error) {
  const runLike = command === 'run';
  if (error instanceof DaemonError) {
    answer.err(
      runLike
        ? `docker: Error response from daemon: ${error.message}.\nSee 'docker run --help'.`
        : `Error response from daemon: ${error.message}`,
    );
    answer.code = runLike ? 125 : error.code;
  } else if (error instanceof CliError) {
    answer.err(error.message);
    answer.code = error.code;
  } else if (error instanceof TemplateError) {
    answer.err(`template: :1: ${error.message}`);
    answer.code = 1;
  } else throw error;
}

function execute(env, argv, answer) {
  if (argv.length === 0 || argv[0] === '--help') return answer.out('Usage:  docker [OPTIONS] COMMAND');
  if (argv[0] === '--version' || argv[0] === '-v') return answer.out(other.CLIENT_VERSION);
  const [command, args] = resolve(argv);
  const handler = HANDLERS[command];
  const blocked = unreachable(env, command);
  if (blocked) {
    // docker 27.x `info --format` prints the error and an empty line, and exits 0 (fixed in 28.1).
    if (command === 'info' && args.some((a) => a === '--format' || a === '-f' || a.startsWith('--format='))) {
      answer.err(blocked);
      return answer.out('');
    }
    if (command === 'version') {
      answer.out(other.clientVersion());
      answer.err(blocked);
      answer.code = 1;
      return;
    }
    answer.err(command === 'run' ? `docker: ${blocked}.\nSee 'docker run --help'.` : blocked);
    answer.code = command === 'run' ? 125 : 1;
    return;
  }
  const injected = failKnob(env, argv);
  if (injected) {
    const message = `injected failure (FAKE_DOCKER_FAIL=${injected.key})`;
    answer.err(
      command === 'run'
        ? `docker: Error response from daemon: ${message}.\nSee 'docker run --help'.`
        : `Error response from daemon: ${message}`,
    );
    answer.code = injected.code;
    return;
  }
  try {
    handler(env, args, answer, { tty: Boolean(process.stdout.isTTY) });
  } catch (error) {
    report(answer, command, error);
  }
}

const isSupported = (argv) => {
  if (argv.length === 0 || ['--version', '-v', '--help'].includes(argv[0])) return true;
  return Boolean(HANDLERS[resolve(argv)[0]]);
};

function main() {
  const env = knobs();
  const argv = process.argv.slice(2);
  const supported = isSupported(argv);
  recordCall(env, {
    argv,
    time: new Date().toISOString(),
    cwd: process.cwd(),
    uid: process.getuid(),
    ...(supported ? {} : { unsupported: true }),
  });
  const answer = new Answer();
  if (!supported) {
    answer.err(`docker: '${argv[0]}' is not a docker command.\nSee 'docker --help'`);
    answer.code = 1;
  } else execute(env, argv, answer);
  const delay = Number(env.FAKE_DOCKER_DELAY_MS ?? 0);
  if (delay > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, delay);
  for (const [stream, text] of answer.chunks) writeSync(stream === 'stdout' ? 1 : 2, text);
  process.exitCode = answer.code;
}

main();
