import { GitspacesError } from '../errors.js';
import type { HostKey, RemoteHost } from './ports.js';
import type { SetupTarget } from './preflight.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';

export type ConnectionDeps = Pick<EngineDeps, 'vms' | 'pinFor' | 'needsPublishedKeys' | 'connect'>;

/**
 * An SSH session to the VM outside a run (status, logs): found through the VM locator (or given as a host),
 * its host key pinned as a run pins it, logged in as the SSH user. The caller closes it.
 */
export async function connectToVm(
  target: SetupTarget,
  settings: SetupSettings,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: ConnectionDeps,
  /** Read once the VM is found, as a run reads it after preflight located the VM. */
  privateKey: () => Promise<Buffer>,
): Promise<RemoteHost> {
  let host: string;
  let port = ssh.port;
  let published: HostKey[] | undefined;
  if (target.kind === 'vm') {
    if (!deps.vms)
      throw new GitspacesError(
        'CONFIG_INVALID',
        'No VM locator is configured: give --host or set GCP_PROJECT.',
      );
    const vm = await deps.vms.locate(target.ref, { address: ssh.address, hostKeys: deps.needsPublishedKeys });
    host = vm.address;
    published = vm.hostKeys;
  } else {
    host = target.host;
    port = target.port;
  }
  const key = await privateKey();
  const pin = await deps.pinFor({ vm: settings.vm, host, port, published });
  const { remote } = await deps.connect({ host, port, user: settings.sshUser, privateKey: key, pin });
  return remote;
}
