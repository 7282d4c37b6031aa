/**
 * SSH through IAP spoken by the bot itself (SSH_IAP=true): a real OpenSSH sshd reached only through a
 * stand-in for IAP's tunnel relay, the session's bytes in DATA frames both ways, and what IAP says when it
 * cannot open a tunnel.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectOptions } from '../../src/setup/ports.js';
import { sshConnector } from '../../src/ssh/connect.js';
import { iapRoute, MAX_DATA_FRAME } from '../../src/ssh/iap-tunnel.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { codedError } from '../support/coded-error.js';
import { type IapRelayStandIn, startIapRelay } from '../support/iap-relay-stand-in.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

const run = promisify(execFile);
const VM = { name: 'gitspaces-runner', zone: 'us-central1-a', project: 'gitspaces-prod' };

let vm: TestSshd;
let relay: IapRelayStandIn;

beforeAll(async () => {
  vm = await startSshd();
  relay = await startIapRelay({ 'gitspaces-prod/us-central1-a/gitspaces-runner': `127.0.0.1:${vm.port}` });
});

afterAll(async () => {
  await relay?.close();
  await vm?.stop();
});

/** The VM's address is one nothing listens on: only the tunnel reaches its sshd. */
const options = (extra: Partial<ConnectOptions> = {}): ConnectOptions => ({
  host: '127.0.0.9',
  port: 22,
  user: vm.user,
  privateKey: vm.privateKey,
  pin: pinKeys(vm.hostKeys, 'the VM'),
  vm: VM,
  ...extra,
});

const connectThroughIap = (extra: Partial<ConnectOptions> = {}, token = 'ya29.test-token') =>
  sshConnector(iapRoute({ url: relay.url, token: async () => token }))(options(extra));

describe('SSH through IAP', () => {
  it('logs in through the relay, asking it for the VM by project, zone, name and port', async () => {
    const before = relay.tunnels.length;
    const { remote } = await connectThroughIap();
    try {
      const result = await remote.exec('id -un');
      expect(result.stdout.trim()).toBe(vm.user);
    } finally {
      await remote.close();
    }
    const tunnel = relay.tunnels[before];
    expect(tunnel?.path).toBe('/v4/connect');
    expect(tunnel?.query).toEqual({
      project: 'gitspaces-prod',
      port: '22',
      newWebsocket: 'True',
      zone: 'us-central1-a',
      instance: 'gitspaces-runner',
      interface: 'nic0',
    });
    expect(tunnel?.origin).toBe('bot:iap-tunneler');
    expect(tunnel?.authorization).toBe('Bearer ya29.test-token');
  });

  it('carries large transfers both ways in frames of at most 16 KiB, acknowledging what it received', async () => {
    const before = relay.tunnels.length;
    const { remote } = await connectThroughIap();
    try {
      // 600 KB down: the client must acknowledge as it goes.
      const down = await remote.exec('head -c 600000 /dev/zero | tr "\\0" x');
      expect(down.stdout.length).toBe(600_000);
      // 300 KB up over SFTP: split into frames no larger than the relay takes.
      const file = `${vm.userDir}/iap-upload`;
      await remote.putFile(file, Buffer.alloc(300_000, 'y'), 0o600);
      expect((await remote.exec(`wc -c < ${file}`)).stdout.trim()).toBe('300000');
    } finally {
      await remote.close();
    }
    const tunnel = relay.tunnels[before];
    expect(tunnel?.largestClientFrame).toBeLessThanOrEqual(MAX_DATA_FRAME);
    expect(tunnel?.fromClient).toBeGreaterThan(300_000);
    const lastAck = tunnel?.clientAcks.at(-1) ?? 0;
    expect(lastAck).toBeGreaterThan((tunnel?.toClient ?? 0) - 3 * MAX_DATA_FRAME);
    expect(tunnel?.clientAcks).toEqual([...(tunnel?.clientAcks ?? [])].sort((a, b) => a - b));
  });

  it("says IAP found no such VM, with IAP's words", async () => {
    const error = await codedError(connectThroughIap({ vm: { ...VM, name: 'no-such-vm' } }));
    expect(error.code).toBe('SSH_CONNECT_FAILED');
    expect(error.message).toContain('IAP did not open a tunnel to no-such-vm');
    expect(error.message).toContain('4047: Failed to lookup instance');
    expect(error.retryable).toBe(false);
  });

  it('names the firewall rule IAP needs when nothing answers on the port', async () => {
    relay.routes.set('gitspaces-prod/us-central1-a/firewalled', '127.0.0.1:1');
    const error = await codedError(connectThroughIap({ vm: { ...VM, name: 'firewalled' } }));
    expect(error.message).toContain('4003: failed to connect to backend');
    expect(error.message).toContain('tcp:22 from 35.235.240.0/20');
  });

  it('leaves nothing waiting once IAP refused: a terminal run exits at once, not when the open deadline passes', async () => {
    // A child process that opens one refused tunnel and does nothing else: it ends when nothing is left pending.
    const code = `
      const { iapRoute } = await import(${JSON.stringify(join(import.meta.dirname, '../../src/ssh/iap-tunnel.ts'))});
      const proxy = iapRoute({ url: process.env.RELAY, token: async () => undefined })
        .start({ vm: 'no-such-vm', zone: 'z', project: 'p', host: 'h', port: 22, user: 'u' });
      proxy.sock.on('error', () => {});
      proxy.sock.on('close', async () => console.log((await proxy.failure())?.message));`;
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env: { ...process.env, RELAY: relay.url },
      timeout: 30_000,
    });
    expect(stdout).toContain('4047: Failed to lookup instance');
    // The open deadline is 20 s: a process that waited for it would take that long.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('says IAP refused the handshake when the identity may not tunnel', async () => {
    const error = await codedError(connectThroughIap({}, 'denied'));
    expect(error.code).toBe('SSH_CONNECT_FAILED');
    expect(error.message).toContain('Handshake status 403 (may be due to missing permissions)');
    expect(error.message).toContain('roles/iap.tunnelResourceAccessor');
  });

  it('needs the VM by name: a VM given by address is refused before anything is sent', async () => {
    const before = relay.tunnels.length;
    const error = await codedError(connectThroughIap({ vm: { name: '10.128.0.9' } }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('SSH_IAP reaches a VM by name');
    expect(relay.tunnels.length).toBe(before);
  });

  it('fails a command as a lost connection when the relay drops the tunnel', async () => {
    const { remote } = await connectThroughIap();
    try {
      const running = remote.exec('sleep 30');
      await new Promise((resolve) => setTimeout(resolve, 300));
      relay.dropAll();
      const error = await codedError(running);
      expect(error.code).toBe('SSH_DISCONNECTED');
    } finally {
      await remote.close();
    }
  });
});
