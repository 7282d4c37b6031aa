import ssh2 from 'ssh2';
import { GitspacesError } from '../errors.js';
import type { HostKey } from '../setup/ports.js';
import { fingerprint, parseHostKeyBlob } from './host-key.js';

/** The public half of the SSH key from SSH_KEY_SECRET, as `.pub` files and `ssh-keys` metadata hold it. */
export function publicKeyOf(privateKey: Buffer): HostKey {
  const parsed = ssh2.utils.parseKey(privateKey);
  const key = Array.isArray(parsed) ? parsed[0] : parsed;
  if (key === undefined || key instanceof Error || !key.isPrivateKey()) {
    const why = key instanceof Error ? key.message : 'it is a public key, not a private one';
    throw new GitspacesError(
      'SSH_KEY_INVALID',
      `The SSH key from SSH_KEY_SECRET cannot be used (${why}). It must be an unencrypted OpenSSH or PEM ` +
        'private key (ssh-keygen -t ed25519 -N "" writes one).',
    );
  }
  return parseHostKeyBlob(key.getPublicSSH());
}

/**
 * Checks that the SSH key from SSH_KEY_SECRET is a private key ssh2 can use, and returns its public
 * fingerprint (safe to show: it identifies the key without revealing it).
 */
export function checkPrivateKey(privateKey: Buffer): string {
  return fingerprint(publicKeyOf(privateKey));
}
