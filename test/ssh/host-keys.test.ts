import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostKeyPin } from '../../src/setup/ports.js';
import { connectSsh } from '../../src/ssh/connect.js';
import { createFileHostKeyStore } from '../../src/ssh/file-host-key-store.js';
import { fingerprint } from '../../src/ssh/host-key.js';
import { createPinFor } from '../../src/ssh/pin-policy.js';
import { pinKeys } from '../../src/ssh/pins.js';
import { startSshd, type TestSshd } from '../support/sshd.js';

let sshd: TestSshd;
let other: TestSshd;
let scratch: string;

beforeAll(async () => {
  [sshd, other] = await Promise.all([startSshd(), startSshd()]);
  scratch = mkdtempSync(join(tmpdir(), 'gsb-hostkeys-'));
});

afterAll(async () => {
  await Promise.all([sshd?.stop(), other?.stop()]);
  rmSync(scratch, { recursive: true, force: true });
});

async function connectWith(pin: HostKeyPin, server: TestSshd = sshd, privateKey = server.privateKey) {
  const session = await connectSsh({
    host: server.host,
    port: server.port,
    user: server.user,
    privateKey,
    pin,
  });
  const result = await session.remote.exec('docker --version');
  await session.remote.close();
  return { hostKey: session.hostKey, result };
}

/** What the "VM" saw: docker calls made and logins accepted. */
const seenBy = (server: TestSshd) => ({
  dockerCalls: server.calls().length,
  logins: server.log().split('Accepted publickey').length - 1,
});

const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('expected the connection to be refused'),
    (error: unknown) => error as Error & { code: string; retryable: boolean; detail?: string },
  );

describe('host key fingerprints', () => {
  it('match what ssh-keygen -lf prints for each host key', () => {
    for (const [i, file] of sshd.hostKeyFiles.entries()) {
      const printed = execFileSync('ssh-keygen', ['-lf', `${file}.pub`], { encoding: 'utf8' }).split(' ')[1];
      expect(fingerprint(sshd.hostKeys[i]!)).toBe(printed);
    }
  });
});

describe('pinned host keys', () => {
  it('connects when the offered key is pinned and reports which key it accepted', async () => {
    const { hostKey, result } = await connectWith(pinKeys(sshd.hostKeys, 'the test sshd'));
    expect(result.code).toBe(0);
    expect(sshd.hostKeys.map(fingerprint)).toContain(fingerprint(hostKey));
  });

  it('asks for the pinned key type, so a VM pinned by its RSA key alone is accepted', async () => {
    const rsa = sshd.hostKeys.filter((key) => key.type === 'ssh-rsa');
    const { hostKey } = await connectWith(pinKeys(rsa, 'the RSA key'));
    expect(hostKey.type).toBe('ssh-rsa');
  });

  it('refuses a changed host key before running any command, showing both fingerprints', async () => {
    const before = seenBy(sshd);
    const error = await failure(
      connectWith(pinKeys(other.hostKeys, 'guest attributes of vm-1', { host: 'vm-1' })),
    );
    expect(error.code).toBe('HOST_KEY_MISMATCH');
    expect(error.retryable).toBe(false);
    const offered = sshd.hostKeys.find((key) => error.message.includes(fingerprint(key)));
    expect(offered).toBeDefined();
    expect(error.message).toContain(`Host key for vm-1 changed: the VM offered ${fingerprint(offered!)}`);
    expect(error.message).toContain(fingerprint(other.hostKeys[0]!));
    expect(error.message).toContain('(from guest attributes of vm-1). Nothing was run.');
    expect(error.message).not.toMatch(/Host denied/);
    expect(seenBy(sshd)).toEqual(before);
  });

  it('refuses every key when none is pinned and says how to pin one', async () => {
    const error = await failure(connectWith(pinKeys([], 'the guest attributes hostkeys/ of vm-1')));
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toContain('enable-guest-attributes=TRUE');
    expect(error.message).toContain('SSH_HOST_KEY_POLICY=known-hosts with SSH_KNOWN_HOSTS');
    expect(error.message).toContain('SSH_HOST_KEY_POLICY=tofu');
    expect(error.message).toMatch(/offered \(SHA256:[A-Za-z0-9+/]{43}\)/);
  });
});

