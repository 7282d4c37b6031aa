import { GitspacesError } from '../errors.js';
import type { HostKey, HostKeyPin, HostKeyStore } from '../setup/ports.js';
import { fingerprint, normalizeHostKey, sameHostKey } from './host-key.js';

export interface PinMessages {
  /** How the host is named in messages (the VM name, or host:port). */
  host?: string;
  /** What to do after a rebuild, e.g. how to update the source; completes "If the VM was rebuilt, …". */
  repin?: string;
  /** How to pin a key when the source has none; every way there is, when absent. */
  howToPin?: string;
}

const HOW_TO_PIN =
  'Pin one: enable guest attributes on the VM (metadata enable-guest-attributes=TRUE; its guest agent then ' +
  'publishes hostkeys/), or set SSH_HOST_KEY_POLICY=known-hosts with SSH_KNOWN_HOSTS naming a file that holds ' +
  "the VM's key, or set SSH_HOST_KEY_POLICY=tofu to trust the first key the VM offers.";

const defaultRepin = (source: string) =>
  `check the new key out of band (on the VM's serial console: ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) ` +
  `and update ${source}. If it was not rebuilt, treat this as someone intercepting the connection.`;

/** The refusal for a key that differs from every pinned one; both fingerprints are in the message. */
export function hostKeyChanged(
  offered: HostKey,
  expected: string[],
  source: string,
  messages: PinMessages = {},
): GitspacesError {
  const host = messages.host ?? 'the VM';
  const offeredFp = fingerprint(offered);
  return new GitspacesError(
    'HOST_KEY_MISMATCH',
    `Host key for ${host} changed: the VM offered ${offeredFp} but ${expected.join(' or ')} was expected ` +
      `(from ${source}). Nothing was run. If the VM was rebuilt, ${messages.repin ?? defaultRepin(source)}`,
    { detail: `offered: ${offered.type} ${offeredFp}\nexpected: ${expected.join(', ')}` },
  );
}

/** The refusal when nothing is pinned at all: say how to pin a key. */
export function hostKeyUnknown(offered: HostKey, source: string, messages: PinMessages = {}): GitspacesError {
  const offeredFp = fingerprint(offered);
  return new GitspacesError(
    'HOST_KEY_UNKNOWN',
    `No host key is pinned for ${messages.host ?? 'the VM'} (${source} has none), so the key it offered ` +
      `(${offeredFp}) cannot be trusted. Nothing was run. ${messages.howToPin ?? HOW_TO_PIN}`,
    { detail: `offered: ${offered.type} ${offeredFp}\nexpected: none` },
  );
}

/** Accepts any one of `keys` (a VM publishes one per key type); refuses every other key. */
export function pinKeys(keys: HostKey[], source: string, messages: PinMessages = {}): HostKeyPin {
  const pinned = keys.map(normalizeHostKey);
  const expected = pinned.map(fingerprint);
  return {
    async verify(offered) {
      if (pinned.length === 0) throw hostKeyUnknown(offered, source, messages);
      if (!pinned.some((key) => sameHostKey(key, offered))) {
        throw hostKeyChanged(offered, expected, source, messages);
      }
    },
    expected: () => [...expected],
    keyTypes: async () => [...new Set(pinned.map((key) => key.type))],
  };
}

/**
 * Trust on first use: the first key a VM offers is remembered in `store`; any later different key is
 * refused. Only for VMs whose keys cannot be published or listed ahead of time.
 */
export function tofuPin(store: HostKeyStore, vm: string, messages: PinMessages = {}): HostKeyPin {
  const source = `the key first seen for ${vm} (SSH_HOST_KEY_POLICY=tofu)`;
  let known: HostKey | undefined;
  return {
    async verify(offered) {
      const recorded = await store.remember(vm, normalizeHostKey(offered));
      known = recorded;
      if (!sameHostKey(recorded, offered)) {
        throw hostKeyChanged(offered, [fingerprint(recorded)], source, {
          host: messages.host ?? vm,
          repin:
            messages.repin ??
            `forget the key remembered for ${vm} and run again: the next connection pins the key it is offered.`,
        });
      }
    },
    expected: () => (known ? [fingerprint(known)] : []),
    async keyTypes() {
      known ??= await store.recall(vm);
      return known ? [known.type] : [];
    },
  };
}
