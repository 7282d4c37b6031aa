import type { ServerHostKeyAlgorithm } from 'ssh2';

// ssh2's default preference (lib/protocol/constants.js) on Node 20, where Ed25519 is available.
const DEFAULT_ORDER: ServerHostKeyAlgorithm[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
];

// An RSA key signs with SHA-2 (RFC 8332) on current servers; OpenSSH 8.8+ refuses plain ssh-rsa.
const FOR_KEY_TYPE: Record<string, ServerHostKeyAlgorithm[]> = {
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * The host key algorithms to offer, pinned key types first. The server signs with the first algorithm
 * on our list it supports, so without this a VM with an Ed25519 and an RSA key shows its Ed25519 key even
 * when only the RSA one is pinned (OpenSSH orders HostKeyAlgorithms from known_hosts the same way).
 */
export function hostKeyAlgorithms(pinnedTypes: string[]): ServerHostKeyAlgorithm[] | undefined {
  const preferred = pinnedTypes
    .flatMap((type) => FOR_KEY_TYPE[type] ?? [type as ServerHostKeyAlgorithm])
    .filter((algorithm) => DEFAULT_ORDER.includes(algorithm));
  if (preferred.length === 0) return undefined;
  return [...new Set([...preferred, ...DEFAULT_ORDER])];
}
