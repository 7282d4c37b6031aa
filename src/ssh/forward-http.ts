import { request } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Client } from 'ssh2';
import { GitspacesError } from '../errors.js';
import type { HttpAnswer } from '../setup/ports.js';

/** RFC 4254 §5.1 reason codes of a refused channel. */
const ADMINISTRATIVELY_PROHIBITED = 1;
const BODY_LIMIT = 64 * 1024;

/** Opens a direct-tcpip channel to the VM's own loopback; undefined when nothing listens on the port. */
function openTunnel(client: Client, port: number): Promise<Duplex | undefined> {
  return new Promise((resolve, reject) => {
    client.forwardOut('127.0.0.1', 0, '127.0.0.1', port, (error, channel) => {
      if (!error) return resolve(channel);
      if ((error as Error & { reason?: number }).reason === ADMINISTRATIVELY_PROHIBITED) {
        return reject(
          new GitspacesError(
            'FORWARDING_REFUSED',
            `The VM's sshd refused to forward to 127.0.0.1:${port} (AllowTcpForwarding no).`,
            { cause: error },
          ),
        );
      }
      // CONNECT_FAILED and the like: the port is closed on the VM, which is an answer too.
      resolve(undefined);
    });
  });
}

/**
 * An HTTP GET over the SSH connection, as `curl http://127.0.0.1:<port><path>` on the VM would do it,
 * without needing curl there: a health check must not depend on what the VM happens to have installed.
 */
export async function httpGetThrough(
  client: Client,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<HttpAnswer | undefined> {
  const tunnel = await openTunnel(client, port);
  if (tunnel === undefined) return undefined;
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', createConnection: () => tunnel, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < BODY_LIMIT) body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', () => resolve(undefined));
      },
    );
    req.on('timeout', () => req.destroy());
    // A reset or an early close means no answer, like curl's exit 7/52.
    req.on('error', () => resolve(undefined));
    req.on('close', () => tunnel.destroy());
    req.end();
  });
}
