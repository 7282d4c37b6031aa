import type { HostKeyPolicy } from '../config.js';
import { GitspacesError } from '../errors.js';
import type { HostKeyPin, HostKeyStore } from '../setup/ports.js';
import type { PinRequest } from '../setup/preflight.js';
import { knownHostsName, readKnownHosts } from './known-hosts.js';
import { pinKeys, tofuPin } from './pins.js';

export interface PinPolicyOptions {
  policy: HostKeyPolicy;
  /** SSH_KNOWN_HOSTS (or `--known-hosts`), for `known-hosts`. */
  knownHostsFile?: string | undefined;
  /** Where `tofu` remembers keys (Redis for the bot, a file for the CLI). */
  store?: HostKeyStore | undefined;
  /** Where a remembered key lives, for the "how to forget it" hint (e.g. the store file's path). */
  storeDescription?: string | undefined;
}

export type { PinRequest };

/** Builds the host key pin for one run from SSH_HOST_KEY_POLICY. */
export function createPinFor(options: PinPolicyOptions): (request: PinRequest) => Promise<HostKeyPin> {
  return async ({ vm, host, port, published }) => {
    switch (options.policy) {
      case 'guest-attributes':
        return pinKeys(published ?? [], `the guest attributes hostkeys/ of ${vm}`, {
          host: vm,
          repin:
            'its guest agent publishes the new keys when it starts: run again once it is up. If the keys still ' +
            `differ, check that SSH_ADDRESS reaches ${vm} and not another machine holding ${host}.`,
        });
      case 'known-hosts': {
        const file = options.knownHostsFile;
        if (file === undefined) {
          throw new GitspacesError(
            'CONFIG_INVALID',
            'SSH_HOST_KEY_POLICY=known-hosts needs SSH_KNOWN_HOSTS (or --known-hosts) naming a known_hosts file.',
          );
        }
        const name = knownHostsName(host, port);
        const scan = `ssh-keyscan -t ed25519${port === 22 ? '' : ` -p ${port}`} ${host} >> ${file}`;
        return pinKeys(await readKnownHosts(file, host, port), `${file} (entries for ${name})`, {
          host: vm === host ? name : `${vm} (${name})`,
          // Guest attributes cannot help here: the file is the only source of keys for this run.
          howToPin:
            `Add the VM's key to the file: \`${scan}\`, then check the fingerprint (\`ssh-keygen -lf ${file}\`) ` +
            "against the one the VM's console shows (`ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub`) before running again.",
          repin:
            `remove the old entry (ssh-keygen -R '${name}' -f ${file}) and add the new key once you have ` +
            `checked it out of band (ssh-keyscan -p ${port} ${host} prints it; compare with the VM's console).`,
        });
      }
      case 'tofu': {
        if (options.store === undefined) {
          throw new GitspacesError(
            'CONFIG_INVALID',
            'SSH_HOST_KEY_POLICY=tofu needs a place to remember host keys.',
          );
        }
        const where = options.storeDescription ? ` (in ${options.storeDescription})` : '';
        return tofuPin(options.store, vm, {
          host: vm,
          repin: `forget the key remembered for ${vm}${where} and run again: the next connection pins the key it is offered.`,
        });
      }
    }
  };
}
