import { createServer, type Server as NetServer, connect as netConnect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectSsh } from '../../src/ssh/connect.js';
import { parsePublicKeyLine } from '../../src/ssh/host-key.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { ed25519KeyPair } from '../support/ssh-keys.js';

const hostKey = ed25519KeyPair();
const userKey = ed25519KeyPair();

/**
 * An in-process SSH server behind a TCP relay: the relay can cut every connection, as a network drop or
 * a VM reboot would. `deploy` hangs (after printing a line) the first time and finishes the next time.
 */
let sshServer: InstanceType<typeof ssh2.Server>;
let relay: NetServer;
let port: number;
const relayed = new Set<Socket>();
let deployRuns = 0;

function listen(server: { listen(port: number, host: string, cb: () => void): unknown; address(): unknown }) {
  return new Promise<number>((ok) =>
    server.listen(0, '127.0.0.1', () => ok((server.address() as { port: number }).port)),
  );
}

beforeAll(async () => {
  sshServer = new ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    client.on('error', () => undefined);
    client.on('authentication', (ctx) =>
      ctx.method === 'publickey' ? ctx.accept() : ctx.reject(['publickey']),
    );
    client.on('session', (accept) => {
      accept().on('exec', (acceptExec, _reject, info) => {
        const stream = acceptExec();
        if (info.command !== 'deploy') {
          stream.exit(127);
          stream.end();
          return;
        }
        deployRuns += 1;
        stream.write('step 1 of 2\n');
        if (deployRuns > 1) {
          stream.write('step 2 of 2\n');
          stream.exit(0);
          stream.end();
        }
      });
    });
  });
  const sshPort = await listen(sshServer);
  relay = createServer((inbound) => {
    const outbound = netConnect(sshPort, '127.0.0.1');
    relayed.add(inbound).add(outbound);
    inbound.pipe(outbound).pipe(inbound);
    for (const socket of [inbound, outbound]) socket.on('error', () => undefined);
  });
  port = await listen(relay);
});

afterAll(async () => {
  for (const socket of relayed) socket.destroy();
  await new Promise((ok) => relay?.close(ok));
  await new Promise((ok) => sshServer?.close(ok));
});

const cutEveryConnection = () => {
  for (const socket of relayed) socket.destroy();
  relayed.clear();
};

const connect = () =>
  connectSsh({
    host: '127.0.0.1',
    port,
    user: 'deployer',
    privateKey: Buffer.from(userKey.private),
    pin: pinKeys([parsePublicKeyLine(hostKey.public)], 'the test server'),
  });

describe('a connection lost mid-command', () => {
  it('fails the command with a retryable SSH_DISCONNECTED, and the same command works on a new connection', async () => {
    const first = await connect();
    const seen: string[] = [];
    const pending = first.remote.exec('deploy', { onOutput: (text) => seen.push(text) });
    await expect.poll(() => seen.join('')).toContain('step 1 of 2');
    cutEveryConnection();

    const error = await pending.then(
      () => expect.fail('the command should have failed'),
      (e: unknown) => e as Error & { code: string; retryable: boolean },
    );
    expect(error.code).toBe('SSH_DISCONNECTED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`The SSH connection to 127.0.0.1:${port} was lost during "deploy"`);
    await expect(first.remote.exec('deploy')).rejects.toMatchObject({ code: 'SSH_DISCONNECTED' });
    await expect(first.remote.putFile('/tmp/x', 'x', 0o600)).rejects.toMatchObject({
      code: 'SSH_DISCONNECTED',
    });
    await first.remote.close();

    const second = await connect();
    const result = await second.remote.exec('deploy');
    expect(result).toMatchObject({ code: 0, stdout: 'step 1 of 2\nstep 2 of 2\n' });
    await second.remote.close();
  });
});

describe('a server that never answers', () => {
  it('gives up after the handshake timeout, naming the address, and lets the run retry', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    const silentPort = await listen(silent);
    try {
      const error = await connectSsh({
        host: '127.0.0.1',
        port: silentPort,
        user: 'deployer',
        privateKey: Buffer.from(userKey.private),
        pin: pinKeys([parsePublicKeyLine(hostKey.public)], 'the test server'),
        readyTimeoutMs: 1000,
      }).then(
        () => expect.fail('the connection should have failed'),
        (e: unknown) => e as Error & { code: string; retryable: boolean },
      );
      expect(error.code).toBe('SSH_CONNECT_FAILED');
      expect(error.retryable).toBe(true);
      expect(error.message).toContain(`No SSH handshake with 127.0.0.1:${silentPort} within 1s`);
    } finally {
      for (const socket of accepted) socket.destroy();
      await new Promise((ok) => silent.close(ok));
    }
  });
});
