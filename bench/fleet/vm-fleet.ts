/**
 * Many emulated VMs at once: one ssh2 Server each, every one on its own loopback address (127.0.1.1,
 * 127.0.1.2, …) and the same port, so that the product's single SSH_PORT setting reaches all of them and a
 * VM locator only has to map names to addresses. One user key logs in everywhere; each VM has its own host key.
 */
import ssh2, { type ParsedKey } from 'ssh2';
import type { HostKey } from '../../src/setup/ports.js';
import { ed25519KeyPair } from '../../test/support/ssh-keys.js';
import { startVmServer, type VmServer } from './vm-server.js';

export interface FleetVm {
  name: string;
  address: string;
  hostKeys: HostKey[];
}

export interface VmFleet {
  port: number;
  servers: VmServer[];
  /** The user's private key (OpenSSH format), for SSH_KEY_SECRET. */
  userPrivateKey: string;
  vms: FleetVm[];
  /** Every VM bare again (no files, networks, containers), answering exec requests after `delayMs`. */
  reset(delayMs: number): void;
  close(): Promise<void>;
}

export function fleetAddress(index: number): string {
  return `127.0.${1 + Math.floor(index / 250)}.${1 + (index % 250)}`;
}

export function fleetVmName(index: number): string {
  return `fleet-vm-${String(index).padStart(3, '0')}`;
}

export async function startVmFleet(count: number, delayMs: number): Promise<VmFleet> {
  const user = ed25519KeyPair();
  const userKey = ssh2.utils.parseKey(user.private) as ParsedKey;
  for (let attempt = 1; ; attempt++) {
    const servers: VmServer[] = [];
    try {
      const first = await startVmServer({ host: fleetAddress(0), port: 0, userKey, delayMs });
      servers.push(first);
      for (let i = 1; i < count; i++) {
        servers.push(await startVmServer({ host: fleetAddress(i), port: first.port, userKey, delayMs }));
      }
      return {
        port: first.port,
        servers,
        userPrivateKey: user.private,
        vms: servers.map((s, i) => ({ name: fleetVmName(i), address: s.host, hostKeys: [s.hostKey] })),
        reset: (ms) => {
          for (const server of servers) {
            server.vm.reset();
            server.setDelay(ms);
          }
        },
        close: async () => {
          await Promise.all(servers.map((s) => s.close()));
        },
      };
    } catch (error) {
      // The port may be taken on one of the other addresses: start over on another one.
      await Promise.all(servers.map((s) => s.close()));
      if (attempt >= 5) throw error;
    }
  }
}
