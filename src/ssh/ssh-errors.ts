import { GitspacesError } from '../errors.js';

export interface Target {
  host: string;
  port: number;
  user: string;
}

type Ssh2Error = Error & { level?: string; code?: string | number };

const where = (t: Target) => `${t.host}:${t.port}`;

const NETWORK_HINT: Record<string, (t: Target) => string> = {
  ECONNREFUSED: () => 'connection refused: is sshd running on the VM, and is SSH_PORT right?',
  EHOSTUNREACH: () =>
    'no route to the host: check the firewall rules and that SSH_ADDRESS (internal/external) is reachable from here',
  ENETUNREACH: () => 'network unreachable: check that SSH_ADDRESS (internal/external) is reachable from here',
  ETIMEDOUT: (t) =>
    `the connection timed out: check that a firewall rule allows tcp:${t.port} from this machine, or reach the VM through IAP (SSH_IAP=true) when this machine is outside its network`,
  ECONNRESET: () => 'the connection was reset during the handshake',
  EPIPE: () => 'the connection was closed during the handshake',
  ENOTFOUND: () => 'the host name does not resolve',
  EAI_AGAIN: () => 'the host name could not be resolved right now',
};

/** Turns an ssh2 error from before the session was ready into one that says what to do. */
export function connectError(error: Ssh2Error, target: Target, readyTimeoutMs: number): GitspacesError {
  if (error.level === 'client-authentication') {
    return new GitspacesError(
      'SSH_AUTH_FAILED',
      `SSH login as ${target.user} to ${where(target)} was refused. The key in SSH_KEY_SECRET must be in ` +
        `${target.user}'s authorized_keys on the VM (or granted through OS Login for that user); otherwise set ` +
        'SSH_USER to the user that holds it.',
      { cause: error },
    );
  }
  if (error.level === 'client-timeout') {
    return new GitspacesError(
      'SSH_CONNECT_FAILED',
      `No SSH handshake with ${where(target)} within ${Math.round(readyTimeoutMs / 1000)}s: check that the VM ` +
        'is up and that a firewall rule lets this machine reach its SSH port.',
      { retryable: true, cause: error },
    );
  }
  const code = typeof error.code === 'string' ? error.code : undefined;
  const hint = code === undefined ? undefined : NETWORK_HINT[code];
  if (hint !== undefined) {
    return new GitspacesError(
      'SSH_CONNECT_FAILED',
      `Cannot reach ${where(target)} over SSH: ${hint(target)}.`,
      {
        retryable: code !== 'ENOTFOUND',
        cause: error,
      },
    );
  }
  return new GitspacesError(
    'SSH_CONNECT_FAILED',
    `SSH connection to ${where(target)} failed: ${error.message}.`,
    {
      retryable: error.level === 'client-socket',
      cause: error,
    },
  );
}

/** The session ended underneath a command or file transfer. */
export function disconnected(target: Target, during: string, reason?: string): GitspacesError {
  return new GitspacesError(
    'SSH_DISCONNECTED',
    `The SSH connection to ${where(target)} was lost during ${during}${reason ? ` (${reason})` : ''}. ` +
      'Run it again: steps check what is already in place.',
    { retryable: true },
  );
}

/** A short, single-line form of a command for messages (the full text may be long). */
export function describeCommand(command: string): string {
  const line = command.replace(/\s+/g, ' ').trim();
  return line.length > 80 ? `${line.slice(0, 77)}…` : line;
}
