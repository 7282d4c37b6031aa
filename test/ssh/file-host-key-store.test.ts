import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, describe, expect, it } from 'vitest';
import { createFileHostKeyStore } from '../../src/ssh/file-host-key-store.js';
import { parsePublicKeyLine } from '../../src/ssh/host-key.js';

const newKey = () => parsePublicKeyLine(ssh2.utils.generateKeyPairSync('ed25519').public);
const scratch = mkdtempSync(join(tmpdir(), 'gsb-tofu-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('host keys remembered in a file', () => {
  it('keeps the first key per VM across processes, in a private file with no leftovers', async () => {
    const file = join(scratch, 'state', 'host-keys.json');
    const [first, second] = [newKey(), newKey()];
    const store = createFileHostKeyStore(file);
    expect(await store.recall('vm-1')).toBeUndefined();
    const remembered = await Promise.all([store.remember('vm-1', first), store.remember('vm-1', second)]);
    expect(remembered).toEqual([first, first]);
    await store.remember('vm-2', second);

    const later = createFileHostKeyStore(file);
    expect(await later.recall('vm-1')).toEqual(first);
    expect(await later.remember('vm-1', second)).toEqual(first);
    expect(await later.recall('vm-2')).toEqual(second);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(scratch, 'state'))).toEqual(['host-keys.json']);
  });

  it('refuses a file it did not write instead of overwriting it', async () => {
    const file = join(scratch, 'not-ours.json');
    writeFileSync(file, 'keep me');
    const error = await createFileHostKeyStore(file)
      .remember('vm-1', newKey())
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'CONFIG_INVALID', message: expect.stringContaining(file) });
    expect(readFileSync(file, 'utf8')).toBe('keep me');
  });
});
