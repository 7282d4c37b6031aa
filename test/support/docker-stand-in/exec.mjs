/** What runs inside a container for `docker exec`: curl in the delegate, no curl in the runner's image. */
import { answering, findContainer } from './containers.mjs';
import { DaemonError } from './errors.mjs';
import { imageKind } from './images.mjs';

/** `docker exec <c> curl …` inside a container: the delegate has curl, the runner's image has none. */
export function execIn(env, state, c, argv) {
  if (c.status !== 'running') throw new DaemonError(`container ${c.id} is not running`);
  const [program, ...args] = argv;
  const kind = imageKind(c.image);
  if (program === 'true') return { code: 0 };
  if (program === 'false') return { code: 1 };
  if (program !== 'curl') return { code: 0 };
  if (kind === 'runner')
    return {
      code: 126,
      stdout:
        'OCI runtime exec failed: exec failed: unable to start container process: exec: "curl": executable file not found in $PATH: unknown\n',
    };
  const url = args.find((a) => !a.startsWith('-')) ?? '';
  const silent = args.some((a) => /^-[a-zA-Z]*s/.test(a)) && !args.some((a) => /^-[a-zA-Z]*S/.test(a));
  const fail = (code, message) => ({ code, stderr: silent ? '' : `curl: (${code}) ${message}\n` });
  const { host, port, path } = splitUrl(url);
  if (host === 'localhost' || host === '127.0.0.1') {
    if (kind === 'delegate' && port === '3460' && answering(env, c))
      return path === '/api/health'
        ? { code: 0, stdout: '{"metaData":{},"resource":"healthy","responseMessages":[]}' }
        : fail(22, 'The requested URL returned error: 404');
    return fail(7, `Failed to connect to ${host} port ${port} after 0 ms: Couldn't connect to server`);
  }
  // Containers reach each other by name on a network they share.
  const peer = findContainer(state, host);
  const shared =
    peer &&
    Object.keys(peer.networks).some((n) => n !== 'bridge' && c.networks[n]?.id === peer.networks[n]?.id);
  if (!shared) return fail(6, `Could not resolve host: ${host}`);
  const up = answering(env, peer);
  if (!up || imageKind(peer.image) !== 'runner' || port !== '3000')
    return fail(7, `Failed to connect to ${host} port ${port} after 0 ms: Couldn't connect to server`);
  return path === '/healthz' ? { code: 0, stdout: 'OK' } : fail(22, 'The requested URL returned error: 404');
}

function splitUrl(url) {
  const found = /^(?:https?:\/\/)?([^/:]+)(?::(\d+))?(\/.*)?$/.exec(url);
  return found
    ? { host: found[1], port: found[2] ?? '80', path: found[3] ?? '/' }
    : { host: '', port: '', path: '' };
}
