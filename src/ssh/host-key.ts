import { GitspacesError } from '../errors.js';
import type { HostKey } from '../setup/ports.js';

export { fingerprint } from '../setup/fingerprint.js';

const KEY_TYPE = /^[A-Za-z0-9][A-Za-z0-9@._+-]{0,63}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/** The key type named by a public key blob: its first length-prefixed string (RFC 4253 §6.6). */
function blobType(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > blob.length) return undefined;
  const type = blob.subarray(4, 4 + length).toString('latin1');
  return KEY_TYPE.test(type) ? type : undefined;
}

/** Reads an SSH public key blob (as a server offers it or guest attributes publish it). */
export function parseHostKeyBlob(blob: Buffer): HostKey {
  const type = blobType(blob);
  if (type === undefined || blob.length <= 4 + type.length) {
    throw new GitspacesError(
      'HOST_KEY_INVALID',
      'The host key is not an SSH public key blob (no key type inside).',
    );
  }
  return { type, base64: blob.toString('base64') };
}

/** Same key, canonical base64 (so keys from different sources compare as strings). */
export function normalizeHostKey(key: HostKey): HostKey {
  return parseHostKeyBlob(Buffer.from(key.base64, 'base64'));
}

/** Whether two keys are the same blob. */
export function sameHostKey(a: HostKey, b: HostKey): boolean {
  return Buffer.from(a.base64, 'base64').equals(Buffer.from(b.base64, 'base64'));
}

/** Parses `ssh-ed25519 AAAA… comment` (a `.pub` file or the key part of a known_hosts line). */
export function parsePublicKeyLine(line: string): HostKey {
  const [type, data] = line.trim().split(/\s+/);
  const shown = line.trim().slice(0, 40);
  if (type === undefined || data === undefined || !KEY_TYPE.test(type) || !BASE64.test(data)) {
    throw new GitspacesError(
      'HOST_KEY_INVALID',
      `"${shown}" is not an SSH public key line: expected "<type> <base64> [comment]", as in a .pub file.`,
    );
  }
  const key = parseHostKeyBlob(Buffer.from(data, 'base64'));
  if (key.type !== type) {
    throw new GitspacesError(
      'HOST_KEY_INVALID',
      `"${shown}" says ${type} but its key data is ${key.type}: the line was edited or mixed up.`,
    );
  }
  return key;
}
