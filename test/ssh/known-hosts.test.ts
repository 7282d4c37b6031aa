import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import type { HostKey } from '../../src/setup/ports.js';
import { fingerprint, parseHostKeyBlob, parsePublicKeyLine } from '../../src/ssh/host-key.js';
import { hostKeysFromKnownHosts, readKnownHosts } from '../../src/ssh/known-hosts.js';

const newKey = (): HostKey => parsePublicKeyLine(ssh2.utils.generateKeyPairSync('ed25519').public);
const [a, b, c] = [newKey(), newKey(), newKey()] as [HostKey, HostKey, HostKey];
const line = (hosts: string, key: HostKey, extra = '') =>
  `${extra}${hosts} ${key.type} ${key.base64} comment`;
const fps = (keys: HostKey[]) => keys.map(fingerprint);

function hashed(name: string): string {
  const salt = Buffer.from('0123456789abcdefghij');
  const hash = createHmac('sha1', salt).update(name).digest('base64');
  return `|1|${salt.toString('base64')}|${hash}`;
}

const scratch = mkdtempSync(join(tmpdir(), 'gsb-known-hosts-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('known_hosts lookup', () => {
  it('finds plain names on port 22 and [host]:port entries on other ports', () => {
    const text = [line('10.0.0.5', a), line('[10.0.0.5]:2222', b), line('10.0.0.6', c)].join('\n');
    expect(fps(hostKeysFromKnownHosts(text, '10.0.0.5', 22))).toEqual(fps([a]));
    expect(fps(hostKeysFromKnownHosts(text, '10.0.0.5', 2222))).toEqual(fps([b]));
    expect(hostKeysFromKnownHosts(text, '10.0.0.7', 22)).toEqual([]);
  });

  it('matches comma lists, wildcards and negations, ignoring case', () => {
    const text = [line('vm-1,10.0.0.5', a), line('*.internal,!db.internal', b), line('10.0.0.?', c)].join(
      '\n',
    );
    expect(fps(hostKeysFromKnownHosts(text, 'VM-1', 22))).toEqual(fps([a]));
    expect(fps(hostKeysFromKnownHosts(text, 'web.internal', 22))).toEqual(fps([b]));
    expect(hostKeysFromKnownHosts(text, 'db.internal', 22)).toEqual([]);
    expect(fps(hostKeysFromKnownHosts(text, '10.0.0.5', 22))).toEqual(fps([a, c]));
  });

  it('matches hashed entries for the exact name and port only', () => {
    const text = [line(hashed('10.0.0.5'), a), line(hashed('[10.0.0.5]:2222'), b)].join('\n');
    expect(fps(hostKeysFromKnownHosts(text, '10.0.0.5', 22))).toEqual(fps([a]));
    expect(fps(hostKeysFromKnownHosts(text, '10.0.0.5', 2222))).toEqual(fps([b]));
    expect(hostKeysFromKnownHosts(text, '10.0.0.50', 22)).toEqual([]);
  });

  it('skips comments, blank and broken lines, CA keys, and drops revoked keys', () => {
    const text = [
      '# a comment',
      '',
      'vm-1 ssh-ed25519 not-base64!',
      `vm-1 ssh-rsa ${a.base64}`,
      line('vm-1', a),
      line('vm-1', b),
      line('vm-1', c, '@cert-authority '),
      line('*', b, '@revoked '),
    ].join('\n');
    expect(fps(hostKeysFromKnownHosts(text, 'vm-1', 22))).toEqual(fps([a]));
  });

  it('reads a file, and says which file is missing and what it must contain', async () => {
    const file = join(scratch, 'known_hosts');
    writeFileSync(file, `${line('[127.0.0.1]:2200', a)}\n`);
    expect(fps(await readKnownHosts(file, '127.0.0.1', 2200))).toEqual(fps([a]));
    const missing = join(scratch, 'nope');
    await expect(readKnownHosts(missing, '127.0.0.1', 2200)).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(`${missing}: the file does not exist`),
    });
    await expect(readKnownHosts(missing, '127.0.0.1', 2200)).rejects.toThrow(/\[127\.0\.0\.1\]:2200/);
  });
});

describe('public key lines and blobs', () => {
  it('reads the key type from the blob, and refuses a line whose type and blob disagree', () => {
    expect(parseHostKeyBlob(Buffer.from(a.base64, 'base64'))).toEqual(a);
    expect(() => parsePublicKeyLine(`ssh-rsa ${a.base64}`)).toThrow(
      /says ssh-rsa but its key data is ssh-ed25519/,
    );
    expect(() => parsePublicKeyLine('hello')).toThrow(/not an SSH public key line/);
    expect(() => parseHostKeyBlob(Buffer.from('garbage'))).toThrow(/not an SSH public key blob/);
  });
});
