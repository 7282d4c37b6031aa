/** A known_hosts file with no line for the VM (`--known-hosts`, SSH_KNOWN_HOSTS): the refusal says how to fill it. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GitspacesError } from '../../src/errors.js';
import { createPinFor } from '../../src/ssh/pin-policy.js';
import { ed25519HostKey } from '../support/fake-google.js';

const dir = mkdtempSync(join(tmpdir(), 'gsb-known-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refusal(file: string, port: number) {
  const pinFor = createPinFor({ policy: 'known-hosts', knownHostsFile: file });
  const pin = await pinFor({ vm: '10.0.0.5', host: '10.0.0.5', port, published: undefined });
  const error = await pin.verify(ed25519HostKey()).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GitspacesError);
  return error as GitspacesError;
}

describe('an empty known_hosts file', () => {
  it('is refused with how to fill it and check it, not with guest attributes', async () => {
    const file = join(dir, 'empty');
    writeFileSync(file, '# filled by hand\n');
    const error = await refusal(file, 22);
    expect(error.code).toBe('HOST_KEY_UNKNOWN');
    expect(error.message).toContain(`ssh-keyscan -t ed25519 10.0.0.5 >> ${file}`);
    expect(error.message).toContain("the VM's console");
    expect(error.message).not.toContain('guest attributes');
    expect(error.message).not.toContain('enable-guest-attributes');
  });

  it('names the port when it is not 22', async () => {
    const file = join(dir, 'other-host');
    writeFileSync(file, `10.9.9.9 ${ed25519HostKey().type} ${ed25519HostKey().base64}\n`);
    const error = await refusal(file, 2222);
    expect(error.message).toContain(`ssh-keyscan -t ed25519 -p 2222 10.0.0.5 >> ${file}`);
  });
});
