import { createHash } from 'node:crypto';
import type { HostKey } from './ports.js';

/** As OpenSSH prints it (`ssh-keygen -lf`): `SHA256:` and the unpadded base64 of the key blob's SHA-256. */
export function fingerprint(key: HostKey): string {
  const digest = createHash('sha256').update(Buffer.from(key.base64, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
