import ssh2 from 'ssh2';
import { asGitspacesError, GitspacesError } from '../errors.js';
import type { ConnectedHost, ConnectOptions, Connector, HostKey } from '../setup/ports.js';
import { parseHostKeyBlob } from './host-key.js';
import { hostKeyAlgorithms } from './host-key-algorithms.js';
import { checkPrivateKey } from './private-key.js';
import type { Route, RunningProxy } from './proxy-command.js';
import { Ssh2RemoteHost } from './remote-host.js';
import { connectError } from './ssh-errors.js';

const DEFAULT_READY_TIMEOUT_MS = 20_000;
// Without keepalives a dead network never errors (ssh2 turns them off by default): 3 missed 5 s pings
// end the connection, and every pending command fails with SSH_DISCONNECTED.
const KEEPALIVE_INTERVAL_MS = 5_000;
const KEEPALIVE_COUNT_MAX = 3;

/**
 * A Connector that opens one SSH connection for a run: over TCP, or over a `route`. The host key is checked
 * by `options.pin` before authentication, so a refused key ends the connection before any command can run.
 */
export function sshConnector(route?: Route): Connector {
  return async (options) => {
    checkPrivateKey(options.privateKey);
    const serverHostKey = hostKeyAlgorithms((await options.pin.keyTypes?.()) ?? []);
    const { host, port, user, vm } = options;
    const values = { host, port, user, vm: vm?.name ?? host, zone: vm?.zone, project: vm?.project };
    const proxy = route?.start(values);
    return connectOver(options, serverHostKey, proxy && { ...proxy, via: route?.via ?? '' });
  };
}

/** Opens one SSH connection over TCP. */
export const connectSsh: Connector = sshConnector();

/** The VM (or the proxy) closed the connection before the session was up. */
function handshakeClosed(target: { host: string; port: number }): GitspacesError {
  return new GitspacesError(
    'SSH_CONNECT_FAILED',
    `${target.host}:${target.port} closed the connection during the SSH handshake: check sshd on the VM ` +
      '(MaxStartups, AllowUsers) and try again.',
    { retryable: true },
  );
}

function connectOver(
  options: ConnectOptions,
  serverHostKey: ReturnType<typeof hostKeyAlgorithms>,
  proxy: (RunningProxy & { via: string }) | undefined,
): Promise<ConnectedHost> {
  const target = { host: options.host, port: options.port, user: options.user };
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const client = new ssh2.Client();
  // The proxy ends with the connection, however it ends.
  client.on('close', () => proxy?.stop());

  return new Promise<ConnectedHost>((resolve, reject) => {
    let settled = false;
    let offered: HostKey | undefined;
    // The pin's own error: ssh2 reports any refusal as a generic "Host denied (verification failed)".
    let refusal: GitspacesError | undefined;
    const fail = (error: GitspacesError) => {
      if (settled) return;
      settled = true;
      reject(error);
      client.destroy();
    };

    // Must return undefined: ssh2 takes any other return value (a Promise too) as the verdict itself.
    const hostVerifier = (blob: Buffer, verify: (accept: boolean) => void): void => {
      try {
        offered = parseHostKeyBlob(blob);
      } catch (error) {
        refusal = asGitspacesError(error, 'HOST_KEY_INVALID');
        verify(false);
        return;
      }
      options.pin.verify(offered).then(
        () => verify(true),
        (error: unknown) => {
          refusal = asGitspacesError(error, 'HOST_KEY_MISMATCH');
          verify(false);
        },
      );
    };

    client.on('ready', () => {
      if (settled) return;
      if (offered === undefined) {
        fail(new GitspacesError('INTERNAL', 'The SSH session opened without a verified host key.'));
        return;
      }
      settled = true;
      const remote = new Ssh2RemoteHost(client, target);
      resolve({ remote, hostKey: offered, ...(proxy ? { via: proxy.via } : {}) });
    });
    /** A route that ended says why; else the refusal or the network's error. */
    const failWith = async (error: GitspacesError) => {
      if (settled) return;
      fail(refusal ?? (await proxy?.failure()) ?? error);
    };
    client.on('error', (error: Error) => void failWith(connectError(error, target, readyTimeoutMs)));
    client.on('close', () => failWith(handshakeClosed(target)));

    client.connect({
      ...(proxy === undefined ? { host: options.host, port: options.port } : { sock: proxy.sock }),
      username: options.user,
      privateKey: options.privateKey,
      hostVerifier,
      readyTimeout: readyTimeoutMs,
      keepaliveInterval: KEEPALIVE_INTERVAL_MS,
      keepaliveCountMax: KEEPALIVE_COUNT_MAX,
      ...(serverHostKey ? { algorithms: { serverHostKey } } : {}),
    });
  });
}
