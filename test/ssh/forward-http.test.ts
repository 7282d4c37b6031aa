import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectedHost } from '../../src/setup/ports.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let sshd: TestSshd;
let session: ConnectedHost;
let server: Server;
let port: number;

beforeAll(async () => {
  sshd = await startSshd();
  session = await connectSsh({
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKey: sshd.privateKey,
    pin: pinKeys(sshd.hostKeys, 'the test sshd'),
  });
  server = createServer((req, res) => {
    res.writeHead(req.url === '/healthz' ? 200 : 404).end(req.url === '/healthz' ? 'OK' : 'no');
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await session?.remote.close();
  await sshd?.stop();
  await new Promise((ok) => server?.close(ok));
});

describe('HTTP on the VM through the SSH connection', () => {
  it("gets an answer from the VM's loopback without any tool on the VM", async () => {
    expect(await session.remote.httpGet?.(port, '/healthz', 5_000)).toEqual({ status: 200, body: 'OK' });
    expect(await session.remote.httpGet?.(port, '/other', 5_000)).toMatchObject({ status: 404 });
  });

  it('answers nothing where nothing listens, and the connection stays usable', async () => {
    const closed = await new Promise<number>((ok) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const free = (probe.address() as AddressInfo).port;
        probe.close(() => ok(free));
      });
    });
    expect(await session.remote.httpGet?.(closed, '/healthz', 5_000)).toBeUndefined();
    expect((await session.remote.exec('echo still here')).stdout).toBe('still here\n');
  });
});
