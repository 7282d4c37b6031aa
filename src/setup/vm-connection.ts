import { GitspacesError } from '../errors.js';
import { openAsFound } from './let-key-in.js';
import type { HostKey, LocatedVm, RemoteHost } from './ports.js';
import type { SetupTarget } from './preflight.js';
import type { EngineDeps } from './run-input.js';
import type { SetupSettings } from './settings.js';

export type ConnectionDeps = Pick<EngineDeps, 'vms' | 'pinFor' | 'needsPublishedKeys' | 'connect' | 'keys'>;

/** Where to connect, and the keys the VM publishes (read now unless `known` are given). */
async function locate(
  target: SetupTarget,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: ConnectionDeps,
  known: HostKey[] | undefined,
): Promise<{ host: string; port: number; published: HostKey[] | undefined; vm?: LocatedVm }> {
  if (target.kind !== 'vm') return { host: target.host, port: target.port, published: undefined };
  if (!deps.vms)
    throw new GitspacesError(
      'CONFIG_INVALID',
      'No VM locator is configured: give --host or set GCP_PROJECT.',
    );
  const readKeys = deps.needsPublishedKeys && known === undefined;
  const vm = await deps.vms.locate(target.ref, { address: ssh.address, hostKeys: readKeys });
  return { host: vm.address, port: ssh.port, published: readKeys ? vm.hostKeys : known, vm };
}

/**
 * An SSH session to the VM outside a run (status, logs, the watch): found through the VM locator (or given
 * as a host), its host key pinned as a run pins it, logged in as the SSH user (or the user OS Login gave
 * the bot, when the VM refuses SSH_USER and a setup let the key in there). The caller closes it. With
 * `known.keys` (keys the VM published at an earlier look, which the watch keeps) its guest attributes are not
 * read again unless the VM offers another key; `known.user` (who logged in then) is tried first. Returns the
 * keys it was pinned to and who logged in.
 */
export async function connectToVm(
  target: SetupTarget,
  settings: SetupSettings,
  ssh: { port: number; address: 'internal' | 'external' },
  deps: ConnectionDeps,
  /** Read once the VM is found, as a run reads it after preflight located the VM. */
  readKey: () => Promise<Buffer>,
  known: { keys?: HostKey[] | undefined; user?: string | undefined } = {},
): Promise<{ remote: RemoteHost; published: HostKey[] | undefined; user: string }> {
  let key: Buffer | undefined;
  const open = async (keys: HostKey[] | undefined) => {
    const { host, port, published, vm } = await locate(target, ssh, deps, keys);
    key ??= await readKey();
    const pin = await deps.pinFor({ vm: settings.vm, host, port, published });
    const named =
      vm === undefined ? { name: settings.vm } : { name: vm.name, zone: vm.zone, project: vm.project };
    const privateKey = key;
    let remote: RemoteHost | undefined;
    // As SSH_USER, or as the user OS Login gave the bot when a setup let its key in there.
    const user = await openAsFound(
      async (as) => {
        ({ remote } = await deps.connect({ host, port, user: as, privateKey, pin, vm: named }));
      },
      { keys: deps.keys, vm: named, privateKey, user: settings.sshUser },
      known.user,
    );
    return { remote: remote as RemoteHost, published, user };
  };
  try {
    return await open(known.keys);
  } catch (error) {
    // The VM offers a key other than the ones kept: its guest attributes say whether it changed them.
    const stale = known.keys !== undefined && (error as { code?: string }).code === 'HOST_KEY_MISMATCH';
    if (!stale) throw error;
    return open(undefined);
  }
}
