/**
 * SSH_PROXY_COMMAND: the SSH connection carried over a command's stdin and stdout, as OpenSSH's ProxyCommand
 * does. It reaches VMs that have no address this machine can route to: through Google's IAP
 * (`gcloud compute start-iap-tunnel {vm} {port} --listen-on-stdin --zone={zone} --project={project}`) or a
 * bastion (`ssh -W {host}:{port} bastion`). The SSH session inside is end to end: the host key is pinned and
 * the key logs in exactly as over a direct connection, and nothing secret is given to the command.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';
import { PROXY_PLACEHOLDER } from '../config.js';
import { GitspacesError } from '../errors.js';
import { quote } from '../setup/shell.js';

/** What a proxy command may name (config.ts's PROXY_PLACEHOLDER), each replaced shell-quoted. */
export interface ProxyValues {
  vm: string;
  zone?: string | undefined;
  project?: string | undefined;
  host: string;
  port: number;
  user: string;
}

function expand(command: string, values: ProxyValues): string {
  return command.replace(PROXY_PLACEHOLDER, (_, name: keyof ProxyValues | undefined, other: string) => {
    const value = name === undefined ? undefined : values[name];
    if (value === undefined)
      throw new GitspacesError(
        'CONFIG_INVALID',
        `SSH_PROXY_COMMAND names {${name ?? other}}, which is not known for ${values.vm}: give the VM by name (zone/vm or project/zone/vm), or leave {${name ?? other}} out.`,
      );
    return quote(String(value));
  });
}

export interface ProxyCommand {
  command: string;
  /** Its environment: the bot's, without the bot's secrets. */
  env: Record<string, string | undefined>;
}

export interface RunningProxy {
  /** The command's stdin and stdout, for ssh2's `sock`. */
  sock: Duplex;
  /** Why the command failed, once it has ended before the session opened (its exit and last stderr lines). */
  failure(): Promise<GitspacesError | undefined>;
  stop(): void;
}

/** How SSH reaches a VM when not over TCP: SSH_PROXY_COMMAND's stdin and stdout, or an IAP tunnel. */
export interface Route {
  start(values: ProxyValues): RunningProxy;
  /** For the connect step's summary: `through IAP`. */
  via: string;
}

/** SSH_PROXY_COMMAND as a route. */
export function proxyRoute(proxy: ProxyCommand): Route {
  return { start: (values) => startProxy(proxy, values), via: 'through SSH_PROXY_COMMAND' };
}

/** How long a failed handshake waits for the command's exit status (stdout closes just before it). */
const EXIT_WAIT_MS = 1000;

/** Starts the proxy command through `sh -c 'exec …'`, so that the process that ends with the session is its own. */
export function startProxy({ command, env }: ProxyCommand, values: ProxyValues): RunningProxy {
  const line = expand(command, values);
  const child = spawn('/bin/sh', ['-c', `exec ${line}`], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => {
    stderr = (stderr + text).slice(-4000);
  });
  const ended = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(error.message));
    // 'close', not 'exit': it comes once stderr is read to its end, so the last lines are all there.
    child.once('close', (code, signal) =>
      resolve(signal !== null ? `was killed by ${signal}` : `exited with code ${code}`),
    );
  });
  // A write after the command ended is told through the session's close, not as an unhandled error.
  child.stdin.on('error', () => undefined);
  const sock = Duplex.from({ readable: child.stdout, writable: child.stdin });
  return {
    sock,
    async failure() {
      const how = await Promise.race([
        ended,
        new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), EXIT_WAIT_MS).unref()),
      ]);
      if (how === undefined) return undefined;
      const said = stderr.trim().split('\n').slice(-3).join(' ').trim();
      return new GitspacesError(
        'SSH_CONNECT_FAILED',
        `SSH_PROXY_COMMAND ${how} before the SSH session to ${values.vm} opened${said ? `: ${said}` : ''}. ` +
          `Run it by hand to see why (${line}); for IAP, the VM needs a firewall rule allowing tcp:${values.port} from 35.235.240.0/20 and this identity roles/iap.tunnelResourceAccessor.`,
        { retryable: true },
      );
    },
    stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
  };
}