describe('SSH_HOST_KEY_POLICY=known-hosts', () => {
  const pinFrom = (file: string, server = sshd) =>
    createPinFor({ policy: 'known-hosts', knownHostsFile: file })({
      vm: 'vm-1',
      host: server.host,
      port: server.port,
      published: undefined,
    });

  it('pins the keys listed for [host]:port', async () => {
    const { result } = await connectWith(await pinFrom(sshd.knownHostsFile));
    expect(result.code).toBe(0);
  });

  it('pins keys from hashed entries (HashKnownHosts)', async () => {
    const file = join(scratch, 'hashed_known_hosts');
    copyFileSync(sshd.knownHostsFile, file);
    execFileSync('ssh-keygen', ['-H', '-f', file], { stdio: 'ignore' });
    expect(readFileSync(file, 'utf8')).toMatch(/^\|1\|/);
    expect(readFileSync(file, 'utf8')).not.toContain('127.0.0.1');
    const { result } = await connectWith(await pinFrom(file));
    expect(result.code).toBe(0);
  });

  it('refuses a server whose key the file lists for another host, naming the file and how to update it', async () => {
    const file = join(scratch, 'other_known_hosts');
    const lines = other.hostKeys.map((k) => `[127.0.0.1]:${sshd.port} ${k.type} ${k.base64}`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    const before = seenBy(sshd);
    const error = await failure(connectWith(await pinFrom(file)));
    expect(error.code).toBe('HOST_KEY_MISMATCH');
    expect(error.message).toContain(file);
    expect(error.message).toContain(`ssh-keygen -R '[127.0.0.1]:${sshd.port}' -f ${file}`);
    expect(seenBy(sshd)).toEqual(before);
  });
});

describe('SSH_HOST_KEY_POLICY=tofu', () => {
  it('remembers the first key of a VM and refuses a different key later', async () => {
    const storeFile = join(scratch, 'tofu', 'host-keys.json');
    const pinFor = createPinFor({
      policy: 'tofu',
      store: createFileHostKeyStore(storeFile),
      storeDescription: storeFile,
    });
    const request = (server: TestSshd) => ({
      vm: 'vm-1',
      host: server.host,
      port: server.port,
      published: undefined,
    });

    const first = await connectWith(await pinFor(request(sshd)));
    expect(statSync(storeFile).mode & 0o777).toBe(0o600);
    const again = await connectWith(await pinFor(request(sshd)));
    expect(fingerprint(again.hostKey)).toBe(fingerprint(first.hostKey));

    // vm-1 now answers with other keys (rebuilt, or someone in between).
    const error = await failure(connectWith(await pinFor(request(other)), other));
    expect(error.code).toBe('HOST_KEY_MISMATCH');
    expect(error.message).toContain(`but ${fingerprint(first.hostKey)} was expected`);
    expect(error.message).toMatch(/the VM offered SHA256:/);
    expect(error.message).toContain(`forget the key remembered for vm-1 (in ${storeFile})`);
    expect(seenBy(other)).toEqual({ dockerCalls: 0, logins: 0 });
  });
});

describe('connection failures', () => {
  it('says which user was refused and where the key must be authorized', async () => {
    const stranger = join(scratch, 'stranger');
    execFileSync('ssh-keygen', ['-q', '-N', '', '-t', 'ed25519', '-f', stranger]);
    const error = await failure(connectWith(pinKeys(sshd.hostKeys, 'test'), sshd, readFileSync(stranger)));
    expect(error.code).toBe('SSH_AUTH_FAILED');
    expect(error.message).toContain(`SSH login as ${sshd.user} to 127.0.0.1:${sshd.port} was refused`);
    expect(error.message).toContain('SSH_KEY_SECRET');
    expect(error.message).toContain('authorized_keys');
  });

  it('names the address and lets the run retry when nothing listens there', async () => {
    const closed = await startSshd();
    const port = closed.port;
    await closed.stop();
    const pin = pinKeys(closed.hostKeys, 'test');
    const error = await failure(
      connectSsh({ host: '127.0.0.1', port, user: sshd.user, privateKey: sshd.privateKey, pin }),
    );
    expect(error.code).toBe('SSH_CONNECT_FAILED');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain(`127.0.0.1:${port}`);
    expect(error.message).toContain('connection refused');
  });

  it('refuses an SSH key that is not a private key, without showing it', async () => {
    const garbage = Buffer.from(
      '-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----\n',
    );
    const error = await failure(connectWith(pinKeys(sshd.hostKeys, 'test'), sshd, garbage));
    expect(error.code).toBe('SSH_KEY_INVALID');
    expect(error.message).toContain('SSH_KEY_SECRET');
    expect(error.message).not.toContain('bm90IGEga2V5');
  });
});
